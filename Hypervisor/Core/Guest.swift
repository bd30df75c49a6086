// Guest: one partition's record in the guest table.
//
// The architecture-independent part of a guest: identity, configuration from
// the bundle, lifecycle state, memory it owns while it exists, counters and
// its last fault. vCPU register state lives apart (see Machine).

import RumABI

public enum GuestState: UInt8 {
    /// `starting`: being built (RAM reserved and filled outside the lock, not yet runnable).
    case stopped, running, paused, crashed, refused, starting

    public var label: StaticString {
        switch self {
        case .stopped: "stopped"
        case .running: "running"
        case .paused: "paused"
        case .crashed: "crashed"
        case .refused: "refused"
        case .starting: "starting"
        }
    }
}

/// Why and where a guest last stopped abnormally.
public struct FaultRecord {
    public var kind: FaultKind = .unknown
    public var valid = false
    public var pc: UInt64 = 0
    public var address: UInt64 = 0
    public var access: Access = .read
    public var at: UInt64 = 0
    public init() {}

    public init(_ kind: FaultKind, pc: UInt64, address: UInt64 = 0, at: UInt64) {
        self.kind = kind; valid = true; self.pc = pc; self.address = address; self.at = at
    }
}

public struct GuestRecord {
    public var id = 0
    public var config = BundleGuest()
    public var imageAddress: UInt64 = 0
    public var state: GuestState = .stopped
    /// Host-physical RAM while the guest exists (0 when stopped).
    public var ramHost: UInt64 = 0
    public var sysTableHost: UInt64 = 0
    public var restarts: UInt32 = 0
    public var startedAt: UInt64 = 0
    public var exits: InlineArray<11, UInt64> = .init(repeating: 0)
    public var lastFault = FaultRecord()
    /// `lastFault` ended the current or last instance (the next SysTable reports it).
    public var faultEndedLastInstance = false
    /// Time from the last fault to the new instance's first output (counter ticks).
    public var lastRestartLatency: UInt64 = 0
    public var awaitingFirstOutput = false
    /// Verified image body in the bundle (0 until the first successful check).
    public var bodyAddress: UInt64 = 0
    public var bodySize: UInt64 = 0
    /// Why the image was refused, when state == .refused.
    public var refusal: ImageRefusal? = nil
    /// While .starting: the hart filling its memory, -1 until a hart claims it.
    public var builder = -1
    /// The new instance runs next on the hart that builds it (blink recovery);
    /// false for a crash loop (an instance that died within 10 ms).
    public var blink = false
    public init() {}

    public var ramSize: UInt64 { config.memory_size }
    /// Guest-physical base of its RAM (RUM_GUEST_RAM_GPA unless the config moved it).
    public var ramBase: UInt64 { config.ram_base }
    /// Boots by Linux's convention (a0 = hart id, a1 = device tree), not Rumpk's SysTable.
    public var bootsLinux: Bool { config.boot == RUM_BOOT_LINUX }
    /// Its emulated NS16550 window, if it has one.
    public var uartWindow: GuestRegion {
        config.vdevices & RUM_VDEV_NS16550 != 0 ? GuestRegion(base: GuestPhysicalAddress(config.uart_gpa), size: RUM_VUART_SIZE) : .empty
    }
    public var flags: GuestFlags { GuestFlags(rawValue: config.flags) }
    public var vcpuCount: Int { Int(config.vcpus) }

    /// Maps a guest-physical range onto host memory if it lies wholly in guest
    /// RAM (no wrap-around: `length` is checked before it is added).
    public func translate(_ gpa: GuestPhysicalAddress, length: UInt64) -> HostPhysicalAddress? {
        guard ramHost != 0, gpa.value >= ramBase, length <= ramSize else { return nil }
        let offset = gpa.value - ramBase
        guard offset <= ramSize - length else { return nil }
        return HostPhysicalAddress(ramHost + offset)
    }

    public func nameIs(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        withPaddedName(config.name) { n in n.count == word.count && n.elementsEqual(word) }
    }

    public func withName<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withPaddedName(config.name, body)
    }
}

/// A guest's configuration flags (RUM_GUEST_F_* in rumabi.h).
public struct GuestFlags: OptionSet {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let autostart = GuestFlags(rawValue: RUM_GUEST_F_AUTOSTART)
    public static let pinned = GuestFlags(rawValue: RUM_GUEST_F_PINNED)
    public static let verbose = GuestFlags(rawValue: RUM_GUEST_F_VERBOSE)
    public static let test = GuestFlags(rawValue: RUM_GUEST_F_TEST)
}
