// BundleReader: validating the boot bundle (manifest + guest images).
//
// The host tool already checked the human config, but the bundle arrives from
// outside the hypervisor (the initrd), so its shape is checked again here
// before anything is trusted: magic, revision, sizes, every image inside the
// bundle, names printable and terminated. Layout: rumabi.h, docs/abi.md.

import RumABI

public enum BundleError: Error {
    case tooSmall, badMagic, badRevision, badHeaderSize, badTotalSize, tooManyGuests
    case badEntrySize, imageOutOfBounds, badName, badMemorySize, badVCPUs
    case badDevice, badChannel, badBoot

    public var reason: StaticString {
        switch self {
        case .tooSmall: "bundle smaller than its header"
        case .badMagic: "bundle magic is wrong (not a Rumkv boot bundle)"
        case .badRevision: "bundle ABI revision does not match this hypervisor"
        case .badHeaderSize: "bundle header size is wrong"
        case .badTotalSize: "bundle total size exceeds the loaded initrd"
        case .tooManyGuests: "bundle lists more guests than the hypervisor supports"
        case .badEntrySize: "bundle guest entry size is wrong"
        case .imageOutOfBounds: "a guest image lies outside the bundle"
        case .badName: "a guest name is empty, unterminated or not printable"
        case .badMemorySize: "a guest memory size is not a multiple of 2 MiB in 2 MiB..1 GiB"
        case .badVCPUs: "a guest asks for 0 or too many vCPUs, or all guests together for too many"
        case .badDevice: "a device entry is malformed (alignment, overlap, owner or irq)"
        case .badChannel: "a channel entry is malformed (guests, size or name)"
        case .badBoot: "a guest's boot protocol, RAM layout, device tree or virtual devices are malformed"
        }
    }
}

public struct BundleView {
    public let base: UInt64
    public let size: UInt64
    public let guestCount: Int
    public let deviceCount: Int
    public let channelCount: Int
    let devicesOffset: UInt64
    let channelsOffset: UInt64

    /// Validates the bundle at [base, base + size). `maxVCPUs` bounds one guest,
    /// `maxTotalVCPUs` all guests together (the hypervisor's vCPU slots).
    public init(base: UInt64, size: UInt64, maxVCPUs: Int, maxTotalVCPUs: Int = Int(RUM_BUNDLE_MAX_VCPUS)) throws(BundleError) {
        guard size >= UInt64(MemoryLayout<BundleHeader>.size),
              let raw = UnsafeRawPointer(bitPattern: UInt(base)) else { throw .tooSmall }
        let h = raw.loadUnaligned(as: BundleHeader.self)
        guard h.magic == RUM_BUNDLE_MAGIC else { throw .badMagic }
        guard UInt32(h.revision) == RUM_ABI_REVISION else { throw .badRevision }
        guard Int(h.header_size) == MemoryLayout<BundleHeader>.size else { throw .badHeaderSize }
        guard UInt64(h.total_size) <= size, h.total_size >= UInt32(h.header_size) else { throw .badTotalSize }
        guard h.guest_count <= UInt32(RUM_BUNDLE_MAX_GUESTS) else { throw .tooManyGuests }
        guard Int(h.guest_entry_size) == MemoryLayout<BundleGuest>.size else { throw .badEntrySize }
        guard h.device_count <= UInt16(RUM_BUNDLE_MAX_DEVICES) else { throw .badDevice }
        guard h.channel_count <= UInt16(RUM_BUNDLE_MAX_CHANNELS) else { throw .badChannel }
        let guestsEnd = UInt64(h.header_size) + UInt64(h.guest_count) * UInt64(h.guest_entry_size)
        let devicesEnd = guestsEnd + UInt64(h.device_count) * UInt64(MemoryLayout<BundleDevice>.size)
        let entriesEnd = devicesEnd + UInt64(h.channel_count) * UInt64(MemoryLayout<BundleChannel>.size)
        guard entriesEnd <= UInt64(h.total_size) else { throw .badTotalSize }
        self.base = base
        self.size = UInt64(h.total_size)
        self.guestCount = Int(h.guest_count)
        self.deviceCount = Int(h.device_count)
        self.channelCount = Int(h.channel_count)
        self.devicesOffset = guestsEnd
        self.channelsOffset = devicesEnd
        var totalVCPUs = 0
        for i in 0..<guestCount {
            let g = guest(i)
            totalVCPUs += Int(g.vcpus)
            guard g.image_size > 0, UInt64(g.image_offset) >= entriesEnd,
                  UInt64(g.image_offset) + UInt64(g.image_size) <= self.size,
                  UInt64(g.image_size) <= g.memory_size else { throw .imageOutOfBounds }
            guard g.memory_size >= 2 << 20, g.memory_size <= 1 << 30, g.memory_size % (2 << 20) == 0 else {
                throw .badMemorySize
            }
            guard g.vcpus >= 1, Int(g.vcpus) <= maxVCPUs else { throw .badVCPUs }
            if g.store_size > 0 {
                guard UInt64(g.store_offset) >= entriesEnd,
                      UInt64(g.store_offset) + UInt64(g.store_size) <= self.size,
                      UInt64(g.store_size) < g.memory_size else { throw .imageOutOfBounds }
            }
            guard BundleView.validName(g.name) else { throw .badName }
            guard BundleView.validBoot(g, tablesEnd: entriesEnd, bundleSize: self.size) else { throw .badBoot }
        }
        guard totalVCPUs <= maxTotalVCPUs else { throw .badVCPUs }
        try checkDevices()
        try checkChannels()
    }

    public func device(_ i: Int) -> BundleDevice {
        UnsafeRawPointer(bitPattern: UInt(base + devicesOffset + UInt64(i * MemoryLayout<BundleDevice>.size)))!
            .loadUnaligned(as: BundleDevice.self)
    }

    public func channel(_ i: Int) -> BundleChannel {
        UnsafeRawPointer(bitPattern: UInt(base + channelsOffset + UInt64(i * MemoryLayout<BundleChannel>.size)))!
            .loadUnaligned(as: BundleChannel.self)
    }

    /// The boot fields of one guest entry: a known protocol, RAM at a 2 MiB aligned base at or
    /// above RUM_GUEST_RAM_GPA ending by RUM_GUEST_RAM_GPA_LIMIT, the image inside RAM from its
    /// entry; a Linux-style guest's device tree inside the bundle and inside RAM, clear of the
    /// image, and no payload store; a virtual UART clear of RAM, the SysTable and the channels.
    static func validBoot(_ g: BundleGuest, tablesEnd: UInt64, bundleSize: UInt64) -> Bool {
        guard g.boot <= RUM_BOOT_LINUX, g.vdevices & ~RUM_VDEV_NS16550 == 0, g.reserved == 0,
              g.ram_base & ((2 << 20) - 1) == 0, g.ram_base >= RUM_GUEST_RAM_GPA, g.ram_base <= RUM_GUEST_RAM_GPA_LIMIT,
              g.memory_size <= RUM_GUEST_RAM_GPA_LIMIT - g.ram_base else { return false }
        let ramEnd = g.ram_base + g.memory_size
        let image = UInt64(g.image_size)
        guard g.entry >= g.ram_base, g.entry & 3 == 0, g.entry < ramEnd, image <= ramEnd - g.entry else { return false }
        if g.boot == RUM_BOOT_RUMPK {
            guard g.dtb_size == 0, g.dtb_offset == 0, g.dtb_gpa == 0 else { return false }
        } else {
            let dtb = UInt64(g.dtb_size)
            guard g.store_size == 0, dtb > 0, dtb <= UInt64(RUM_GUEST_DTB_MAX), g.dtb_offset & 0xFFF == 0,
                  UInt64(g.dtb_offset) >= tablesEnd, UInt64(g.dtb_offset) + dtb <= bundleSize,
                  g.dtb_gpa >= g.ram_base, g.dtb_gpa & 7 == 0, g.dtb_gpa < ramEnd, dtb <= ramEnd - g.dtb_gpa,
                  g.dtb_gpa >= g.entry + image || g.dtb_gpa + dtb <= g.entry else { return false }
        }
        if g.vdevices & RUM_VDEV_NS16550 != 0 {
            guard g.uart_gpa & (RUM_VUART_SIZE - 1) == 0, g.uart_gpa <= UInt64.max - RUM_VUART_SIZE,
                  g.uart_gpa + RUM_VUART_SIZE <= RUM_GUEST_CHANNEL_GPA || g.uart_gpa >= ramEnd else { return false }
        } else {
            guard g.uart_gpa == 0 else { return false }
        }
        return true
    }

    /// Devices: page aligned, no overlap, a known owner, a plausible irq, a valid name.
    func checkDevices() throws(BundleError) {
        for i in 0..<deviceCount {
            let d = device(i)
            guard d.mmio_base & 0xFFF == 0, d.mmio_size > 0, d.mmio_size & 0xFFF == 0,
                  d.mmio_size <= 1 << 30, d.mmio_base <= UInt64.max - d.mmio_size,
                  d.irq < 1024, d.reserved == 0,
                  d.owner == RUM_DEVICE_UNOWNED || d.owner < UInt32(guestCount),
                  BundleView.validName(d.name) else { throw .badDevice }
            if d.owner != RUM_DEVICE_UNOWNED {          // an owner's device may not hide its virtual UART
                let g = guest(Int(d.owner))
                guard g.vdevices & RUM_VDEV_NS16550 == 0 || d.mmio_base >= g.uart_gpa + RUM_VUART_SIZE
                        || g.uart_gpa >= d.mmio_base + d.mmio_size else { throw .badDevice }
            }
            for j in 0..<i {
                let o = device(j)
                guard d.mmio_base >= o.mmio_base + o.mmio_size || o.mmio_base >= d.mmio_base + d.mmio_size,
                      d.irq == 0 || d.irq != o.irq else { throw .badDevice }
            }
        }
    }

    /// Channels: two different known guests, 4 KiB..64 KiB, a valid name.
    func checkChannels() throws(BundleError) {
        for i in 0..<channelCount {
            let c = channel(i)
            guard c.guest_a < UInt32(guestCount), c.guest_b < UInt32(guestCount), c.guest_a != c.guest_b,
                  c.size >= 4096, c.size <= UInt32(RUM_GUEST_CHANNEL_STRIDE), c.size & 0xFFF == 0,
                  c.reserved == 0, BundleView.validName(c.name) else { throw .badChannel }
        }
    }

    public func guest(_ i: Int) -> BundleGuest {
        let off = UInt64(MemoryLayout<BundleHeader>.size) + UInt64(i) * UInt64(MemoryLayout<BundleGuest>.size)
        return UnsafeRawPointer(bitPattern: UInt(base + off))!.loadUnaligned(as: BundleGuest.self)
    }

    static func validName(_ name: PaddedName) -> Bool {
        withUnsafeBytes(of: name) { n in
            guard n[0] != 0 else { return false }
            var ended = false
            for b in n {
                if b == 0 { ended = true; continue }
                if ended { return false }
                let ok = (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 95
                if !ok { return false }
            }
            return ended
        }
    }
}
