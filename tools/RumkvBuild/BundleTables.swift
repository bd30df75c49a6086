// BundleTables: the device and channel tables of the boot bundle.
//
// They follow the guest entries: `device_count` rum_bundle_device_t (48 bytes)
// then `channel_count` rum_bundle_channel_t (32 bytes), before the first image
// (rumabi.h). Encoded field by field little-endian, and checked on reading with
// the rules of the hypervisor's BundleReader (checkDevices / checkChannels),
// plus a few it leaves to the tool (known flags, unique names, irq range,
// channel slots per guest), so a bundle `read` accepts the hypervisor accepts.

import Foundation
import RumABI

/// A bundle's tables as `BundleWriter.read` returns them.
public struct BundleContents {
    public var header: BundleHeader
    public var guests: [BundleGuest]
    public var devices: [BundleDevice]
    public var channels: [BundleChannel]
}

extension BundleWriter {
    public static let deviceSize = MemoryLayout<BundleDevice>.size
    public static let channelSize = MemoryLayout<BundleChannel>.size

    /// Where the header, guest entries, device and channel tables end (images start at the next 4 KiB).
    static func tablesEnd(guests: Int, devices: Int, channels: Int) -> Int {
        headerSize + guests * entrySize + devices * deviceSize + channels * channelSize
    }

    /// The 48 bytes of `d`.
    public static func encode(_ d: BundleDevice) -> Data {
        var w = LittleEndianWriter()
        withUnsafeBytes(of: d.name) { w.data.append(contentsOf: $0) }
        w.put(d.mmio_base); w.put(d.mmio_size); w.put(d.irq); w.put(d.owner); w.put(d.flags); w.put(d.reserved)
        return w.data
    }

    /// The 32 bytes of `c`.
    public static func encode(_ c: BundleChannel) -> Data {
        var w = LittleEndianWriter()
        withUnsafeBytes(of: c.name) { w.data.append(contentsOf: $0) }
        w.put(c.guest_a); w.put(c.guest_b); w.put(c.size); w.put(c.reserved)
        return w.data
    }

    static func decodeDevice(_ b: [UInt8], at offset: Int) -> BundleDevice {
        var d = BundleDevice()
        withUnsafeMutableBytes(of: &d.name) { $0.copyBytes(from: b[offset..<offset + Int(RUM_GUEST_NAME_MAX)]) }
        var r = LittleEndianReader(bytes: b, at: offset + Int(RUM_GUEST_NAME_MAX))
        d.mmio_base = r.get(); d.mmio_size = r.get(); d.irq = r.get(); d.owner = r.get(); d.flags = r.get(); d.reserved = r.get()
        return d
    }

    static func decodeChannel(_ b: [UInt8], at offset: Int) -> BundleChannel {
        var c = BundleChannel()
        withUnsafeMutableBytes(of: &c.name) { $0.copyBytes(from: b[offset..<offset + Int(RUM_GUEST_NAME_MAX)]) }
        var r = LittleEndianReader(bytes: b, at: offset + Int(RUM_GUEST_NAME_MAX))
        c.guest_a = r.get(); c.guest_b = r.get(); c.size = r.get(); c.reserved = r.get()
        return c
    }

    public static func name(of d: BundleDevice) -> String { string(d.name) }
    public static func name(of c: BundleChannel) -> String { string(c.name) }

    private static func string<T>(_ name: T) -> String {
        withUnsafeBytes(of: name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// A table name: NUL-terminated, NUL-padded, and valid by the guest name rules.
    private static func checkName<T>(_ raw: T, _ who: String) throws {
        let bytes = withUnsafeBytes(of: raw) { Array($0) }
        guard let nul = bytes.firstIndex(of: 0) else { throw BundleError("\(who): name is not NUL-terminated") }
        guard bytes[nul...].allSatisfy({ $0 == 0 }) else { throw BundleError("\(who): name has bytes after its NUL") }
        if let p = ConfigLimits.nameProblem(String(decoding: bytes[..<nul], as: UTF8.self)) { throw BundleError("\(who): name: \(p)") }
    }

    /// Devices: valid unique names, page-aligned non-overlapping windows of at most 1 GiB,
    /// distinct interrupts in 0...63, a known owner or none, known flags, reserved zero.
    static func checkDevices(_ devices: [BundleDevice], guests: Int) throws {
        for (i, d) in devices.enumerated() {
            try checkName(d.name, "device \(i)")
            let who = "device \(i) ('\(name(of: d))')"
            let page = ConfigLimits.page
            guard d.mmio_base % page == 0, d.mmio_size > 0, d.mmio_size % page == 0,
                  d.mmio_size <= ConfigLimits.maxDeviceSize, d.mmio_base <= UInt64.max - d.mmio_size else {
                throw BundleError("\(who): window 0x\(hex(d.mmio_base)) + 0x\(hex(d.mmio_size)) is not a non-empty 4 KiB aligned window of at most 1 GiB")
            }
            guard ConfigLimits.irqs.contains(Int(d.irq)) else { throw BundleError("\(who): irq \(d.irq) is out of range 0...63") }
            guard d.owner == RUM_DEVICE_UNOWNED || d.owner < UInt32(guests) else {
                throw BundleError("\(who): owner \(d.owner) is not a guest (\(guests) guests) nor RUM_DEVICE_UNOWNED")
            }
            guard d.flags & ~RUM_DEVICE_F_DMA == 0 else { throw BundleError("\(who): unknown flags 0x\(hex(d.flags & ~RUM_DEVICE_F_DMA))") }
            guard d.reserved == 0 else { throw BundleError("\(who): reserved field is not zero") }
            for (j, o) in devices[..<i].enumerated() {
                let other = "device \(j) ('\(name(of: o))')"
                guard name(of: o) != name(of: d) else { throw BundleError("\(who): name is used by \(other)") }
                guard d.mmio_base >= o.mmio_base + o.mmio_size || o.mmio_base >= d.mmio_base + d.mmio_size else {
                    throw BundleError("\(who): window overlaps \(other)")
                }
                guard d.irq == 0 || d.irq != o.irq else { throw BundleError("\(who): irq \(d.irq) is also \(other)'s") }
            }
        }
    }

    /// Channels: valid unique names, two different known guests, 4 KiB...64 KiB in whole pages,
    /// reserved zero, and no guest in more channels than its SysTable has slots.
    static func checkChannels(_ channels: [BundleChannel], guests: [String]) throws {
        var slots = [Int](repeating: 0, count: guests.count)
        for (i, c) in channels.enumerated() {
            try checkName(c.name, "channel \(i)")
            let who = "channel \(i) ('\(name(of: c))')"
            guard c.guest_a < UInt32(guests.count), c.guest_b < UInt32(guests.count), c.guest_a != c.guest_b else {
                throw BundleError("\(who): guests \(c.guest_a) and \(c.guest_b) are not two different guests of \(guests.count)")
            }
            guard ConfigLimits.channelSize.contains(UInt64(c.size)), UInt64(c.size) % ConfigLimits.page == 0 else {
                throw BundleError("\(who): size \(c.size) is not a multiple of 4 KiB in 4 KiB...64 KiB")
            }
            guard c.reserved == 0 else { throw BundleError("\(who): reserved field is not zero") }
            if let o = channels[..<i].firstIndex(where: { name(of: $0) == name(of: c) }) {
                throw BundleError("\(who): name is used by channel \(o)")
            }
            for g in [Int(c.guest_a), Int(c.guest_b)] {
                slots[g] += 1
                guard slots[g] <= ConfigLimits.channelsPerGuest else {
                    throw BundleError("\(who): guest \(g) ('\(guests[g])') is in more than \(ConfigLimits.channelsPerGuest) channels")
                }
            }
        }
    }
}
