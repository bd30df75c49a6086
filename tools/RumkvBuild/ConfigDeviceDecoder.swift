// ConfigDeviceDecoder: the fields of [[device]] and [[channel]] tables.
//
// Each table is decoded on its own (types, ranges, which fields go together);
// tables without problems then meet the rules across tables and guests
// (ConfigDeviceRules). Guest names are taken from every [[guest]] table that
// writes one, so a typo elsewhere in a guest does not make its devices and
// channels point at an "unknown guest".

extension ConfigDecoder {
    static let deviceKeys = ["name", "mmio", "size", "irq", "guest", "dma", "qemu", "disk"]
    static let channelKeys = ["name", "between", "size"]

    mutating func decodeDevicesAndChannels(_ deviceTables: [ConfigTable], _ channelTables: [ConfigTable],
                                           guestTables: [ConfigTable], arch: Arch?) -> ([DeviceConfig], [ChannelConfig]) {
        let guestNames = guestTables.compactMap { t -> String? in
            guard let e = t.entries.first(where: { $0.key == "name" }), case .string(let s) = e.value else { return nil }
            return s
        }
        let devices = deviceTables.enumerated().compactMap { decodeDevice($0.element, index: $0.offset) }
        let channels = channelTables.enumerated().compactMap { decodeChannel($0.element, index: $0.offset) }
        checkDevices(devices, tables: deviceTables, guestNames: guestNames, arch: arch)
        checkChannels(channels, tables: channelTables, guestNames: guestNames)
        return (devices, channels)
    }

    private mutating func decodeDevice(_ t: ConfigTable, index: Int) -> DeviceConfig? {
        let who = Self.label("device", t, index: index)
        let before = found.count
        let f = fields(t, known: Self.deviceKeys, who: who)
        let name = value(f, "name", who, requiredIn: t, FieldValue.name)
        let mmio = value(f, "mmio", who, requiredIn: t, FieldValue.mmio)
        var d = DeviceConfig(name: name ?? "", mmio: mmio ?? 0)
        d.line = t.line
        d.fieldLines = f.mapValues(\.line)
        if let v = value(f, "size", who, FieldValue.deviceSize) { d.size = v }
        if let v = value(f, "irq", who, { try FieldValue.int($0, ConfigLimits.irqs) }) { d.irq = UInt32(v) }
        d.guest = value(f, "guest", who, FieldValue.string)
        d.qemu = value(f, "qemu", who) { try FieldValue.choice($0, QEMUDevice.self) }
        d.dma = value(f, "dma", who, FieldValue.bool) ?? (d.qemu != nil)
        if f["qemu"] == nil || d.qemu != nil {   // a broken 'qemu' was reported already
            decodeDisk(f, who, into: &d, headerLine: t.line)
        }
        return found.count == before ? d : nil
    }

    /// `disk`: required for a virtio-blk device, refused for any other.
    private mutating func decodeDisk(_ f: [String: ConfigEntry], _ who: String, into d: inout DeviceConfig, headerLine: Int) {
        if d.qemu == .virtioBlk {
            guard f["disk"] != nil else {
                return report(headerLine, who, "disk", "missing (a virtio-blk device needs a disk: a file or \"@scratch:SIZE\")")
            }
            d.disk = value(f, "disk", who, FieldValue.disk)
        } else if let e = f["disk"] {
            let what = d.qemu.map { "this device is qemu = \"\($0.rawValue)\"" } ?? "this device has no 'qemu'"
            report(e.line, who, "disk", "only a virtio-blk device has a disk (\(what))")
        }
    }

    private mutating func decodeChannel(_ t: ConfigTable, index: Int) -> ChannelConfig? {
        let who = Self.label("channel", t, index: index)
        let before = found.count
        let f = fields(t, known: Self.channelKeys, who: who)
        let name = value(f, "name", who, requiredIn: t, FieldValue.name)
        let between = value(f, "between", who, requiredIn: t, FieldValue.between)
        var c = ChannelConfig(name: name ?? "", guestA: between?.a ?? "", guestB: between?.b ?? "")
        c.line = t.line
        c.fieldLines = f.mapValues(\.line)
        if let v = value(f, "size", who, FieldValue.channelSize) { c.size = v }
        return found.count == before ? c : nil
    }
}

extension FieldValue {
    /// A guest, device or channel name (ConfigLimits.nameProblem).
    static func name(_ v: ConfigValue) throws -> String {
        let s = try string(v)
        if let p = ConfigLimits.nameProblem(s) { throw FieldProblem(p) }
        return s
    }

    /// A 4 KiB aligned physical address.
    static func mmio(_ v: ConfigValue) throws -> UInt64 {
        guard case .int(let n) = v else { throw FieldProblem("expected an address such as 0x10008000, found \(v.kindName)") }
        guard n >= 0 else { throw FieldProblem("\(n) is not an address (it must not be negative)") }
        guard UInt64(n) % ConfigLimits.page == 0 else { throw FieldProblem("\(hex(UInt64(n))) is not 4 KiB aligned") }
        return UInt64(n)
    }

    /// A device window: a multiple of 4 KiB, at most 1 GiB.
    static func deviceSize(_ v: ConfigValue) throws -> UInt64 {
        let (bytes, text) = try size(v)
        guard bytes % ConfigLimits.page == 0 else { throw FieldProblem("\(text) is not a multiple of 4 KiB") }
        guard bytes <= ConfigLimits.maxDeviceSize else {
            throw FieldProblem("\(text) is more than the maximum of \(ByteSize.format(ConfigLimits.maxDeviceSize))")
        }
        return bytes
    }

    /// A channel's shared memory: a multiple of 4 KiB in 4 KiB...64 KiB.
    static func channelSize(_ v: ConfigValue) throws -> UInt32 {
        let (bytes, text) = try size(v)
        let range = ConfigLimits.channelSize
        guard range.contains(bytes) else {
            throw FieldProblem("\(text) is out of range \(ByteSize.format(range.lowerBound))...\(ByteSize.format(range.upperBound))")
        }
        guard bytes % ConfigLimits.page == 0 else { throw FieldProblem("\(text) is not a multiple of 4 KiB") }
        return UInt32(bytes)
    }

    /// `between`: two different guest names, side A first.
    static func between(_ v: ConfigValue) throws -> (a: String, b: String) {
        guard case .array(let items) = v else {
            throw FieldProblem("expected the two guests it joins, such as [\"alpha\", \"beta\"], found \(v.kindName)")
        }
        let names = try items.map { item -> String in
            guard case .string(let s) = item else { throw FieldProblem("expected guest names, found \(item.kindName)") }
            return s
        }
        guard names.count == 2 else { throw FieldProblem("a channel joins exactly two guests, found \(names.count)") }
        guard names[0] != names[1] else { throw FieldProblem("a channel joins two different guests, not '\(names[0])' with itself") }
        return (names[0], names[1])
    }

    /// `disk`: a file path, or "@scratch:SIZE" (a multiple of 512 bytes, at most 1 GiB).
    static func disk(_ v: ConfigValue) throws -> DiskImage {
        let s = try string(v)
        let usage = "write a file path or \"@scratch:SIZE\", e.g. \"@scratch:1M\""
        guard !s.isEmpty else { throw FieldProblem("the path is empty (\(usage))") }
        guard s.hasPrefix("@") else { return .file(s) }
        guard s.hasPrefix("@scratch:"), let bytes = ByteSize.parse(String(s.dropFirst(9))), bytes > 0 else {
            throw FieldProblem("'\(Quote.short(s))' is not a disk (\(usage))")
        }
        guard bytes % ConfigLimits.sector == 0 else { throw FieldProblem("'\(Quote.short(s))': a disk is a multiple of 512 bytes") }
        guard bytes <= ConfigLimits.maxScratchDisk else {
            throw FieldProblem("'\(Quote.short(s))' is more than the maximum of \(ByteSize.format(ConfigLimits.maxScratchDisk))")
        }
        return .scratch(bytes)
    }

    /// "0x10008000": how messages write addresses.
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
