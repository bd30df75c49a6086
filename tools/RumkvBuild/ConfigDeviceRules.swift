// ConfigDeviceRules: the checks that span devices, channels and guests.
//
// Devices: at most 8, unique names, a known owner, windows that overlap no
// other device and none of the guest-physical windows every guest already
// uses, distinct interrupts, and a QEMU hint only where QEMU can put the
// device at that window (VirtSlots). Channels: at most 8, unique names, two
// known guests, and no guest in more channels than its SysTable has slots.

import RumABI

extension ConfigDecoder {
    /// Guest-physical windows every guest has (rumabi.h, docs/abi.md): a device mapped at the same
    /// address would collide with them. On riscv64 also the virtual PLIC (Hypervisor/riscv64/Interrupts.swift).
    static func guestWindows(_ arch: Arch?) -> [(range: Range<UInt64>, what: String)] {
        var w: [(Range<UInt64>, String)] = [
            (RUM_GUEST_CHANNEL_GPA ..< RUM_GUEST_RAM_GPA + ConfigLimits.memoryRange.upperBound,
             "the guest-physical window of channels, SysTable and RAM"),
        ]
        if arch == .riscv64 { w.append((0x0C00_0000 ..< 0x0C60_0000, "the guests' virtual PLIC")) }
        if arch == .aarch64 {
            w.append((0x0800_0000 ..< 0x0801_0000, "the guests' virtual GIC distributor"))
            w.append((0x080A_0000 ..< 0x081A_0000, "the guests' virtual GIC redistributors"))
        }
        return w
    }

    mutating func checkDevices(_ devices: [DeviceConfig], tables: [ConfigTable], guestNames: [String], arch: Arch?) {
        if tables.count > ConfigLimits.maxDevices {
            report(tables[ConfigLimits.maxDevices].line, nil, nil,
                   "too many devices: \(tables.count) [[device]] tables, at most \(ConfigLimits.maxDevices)")
        }
        for (i, d) in devices.enumerated() {
            let who = "device '\(d.name)'"
            let earlier = devices[..<i]
            if let o = earlier.first(where: { $0.name == d.name }) {
                report(d.line(of: "name"), who, "name", "another device (line \(o.line)) has the same name")
            }
            if let g = d.guest, !guestNames.contains(g) {
                report(d.line(of: "guest"), who, "guest", "'\(g)' is not a guest of this partition (guests: \(guestNames.joined(separator: ", ")))")
            }
            if let o = earlier.first(where: { $0.mmio < d.end && d.mmio < $0.end }) {
                report(d.line(of: "mmio"), who, "mmio", "\(span(d)) overlaps device '\(o.name)' (line \(o.line), \(span(o)))")
            }
            for w in Self.guestWindows(arch) where w.range.overlaps(d.mmio ..< d.end) {
                report(d.line(of: "mmio"), who, "mmio",
                       "\(span(d)) overlaps \(w.what) (\(FieldValue.hex(w.range.lowerBound))..\(FieldValue.hex(w.range.upperBound)))")
            }
            if d.irq != 0, let o = earlier.first(where: { $0.irq == d.irq }) {
                report(d.line(of: "irq"), who, "irq", "irq \(d.irq) is already used by device '\(o.name)' (line \(o.line))")
            }
            if d.qemu != nil { checkSlot(d, arch: arch) }
        }
    }

    /// A QEMU-backed device must sit exactly on a virtio-mmio slot of `virt`, with its interrupt.
    private mutating func checkSlot(_ d: DeviceConfig, arch: Arch?) {
        let who = "device '\(d.name)'"
        guard let arch else { return }
        if arch == .aarch64 { return checkAArch64Slot(d) }
        guard arch == .riscv64 else {
            return report(d.line(of: "qemu"), who, "qemu",
                          "QEMU device hints are supported on riscv64 and aarch64 only (the virt machines' virtio-mmio slots)")
        }
        guard let slot = VirtSlots.slot(at: d.mmio) else {
            return report(d.line(of: "mmio"), who, "mmio",
                          "\(FieldValue.hex(d.mmio)) is not a virtio-mmio slot of QEMU's riscv64 virt machine (\(VirtSlots.listing))")
        }
        if d.size != VirtSlots.stride {
            report(d.line(of: "size"), who, "size", "a virtio-mmio slot is 4 KiB, not \(ByteSize.format(d.size))")
        }
        if d.irq != VirtSlots.irq(slot) {
            report(d.line(of: "irq"), who, "irq",
                   "virtio-mmio slot \(slot) (\(FieldValue.hex(d.mmio))) raises irq \(VirtSlots.irq(slot)), not \(d.irq)")
        }
    }

    /// aarch64 `virt`: a transport that starts a page, the whole page, its INTID.
    private mutating func checkAArch64Slot(_ d: DeviceConfig) {
        let who = "device '\(d.name)'"
        guard let slot = AArch64VirtSlots.slot(at: d.mmio) else {
            return report(d.line(of: "mmio"), who, "mmio",
                          "\(FieldValue.hex(d.mmio)) is not a page-aligned virtio-mmio transport of QEMU's aarch64 virt machine (\(AArch64VirtSlots.listing))")
        }
        if d.size != 0x1000 {
            report(d.line(of: "size"), who, "size",
                   "the owner gets the 4 KiB page of 8 virtio-mmio transports, not \(ByteSize.format(d.size))")
        }
        if d.irq != AArch64VirtSlots.irq(slot) {
            report(d.line(of: "irq"), who, "irq",
                   "virtio-mmio transport \(slot) (\(FieldValue.hex(d.mmio))) raises INTID \(AArch64VirtSlots.irq(slot)), not \(d.irq)")
        }
    }

    private func span(_ d: DeviceConfig) -> String { "\(FieldValue.hex(d.mmio))..\(FieldValue.hex(d.end))" }

    mutating func checkChannels(_ channels: [ChannelConfig], tables: [ConfigTable], guestNames: [String]) {
        if tables.count > ConfigLimits.maxChannels {
            report(tables[ConfigLimits.maxChannels].line, nil, nil,
                   "too many channels: \(tables.count) [[channel]] tables, at most \(ConfigLimits.maxChannels)")
        }
        var joined: [String: [ChannelConfig]] = [:]
        for (i, c) in channels.enumerated() {
            let who = "channel '\(c.name)'"
            if let o = channels[..<i].first(where: { $0.name == c.name }) {
                report(c.line(of: "name"), who, "name", "another channel (line \(o.line)) has the same name")
            }
            for g in [c.guestA, c.guestB] {
                guard guestNames.contains(g) else {
                    report(c.line(of: "between"), who, "between",
                           "'\(g)' is not a guest of this partition (guests: \(guestNames.joined(separator: ", ")))")
                    continue
                }
                let before = joined[g, default: []]
                if before.count == ConfigLimits.channelsPerGuest {
                    let list = before.map { "'\($0.name)' on line \($0.line)" }.joined(separator: ", ")
                    report(c.line(of: "between"), who, "between",
                           "guest '\(g)' is already in \(before.count) channels (\(list)); a guest has \(ConfigLimits.channelsPerGuest) channel slots")
                }
                joined[g] = before + [c]
            }
        }
    }
}
