// ConfigDevices: the config model of passed-through devices and inter-guest channels.
//
// A `[[device]]` names a platform device (an MMIO window and an interrupt) and
// the guest that owns it, or none; a `[[channel]]` names shared memory between
// two guests. Both are decoded by ConfigDeviceDecoder, checked across tables by
// ConfigDeviceRules and become the rum_bundle_device_t / rum_bundle_channel_t
// tables of the bundle (rumabi.h). A device may carry a QEMU hint saying which
// emulated device backs it; QEMUDevices turns the hints into emulator arguments.

import RumABI

/// The emulated QEMU device behind a `[[device]]` (`qemu = "..."`), riscv64 `virt` only.
public enum QEMUDevice: String, CaseIterable, Sendable {
    case virtioBlk = "virtio-blk", virtioRng = "virtio-rng", virtioNet = "virtio-net"

    /// The QEMU device model on the virtio-mmio transport.
    public var driver: String { rawValue + "-device" }
}

/// Where a virtio-blk device's disk comes from (`disk = "..."`).
public enum DiskImage: Equatable, Sendable {
    /// A file, as written: relative paths are relative to the config file. It must exist.
    case file(String)
    /// `"@scratch:SIZE"`: a zero-filled raw image of SIZE bytes, made afresh for every run.
    case scratch(UInt64)
}

public struct DeviceConfig: Equatable, Sendable {
    public var name: String
    /// Start of the MMIO window: 4 KiB aligned.
    public var mmio: UInt64
    /// Window size: a multiple of 4 KiB.
    public var size: UInt64 = ConfigLimits.page
    /// Interrupt source (PLIC), 0 = none.
    public var irq: UInt32 = 0
    /// Owning guest; nil: the device stays with the hypervisor.
    public var guest: String? = nil
    /// Bus master: the owner gets an identity DMA window (RUM_DEVICE_F_DMA).
    public var dma = false
    public var qemu: QEMUDevice? = nil
    /// virtio-blk only.
    public var disk: DiskImage? = nil
    /// Line of the `[[device]]` header, and of each field written in the file.
    public var line = 0
    public var fieldLines: [String: Int] = [:]

    public init(name: String, mmio: UInt64) { self.name = name; self.mmio = mmio }

    public func line(of field: String) -> Int { fieldLines[field] ?? line }

    /// `flags` of the bundle entry (RUM_DEVICE_F_*).
    public var flags: UInt32 { dma ? RUM_DEVICE_F_DMA : 0 }

    /// The window's end (exclusive).
    public var end: UInt64 { mmio + size }
}

public struct ChannelConfig: Equatable, Sendable {
    public var name: String
    /// Side A and side B (`between = ["a", "b"]`); different guests.
    public var guestA: String
    public var guestB: String
    /// Shared bytes: a multiple of 4 KiB, 4 KiB...64 KiB.
    public var size: UInt32 = 16 << 10
    public var line = 0
    public var fieldLines: [String: Int] = [:]

    public init(name: String, guestA: String, guestB: String) {
        self.name = name; self.guestA = guestA; self.guestB = guestB
    }

    public func line(of field: String) -> Int { fieldLines[field] ?? line }
}

extension ConfigLimits {
    public static let page: UInt64 = 4096
    public static let maxDevices = Int(RUM_BUNDLE_MAX_DEVICES)
    public static let maxChannels = Int(RUM_BUNDLE_MAX_CHANNELS)
    /// Channel slots in a guest's SysTable.
    public static let channelsPerGuest = Int(RUM_SYSTABLE_CHANNELS)
    /// Interrupt sources a guest's virtual PLIC has (0 = none).
    public static let irqs: ClosedRange<Int> = 0...63
    /// A device window is at most 1 GiB (BundleReader's bound).
    public static let maxDeviceSize: UInt64 = 1 << 30
    public static let channelSize: ClosedRange<UInt64> = 4096...RUM_GUEST_CHANNEL_STRIDE
    public static let defaultChannelSize: UInt64 = 16 << 10
    /// A scratch disk is a multiple of 512-byte sectors, at most 1 GiB.
    public static let sector: UInt64 = 512
    public static let maxScratchDisk: UInt64 = 1 << 30
}

extension PartitionConfig {
    /// Bundle index of the guest called `name`.
    func guestIndex(_ name: String) -> Int? { guests.firstIndex { $0.name == name } }

    /// The device table of the bundle, in config order.
    public var bundleDevices: [BundleDevice] {
        devices.map { d in
            var e = BundleDevice()
            withUnsafeMutableBytes(of: &e.name) { $0.copyBytes(from: d.name.utf8.prefix(ConfigLimits.maxNameLength)) }
            e.mmio_base = d.mmio
            e.mmio_size = d.size
            e.irq = d.irq
            e.owner = d.guest.flatMap(guestIndex).map(UInt32.init) ?? RUM_DEVICE_UNOWNED
            e.flags = d.flags
            return e
        }
    }

    /// The channel table of the bundle, in config order.
    public var bundleChannels: [BundleChannel] {
        channels.map { c in
            var e = BundleChannel()
            withUnsafeMutableBytes(of: &e.name) { $0.copyBytes(from: c.name.utf8.prefix(ConfigLimits.maxNameLength)) }
            e.guest_a = UInt32(guestIndex(c.guestA) ?? 0)
            e.guest_b = UInt32(guestIndex(c.guestB) ?? 0)
            e.size = c.size
            return e
        }
    }
}
