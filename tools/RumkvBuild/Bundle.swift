// Bundle: writing and checking the boot bundle the hypervisor loads.
//
// A bundle (rumabi.h, rum_bundle_*) is a 32-byte header, one 120-byte entry per
// guest, the device table (48 bytes a device) and the channel table (32 bytes a
// channel, BundleTables), then each guest's image as a flat binary at a 4 KiB aligned offset,
// followed (at the next 4 KiB boundary) by its payload store if it has
// payloads and its device tree if it boots Linux-style (GuestDeviceTree); the file is padded to a 4 KiB multiple. `make` builds it from a validated
// PartitionConfig, converting ELF images with llvm-objcopy, and writes every
// field little-endian at its rumabi.h offset. `read` (or `parse`, guests only) reads one back and checks
// everything the hypervisor relies on (it bounds-checks again at boot).

import Foundation
import RumABI

public struct BundleError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum BundleWriter {
    public static let alignment = 4096
    public static let headerSize = MemoryLayout<BundleHeader>.size
    public static let entrySize = MemoryLayout<BundleGuest>.size

    /// The bundle for `config`: `rumpk` images come from `rumpkImage`, file images relative to
    /// `configDirectory`; ELF images are flattened with the `objcopy` executable (llvm-objcopy).
    /// `sign`, when given, wraps each flat image (e.g. into a signed NPL image) before layout.
    /// Guests with `payloads` get a payload store built by `payloads` (by default a PayloadBuilder
    /// for the repository `rumpkImage` lies in, or else the current directory).
    public static func make(_ config: PartitionConfig, configDirectory: URL, rumpkImage: URL,
                            objcopy: String, payloads: PayloadBuilder? = nil,
                            sign: ((Data) throws -> Data)? = nil) throws -> Data {
        var images: [Data] = []
        var stores: [Data?] = []
        var trees: [Data?] = []
        var converted: [URL: Data] = [:]
        for g in config.guests {
            let url = config.imageURL(g, configDirectory: configDirectory, rumpkImage: rumpkImage)
            let at = "\(config.fileName):\(g.line(of: "image")): guest '\(g.name)': field 'image': "
            let image: Data
            do { image = try converted[url] ?? flatImage(url, arch: config.arch, objcopy: objcopy) } catch {
                throw BundleError(at + "\(error)")
            }
            converted[url] = image
            guard !image.isEmpty else { throw BundleError(at + "\(url.path) is empty") }
            guard UInt64(image.count) <= g.memoryForImage else {
                let room = g.imageAddress == g.ramBase ? "the guest's memory"
                    : "the guest's memory from its load address 0x\(hex(g.imageAddress))"
                throw BundleError(at + "the image is \(image.count) bytes, more than \(room) (\(ByteSize.format(g.memoryForImage)))")
            }
            images.append(try sign?(image) ?? image)
            stores.append(try store(g, config, configDirectory: configDirectory, rumpkImage: rumpkImage, payloads: payloads))
            trees.append(try deviceTree(g, config, imageSize: image.count))
        }
        return try assemble(config.guests, images, stores: stores, trees: trees,
                            devices: config.bundleDevices, channels: config.bundleChannels)
    }

    /// The device tree of a `boot = "linux"` guest, checked to fit below the end of RAM without
    /// overlapping its image; nil for a Rumpk guest.
    static func deviceTree(_ g: GuestConfig, _ config: PartitionConfig, imageSize: Int) throws -> Data? {
        guard g.boot == .linux else { return nil }
        let at = "\(config.fileName):\(g.line(of: "boot")): guest '\(g.name)': field 'boot': "
        let tree: Data
        do { tree = try GuestDeviceTree.make(g, arch: config.arch) } catch { throw BundleError(at + "\(error)") }
        let dtb = LinuxLayout.dtbAddress(ramBase: g.ramBase, memory: g.memory, dtbSize: tree.count)
        guard dtb >= g.ramBase, dtb >= g.imageAddress + UInt64(imageSize) || dtb + UInt64(tree.count) <= g.imageAddress else {
            throw BundleError(at + "no room for the \(tree.count)-byte device tree at a 2 MiB boundary below the end of RAM that misses the image (give the guest more memory)")
        }
        return tree
    }

    /// The payload store of guest `g`, checked to leave the payload window (RAM + 1 MiB) free.
    static func store(_ g: GuestConfig, _ config: PartitionConfig, configDirectory: URL, rumpkImage: URL,
                      payloads: PayloadBuilder?) throws -> Data? {
        guard !g.payloads.isEmpty else { return nil }
        let at = "\(config.fileName):\(g.line(of: "payloads")): guest '\(g.name)': field 'payloads': "
        let store: Data?
        do {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            guard let root = Builder.findRoot(from: rumpkImage) ?? Builder.findRoot(from: cwd) else {
                throw BuildError("building payloads needs the Rumkv repository (run from inside it)")
            }
            store = try (payloads ?? PayloadBuilder(root: root)).store(for: g, arch: config.arch, configDirectory: configDirectory)
        } catch { throw BundleError(at + "\(error)") }
        if let store, UInt64(align(store.count)) + ConfigLimits.payloadWindowOffset >= g.memory {
            throw BundleError(at + "the payload store is \(store.count) bytes; with the payload window at 1 MiB the guest needs more than \(ByteSize.format(g.memory))")
        }
        return store
    }

    /// Header, entries, the `devices` and `channels` tables, `images` (one per guest, already flat)
    /// and `stores` (one per guest, nil for none; default none) laid out as rumabi.h describes.
    public static func assemble(_ guests: [GuestConfig], _ images: [Data], stores: [Data?]? = nil, trees: [Data?]? = nil,
                                devices: [BundleDevice] = [], channels: [BundleChannel] = []) throws -> Data {
        precondition(guests.count == images.count)
        let stores = stores ?? Array(repeating: nil, count: guests.count)
        let trees = trees ?? Array(repeating: nil, count: guests.count)
        precondition(stores.count == guests.count && trees.count == guests.count)
        var offset = align(tablesEnd(guests: guests.count, devices: devices.count, channels: channels.count))
        var entries: [BundleGuest] = []
        for (i, (g, image)) in zip(guests, images).enumerated() {
            var e = BundleGuest()
            withUnsafeMutableBytes(of: &e.name) { $0.copyBytes(from: g.name.utf8.prefix(ConfigLimits.maxNameLength)) }
            e.image_offset = UInt32(truncatingIfNeeded: offset)
            e.image_size = UInt32(truncatingIfNeeded: image.count)
            e.memory_size = g.memory
            e.cpu_mask = g.hartMask
            e.vcpus = UInt32(g.vcpus)
            e.flags = g.flags
            e.restart_policy = g.restart.abiValue
            e.payload = g.testPayload?.number ?? 0
            offset = align(offset + image.count)
            if let store = stores[i] {
                e.store_offset = UInt32(truncatingIfNeeded: offset)
                e.store_size = UInt32(truncatingIfNeeded: store.count)
                offset = align(offset + store.count)
            }
            e.boot = g.boot.abiValue
            e.ram_base = g.ramBase
            e.entry = g.imageAddress
            e.vdevices = g.devices.reduce(0) { $0 | $1.abiBit }
            if g.devices.contains(.ns16550) { e.uart_gpa = VirtualDevice.ns16550.base }
            if let tree = trees[i] {
                e.dtb_offset = UInt32(truncatingIfNeeded: offset)
                e.dtb_size = UInt32(truncatingIfNeeded: tree.count)
                e.dtb_gpa = LinuxLayout.dtbAddress(ramBase: g.ramBase, memory: g.memory, dtbSize: tree.count)
                offset = align(offset + tree.count)
            }
            entries.append(e)
        }
        guard offset <= Int(UInt32.max) else { throw BundleError("the bundle would be \(offset) bytes, more than 4 GiB") }
        var header = BundleHeader()
        header.magic = RUM_BUNDLE_MAGIC
        header.revision = UInt16(RUM_ABI_REVISION)
        header.header_size = UInt16(headerSize)
        header.total_size = UInt32(offset)
        header.guest_count = UInt32(guests.count)
        header.guest_entry_size = UInt32(entrySize)
        header.device_count = UInt16(devices.count)
        header.channel_count = UInt16(channels.count)

        var out = encode(header)
        for e in entries { out.append(encode(e)) }
        for d in devices { out.append(encode(d)) }
        for c in channels { out.append(encode(c)) }
        for (i, (e, image)) in zip(entries, images).enumerated() {
            out.append(Data(count: Int(e.image_offset) - out.count))
            out.append(image)
            if let store = stores[i] {
                out.append(Data(count: Int(e.store_offset) - out.count))
                out.append(store)
            }
            if let tree = trees[i] {
                out.append(Data(count: Int(e.dtb_offset) - out.count))
                out.append(tree)
            }
        }
        out.append(Data(count: offset - out.count))
        return out
    }

    /// A guest image as a flat binary: ELF files through `objcopy -O binary`, anything else as is.
    static func flatImage(_ url: URL, arch: Arch, objcopy: String) throws -> Data {
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw BundleError("cannot read \(url.path): \(error.localizedDescription)")
        }
        guard GuestImageCheck.isELF(bytes) else { return bytes }
        if case .failure(let p) = GuestImageCheck.elf(bytes, arch: arch) { throw BundleError("\(url.path) \(p.text)") }
        guard FileManager.default.isExecutableFile(atPath: objcopy) else {
            throw BundleError("\(url.path) is an ELF file; flattening it needs llvm-objcopy, not found at \(objcopy)")
        }
        let flat = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-image-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: flat) }
        try run(objcopy, ["-O", "binary", url.path, flat.path])
        return try Data(contentsOf: flat)
    }

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

// MARK: - Little-endian encoding, field by field in rumabi.h order.

extension BundleWriter {
    /// The 32 bytes of `h`.
    public static func encode(_ h: BundleHeader) -> Data {
        var w = LittleEndianWriter()
        w.put(h.magic); w.put(h.revision); w.put(h.header_size); w.put(h.total_size)
        w.put(h.guest_count); w.put(h.guest_entry_size); w.put(h.flags)
        w.put(h.device_count); w.put(h.channel_count); w.put(h.reserved)
        return w.data
    }

    /// The 120 bytes of `g`.
    public static func encode(_ g: BundleGuest) -> Data {
        var w = LittleEndianWriter()
        withUnsafeBytes(of: g.name) { w.data.append(contentsOf: $0) }
        w.put(g.image_offset); w.put(g.image_size); w.put(g.memory_size); w.put(g.cpu_mask)
        w.put(g.vcpus); w.put(g.flags); w.put(g.restart_policy); w.put(g.payload)
        w.put(g.store_offset); w.put(g.store_size)
        w.put(g.boot); w.put(g.vdevices); w.put(g.ram_base); w.put(g.entry); w.put(g.dtb_gpa)
        w.put(g.dtb_offset); w.put(g.dtb_size); w.put(g.uart_gpa); w.put(g.reserved)
        return w.data
    }

    static func decodeHeader(_ b: [UInt8]) -> BundleHeader {
        var r = LittleEndianReader(bytes: b, at: 0)
        return BundleHeader(magic: r.get(), revision: r.get(), header_size: r.get(), total_size: r.get(),
                            guest_count: r.get(), guest_entry_size: r.get(), flags: r.get(),
                            device_count: r.get(), channel_count: r.get(), reserved: r.get())
    }

    static func decodeGuest(_ b: [UInt8], at offset: Int) -> BundleGuest {
        var g = BundleGuest()
        withUnsafeMutableBytes(of: &g.name) { $0.copyBytes(from: b[offset..<offset + Int(RUM_GUEST_NAME_MAX)]) }
        var r = LittleEndianReader(bytes: b, at: offset + Int(RUM_GUEST_NAME_MAX))
        g.image_offset = r.get(); g.image_size = r.get(); g.memory_size = r.get(); g.cpu_mask = r.get()
        g.vcpus = r.get(); g.flags = r.get(); g.restart_policy = r.get(); g.payload = r.get()
        g.store_offset = r.get(); g.store_size = r.get()
        g.boot = r.get(); g.vdevices = r.get(); g.ram_base = r.get(); g.entry = r.get(); g.dtb_gpa = r.get()
        g.dtb_offset = r.get(); g.dtb_size = r.get(); g.uart_gpa = r.get(); g.reserved = r.get()
        return g
    }

    /// The name of a guest entry up to its first NUL.
    public static func name(of g: BundleGuest) -> String {
        withUnsafeBytes(of: g.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

struct LittleEndianWriter {
    var data = Data()
    mutating func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
}

struct LittleEndianReader {
    let bytes: [UInt8]
    var at: Int
    /// The next `T`; the caller has checked that the bytes are there.
    mutating func get<T: FixedWidthInteger>() -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[at + i]) << (8 * i) }
        at += MemoryLayout<T>.size
        return v
    }
}

// MARK: - Reading a bundle back, checking what the hypervisor relies on.

extension BundleWriter {
    /// The header and guest entries of `data`, checked as `read` checks them.
    public static func parse(_ data: Data) throws -> (header: BundleHeader, guests: [BundleGuest]) {
        let c = try read(data)
        return (c.header, c.guests)
    }

    /// Everything in `data`'s tables, after checking the magic, revision, sizes, counts, names,
    /// image placement (aligned, inside the bundle, after the tables, not overlapping), the guest
    /// fields, and the device and channel tables as the hypervisor's BundleReader does.
    public static func read(_ data: Data) throws -> BundleContents {
        let b = [UInt8](data)
        guard b.count >= headerSize else { throw BundleError("the bundle is \(b.count) bytes, too short for its \(headerSize)-byte header") }
        let h = decodeHeader(b)
        guard h.magic == RUM_BUNDLE_MAGIC else {
            throw BundleError("bad magic 0x\(hex(h.magic)) (expected 0x\(hex(RUM_BUNDLE_MAGIC)), \"RUKB\")")
        }
        guard h.revision == RUM_ABI_REVISION else { throw BundleError("ABI revision \(h.revision), this tool knows \(RUM_ABI_REVISION)") }
        guard h.header_size == headerSize, h.guest_entry_size == entrySize else {
            throw BundleError("header_size \(h.header_size) / guest_entry_size \(h.guest_entry_size), expected \(headerSize) / \(entrySize)")
        }
        guard h.flags == 0, h.reserved == 0 else {
            throw BundleError("header flags or reserved field is not zero")
        }
        guard h.device_count <= ConfigLimits.maxDevices, h.channel_count <= ConfigLimits.maxChannels else {
            throw BundleError("device_count \(h.device_count) / channel_count \(h.channel_count), at most \(ConfigLimits.maxDevices) / \(ConfigLimits.maxChannels)")
        }
        guard (1...ConfigLimits.maxGuests).contains(Int(h.guest_count)) else {
            throw BundleError("guest_count \(h.guest_count) is out of range 1...\(ConfigLimits.maxGuests)")
        }
        guard Int(h.total_size) <= b.count else { throw BundleError("total_size is \(h.total_size) bytes but the bundle has only \(b.count)") }
        let guestsEnd = headerSize + Int(h.guest_count) * entrySize
        guard guestsEnd <= Int(h.total_size) else { throw BundleError("the guest entries end at \(guestsEnd), past total_size \(h.total_size)") }
        let tableEnd = tablesEnd(guests: Int(h.guest_count), devices: Int(h.device_count), channels: Int(h.channel_count))
        guard tableEnd <= Int(h.total_size) else {
            throw BundleError("the device and channel tables end at \(tableEnd), past total_size \(h.total_size)")
        }
        let guests = (0..<Int(h.guest_count)).map { decodeGuest(b, at: headerSize + $0 * entrySize) }
        for (i, g) in guests.enumerated() { try check(g, "guest \(i)", tableEnd: tableEnd, total: UInt64(h.total_size)) }
        try checkTogether(guests)
        let devices = (0..<Int(h.device_count)).map { decodeDevice(b, at: guestsEnd + $0 * deviceSize) }
        let channelsStart = guestsEnd + devices.count * deviceSize
        let channels = (0..<Int(h.channel_count)).map { decodeChannel(b, at: channelsStart + $0 * channelSize) }
        try checkDevices(devices, guests: guests.count)
        for (i, d) in devices.enumerated() where d.owner != RUM_DEVICE_UNOWNED {
            let g = guests[Int(d.owner)]
            guard g.vdevices & RUM_VDEV_NS16550 == 0 || d.mmio_base >= g.uart_gpa + RUM_VUART_SIZE
                    || g.uart_gpa >= d.mmio_base + d.mmio_size else {
                throw BundleError("device \(i) ('\(name(of: d))'): window covers its owner's emulated NS16550 at 0x\(hex(g.uart_gpa))")
            }
        }
        try checkChannels(channels, guests: guests.map { name(of: $0) })
        return BundleContents(header: h, guests: guests, devices: devices, channels: channels)
    }

    private static func check(_ g: BundleGuest, _ who: String, tableEnd: Int, total: UInt64) throws {
        let raw = withUnsafeBytes(of: g.name) { Array($0) }
        guard let nul = raw.firstIndex(of: 0) else { throw BundleError("\(who): name is not NUL-terminated") }
        guard raw[nul...].allSatisfy({ $0 == 0 }) else { throw BundleError("\(who): name has bytes after its NUL") }
        if let p = ConfigLimits.nameProblem(String(decoding: raw[..<nul], as: UTF8.self)) { throw BundleError("\(who): name: \(p)") }
        let who = "\(who) ('\(name(of: g))')"
        let start = UInt64(g.image_offset), end = start + UInt64(g.image_size)
        guard start % UInt64(alignment) == 0 else { throw BundleError("\(who): image offset 0x\(hex(g.image_offset)) is not 4 KiB aligned") }
        guard start >= UInt64(tableEnd) else { throw BundleError("\(who): image offset 0x\(hex(g.image_offset)) lies inside the header or entries") }
        guard g.image_size > 0 else { throw BundleError("\(who): image is empty") }
        guard end <= total else { throw BundleError("\(who): image 0x\(hex(start))..0x\(hex(end)) runs past the end of the bundle (\(total) bytes)") }
        guard ConfigLimits.memoryRange.contains(g.memory_size), g.memory_size % ConfigLimits.memoryStep == 0 else {
            throw BundleError("\(who): memory_size \(g.memory_size) is not a multiple of 2 MiB in 2 MiB...1 GiB")
        }
        guard UInt64(g.image_size) <= g.memory_size else { throw BundleError("\(who): image is larger than the guest's memory") }
        try checkBoot(g, who, tableEnd: tableEnd, total: total)
        guard ConfigLimits.vcpus.contains(Int(g.vcpus)) else { throw BundleError("\(who): vcpus \(g.vcpus) is out of range 1...8") }
        let known = RUM_GUEST_F_AUTOSTART | RUM_GUEST_F_PINNED | RUM_GUEST_F_VERBOSE | RUM_GUEST_F_TEST
        guard g.flags & ~known == 0 else { throw BundleError("\(who): unknown flags 0x\(hex(g.flags & ~known))") }
        guard g.restart_policy <= RUM_RESTART_ALWAYS else { throw BundleError("\(who): unknown restart policy \(g.restart_policy)") }
        let payloads = UInt32(TestPayload.allCases.count)
        guard g.flags & RUM_GUEST_F_TEST != 0 ? g.payload < payloads : g.payload == 0 else {
            throw BundleError("\(who): payload \(g.payload) is not valid (flags 0x\(hex(g.flags)))")
        }
        guard g.cpu_mask != 0 else { throw BundleError("\(who): cpu_mask is empty") }
        guard g.flags & RUM_GUEST_F_PINNED == 0 || g.cpu_mask.nonzeroBitCount >= Int(g.vcpus) else {
            throw BundleError("\(who): pinned with \(g.vcpus) vCPUs but only \(g.cpu_mask.nonzeroBitCount) harts")
        }
        guard g.reserved == 0 else { throw BundleError("\(who): reserved fields are not zero") }
        guard (g.store_offset == 0) == (g.store_size == 0) else {
            throw BundleError("\(who): payload store offset and size must both be zero or both be set")
        }
        guard g.store_size > 0 else { return }
        let storeStart = UInt64(g.store_offset), storeEnd = storeStart + UInt64(g.store_size)
        guard storeStart % UInt64(alignment) == 0 else { throw BundleError("\(who): payload store offset 0x\(hex(g.store_offset)) is not 4 KiB aligned") }
        guard storeStart >= UInt64(tableEnd) else { throw BundleError("\(who): payload store offset 0x\(hex(g.store_offset)) lies inside the header or entries") }
        guard storeEnd <= total else { throw BundleError("\(who): payload store 0x\(hex(storeStart))..0x\(hex(storeEnd)) runs past the end of the bundle (\(total) bytes)") }
        guard UInt64(align(Int(g.store_size))) + ConfigLimits.payloadWindowOffset < g.memory_size else {
            throw BundleError("\(who): payload store of \(g.store_size) bytes reaches below RAM + 1 MiB (the payload window)")
        }
    }

    /// The boot protocol, RAM layout, device tree and virtual devices, as BundleView checks them.
    private static func checkBoot(_ g: BundleGuest, _ who: String, tableEnd: Int, total: UInt64) throws {
        guard g.boot <= RUM_BOOT_LINUX else { throw BundleError("\(who): unknown boot protocol \(g.boot)") }
        guard g.vdevices & ~RUM_VDEV_NS16550 == 0 else { throw BundleError("\(who): unknown virtual devices 0x\(hex(g.vdevices & ~RUM_VDEV_NS16550))") }
        guard g.ram_base % (2 << 20) == 0, g.ram_base >= RUM_GUEST_RAM_GPA, g.ram_base <= RUM_GUEST_RAM_GPA_LIMIT,
              g.memory_size <= RUM_GUEST_RAM_GPA_LIMIT - g.ram_base else {
            throw BundleError("\(who): ram_base 0x\(hex(g.ram_base)) is not 2 MiB aligned in 0x\(hex(RUM_GUEST_RAM_GPA))..2^40 with its RAM")
        }
        let ramEnd = g.ram_base + g.memory_size
        guard g.entry >= g.ram_base, g.entry % 4 == 0, g.entry < ramEnd, UInt64(g.image_size) <= ramEnd - g.entry else {
            throw BundleError("\(who): entry 0x\(hex(g.entry)) with a \(g.image_size)-byte image does not fit the guest's RAM")
        }
        if g.boot == RUM_BOOT_RUMPK {
            guard g.dtb_offset == 0, g.dtb_size == 0, g.dtb_gpa == 0 else { throw BundleError("\(who): a Rumpk guest has no device tree") }
        } else {
            guard g.store_size == 0, g.flags & RUM_GUEST_F_TEST == 0 else { throw BundleError("\(who): a Linux-style guest has no payload store or test payload") }
            guard g.dtb_size > 0, g.dtb_size <= RUM_GUEST_DTB_MAX, g.dtb_offset % UInt32(alignment) == 0,
                  g.dtb_offset >= UInt32(tableEnd), UInt64(g.dtb_offset) + UInt64(g.dtb_size) <= total else {
                throw BundleError("\(who): device tree 0x\(hex(g.dtb_offset)) (\(g.dtb_size) bytes) is not a 4 KiB aligned block of at most 64 KiB inside the bundle")
            }
            guard g.dtb_gpa >= g.ram_base, g.dtb_gpa % 8 == 0, g.dtb_gpa < ramEnd, UInt64(g.dtb_size) <= ramEnd - g.dtb_gpa,
                  g.dtb_gpa >= g.entry + UInt64(g.image_size) || g.dtb_gpa + UInt64(g.dtb_size) <= g.entry else {
                throw BundleError("\(who): device tree address 0x\(hex(g.dtb_gpa)) is outside RAM or overlaps the image")
            }
        }
        if g.vdevices & RUM_VDEV_NS16550 != 0 {
            guard g.uart_gpa % RUM_VUART_SIZE == 0, g.uart_gpa <= UInt64.max - RUM_VUART_SIZE,
                  g.uart_gpa + RUM_VUART_SIZE <= RUM_GUEST_CHANNEL_GPA || g.uart_gpa >= ramEnd else {
                throw BundleError("\(who): uart_gpa 0x\(hex(g.uart_gpa)) is unaligned or overlaps the channel, SysTable or RAM windows")
            }
        } else {
            guard g.uart_gpa == 0 else { throw BundleError("\(who): uart_gpa is set without RUM_VDEV_NS16550") }
        }
    }

    /// Names are unique, images do not overlap, pinned harts are used by no other guest.
    private static func checkTogether(_ guests: [BundleGuest]) throws {
        let names = guests.map { name(of: $0) }
        if let dup = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) }) {
            throw BundleError("guest \(dup.offset) ('\(dup.element)'): name is used by an earlier guest")
        }
        // Images and payload stores: (guest, is store, start, end), sorted by start.
        var spans = guests.enumerated().map { ($0.offset, false, UInt64($0.element.image_offset), UInt64($0.element.image_offset) + UInt64($0.element.image_size)) }
        spans += guests.enumerated().filter { $0.element.store_size > 0 }.map {
            ($0.offset, true, UInt64($0.element.store_offset), UInt64($0.element.store_offset) + UInt64($0.element.store_size))
        }
        spans += guests.enumerated().filter { $0.element.dtb_size > 0 }.map {   // a device tree counts as a store here
            ($0.offset, true, UInt64($0.element.dtb_offset), UInt64($0.element.dtb_offset) + UInt64($0.element.dtb_size))
        }
        spans.sort { ($0.2, $0.1 ? 1 : 0) < ($1.2, $1.1 ? 1 : 0) }
        for (a, b) in zip(spans, spans.dropFirst()) where a.3 > b.2 {
            func what(_ s: (Int, Bool, UInt64, UInt64)) -> String { "\(s.1 ? "payload store" : "image") of guest \(s.0) ('\(names[s.0])')" }
            throw BundleError("guest \(b.0) ('\(names[b.0])'): \(b.1 ? "payload store" : "image") overlaps the \(what(a))")
        }
        for (i, g) in guests.enumerated() where g.flags & RUM_GUEST_F_PINNED != 0 {
            for (j, o) in guests.enumerated() where j != i && o.cpu_mask & g.cpu_mask != 0 {
                throw BundleError("guest \(j) ('\(names[j])'): shares a hart with pinned guest \(i) ('\(names[i])')")
            }
        }
    }

    static func hex<T: BinaryInteger>(_ v: T) -> String { String(v, radix: 16) }
}
