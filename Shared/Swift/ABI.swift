// ABI: Swift names for the shared guest ABI declared in Shared/include/rumabi.h.
//
// The C header is the layout source of truth (it carries the static asserts);
// this file only gives the structures Swift names and collects the constants
// both sides use. Host tests check that Swift sees the same sizes and offsets.

@_exported import CRumABI

public typealias CmdPacket = rum_cmd_packet_t
public typealias SysTable = rum_systable_t
public typealias NPLHeader = rum_npl_header_t
public typealias MemRange = rum_mem_range_t
public typealias ChannelDesc = rum_channel_desc_t

public enum ABIRevision {
    /// Revision carried in every versioned structure.
    public static let current: UInt32 = RUM_ABI_REVISION
}

/// Command numbers carried in `CmdPacket.kind`.
public enum Command {
    public static let nop: UInt32 = RUM_CMD_NOP
    public static let ping: UInt32 = RUM_CMD_PING
    public static let pong: UInt32 = RUM_CMD_PONG
    public static let sysExec: UInt32 = RUM_CMD_SYS_EXEC
    public static let sysExit: UInt32 = RUM_CMD_SYS_EXIT
}

/// Hypercall function numbers and results (see rumabi.h for the calling convention).
public enum Hypercall {
    public static let abiVersion: UInt32 = RUM_HC_ABI_VERSION
    public static let sbiExtension: UInt32 = RUM_SBI_EXT_ID
    public static let version: UInt32 = RUM_HC_VERSION
    public static let consoleWrite: UInt32 = RUM_HC_CONSOLE_WRITE
    public static let yield: UInt32 = RUM_HC_YIELD
    public static let doorbell: UInt32 = RUM_HC_DOORBELL
    public static let exit: UInt32 = RUM_HC_EXIT
    public static let setTimer: UInt32 = RUM_HC_SET_TIMER
}

extension CmdPacket {
    /// A packet with `_pad` zeroed, as the ABI requires.
    public init(kind: UInt32, arg: UInt64, idLow: UInt64 = 0, idHigh: UInt64 = 0) {
        self.init(kind: kind, _pad: 0, arg: arg, id_lo: idLow, id_hi: idHigh)
    }
}

public typealias BundleHeader = rum_bundle_header_t
public typealias BundleGuest = rum_bundle_guest_t
public typealias BundleDevice = rum_bundle_device_t
public typealias BundleChannel = rum_bundle_channel_t
public typealias GuestDevice = rum_guest_device_t
public typealias DeviceTable = rum_device_table_t
public typealias ChannelHeader = rum_channel_header_t
public typealias IRQChip = rum_irqchip_t
