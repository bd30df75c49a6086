// ConfigDecoder: gives the keys of a parsed config their meaning.
//
// Walks the tables ConfigSyntax produced: [partition] first (guests depend on
// its hart count), then each [[guest]], then the [[device]] and [[channel]]
// tables (ConfigDeviceDecoder), checking for unknown and repeated keys, value
// types and ranges. Problems are collected rather than thrown so one run
// reports them all, and come out sorted by line. A table with any problem is
// left out of the rules across tables (ConfigRules, ConfigDeviceRules) to
// avoid follow-on messages.

import Foundation

struct ConfigDecoder {
    let fileName: String
    private(set) var found: [(line: Int, message: String)] = []

    init(fileName: String) { self.fileName = fileName }

    /// The messages so far, ordered by line (then by when they were found).
    var errors: [String] {
        found.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element.message)
    }

    mutating func report(_ line: Int, _ who: String?, _ field: String?, _ problem: String) {
        var m = "\(fileName):\(line): "
        if let who { m += "\(who): " }
        if let field { m += "field '\(field)': " }
        found.append((line, m + problem))
    }

    static let partitionKeys = ["name", "arch", "harts", "memory_limit"]
    static let guestKeys = ["name", "image", "memory", "vcpus", "harts", "pinned", "autostart",
                            "restart", "verbose", "test_payload", "payloads", "run",
                            "boot", "ram_base", "load_address", "virtual_devices", "bootargs"]

    mutating func decode(_ syntax: ConfigSyntax) -> PartitionConfig? {
        var partitionTable: ConfigTable?
        var guestTables: [ConfigTable] = []
        var deviceTables: [ConfigTable] = []
        var channelTables: [ConfigTable] = []
        var labels: [(line: Int, who: String?)] = []
        for t in syntax.tables {
            switch (t.name, t.isArray) {
            case ("", _):
                for e in t.entries { report(e.line, nil, e.key, "is outside any table (put it under [partition] or a [[guest]])") }
            case ("partition", let isArray):
                if isArray { report(t.line, nil, nil, "write [partition], not [[partition]]: a file describes one partition") }
                if let first = partitionTable { report(t.line, nil, nil, "[partition] appears twice (first on line \(first.line))") }
                else { partitionTable = t }
                labels.append((t.line, "partition"))
            case ("guest", let isArray):
                if !isArray { report(t.line, nil, nil, "write [[guest]], not [guest]: each guest is one entry of the guest array") }
                labels.append((t.line, Self.guestLabel(t, index: guestTables.count)))
                guestTables.append(t)
            case ("device", let isArray):
                if !isArray { report(t.line, nil, nil, "write [[device]], not [device]: each device is one entry of the device array") }
                labels.append((t.line, Self.label("device", t, index: deviceTables.count)))
                deviceTables.append(t)
            case ("channel", let isArray):
                if !isArray { report(t.line, nil, nil, "write [[channel]], not [channel]: each channel is one entry of the channel array") }
                labels.append((t.line, Self.label("channel", t, index: channelTables.count)))
                channelTables.append(t)
            default:
                report(t.line, nil, nil, "unknown table [\(t.name)] (expected [partition], [[guest]], [[device]] or [[channel]])")
                labels.append((t.line, nil))
            }
        }
        for e in syntax.errors {
            let who = e.key == nil ? nil : labels.last(where: { $0.line <= e.line })?.who
            report(e.line, who, e.key, e.problem)
        }
        guard let partitionTable else {
            report(1, nil, nil, "missing [partition] table (it names the partition and its architecture)")
            for (i, t) in guestTables.enumerated() { _ = decodeGuest(t, index: i, partitionHarts: nil) }
            _ = decodeDevicesAndChannels(deviceTables, channelTables, guestTables: guestTables, arch: nil)
            return nil
        }
        let head = decodePartition(partitionTable)
        var guests: [GuestConfig] = []
        for (i, t) in guestTables.enumerated() {
            if let g = decodeGuest(t, index: i, partitionHarts: head.harts) { guests.append(g) }
        }
        if guestTables.isEmpty {
            report(partitionTable.line, nil, nil, "no [[guest]] tables (a partition runs at least one guest)")
        } else if guestTables.count > ConfigLimits.maxGuests {
            report(guestTables[ConfigLimits.maxGuests].line, nil, nil,
                   "too many guests: \(guestTables.count) [[guest]] tables, at most \(ConfigLimits.maxGuests)")
        }
        checkGuests(guests, partitionHarts: head.harts, memoryLimit: head.memoryLimit,
                    complete: guests.count == guestTables.count)
        if let arch = head.arch { for g in guests { checkBoot(g, arch: arch) } }
        let (devices, channels) = decodeDevicesAndChannels(deviceTables, channelTables, guestTables: guestTables,
                                                           arch: head.arch)
        checkVirtualDeviceOverlap(guests, devices)
        guard found.isEmpty, let name = head.name, let arch = head.arch else { return nil }
        return PartitionConfig(fileName: fileName, name: name, arch: arch, harts: head.harts,
                               memoryLimit: head.memoryLimit?.bytes, guests: guests,
                               devices: devices, channels: channels)
    }

    /// "guest 'alpha'" if the table has a name string, else "guest #3".
    static func guestLabel(_ t: ConfigTable, index: Int) -> String { label("guest", t, index: index) }

    /// "`kind` 'name'" if the table has a name string, else "`kind` #n".
    static func label(_ kind: String, _ t: ConfigTable, index: Int) -> String {
        if let e = t.entries.first(where: { $0.key == "name" }), case .string(let s) = e.value, !s.isEmpty {
            return "\(kind) '\(Quote.short(s))'"
        }
        return "\(kind) #\(index + 1)"
    }

    private struct PartitionHead {
        var name: String?, arch: Arch?, harts: Int?
        var memoryLimit: (bytes: UInt64, line: Int)?
    }

    private mutating func decodePartition(_ t: ConfigTable) -> PartitionHead {
        let who = "partition"
        let f = fields(t, known: Self.partitionKeys, who: who)
        var head = PartitionHead()
        head.name = value(f, "name", who, requiredIn: t) { v in
            let s = try FieldValue.string(v)
            if let p = ConfigLimits.nameProblem(s, max: 32) { throw FieldProblem(p) }
            return s
        }
        head.arch = value(f, "arch", who, requiredIn: t) { try FieldValue.choice($0, Arch.self) }
        head.harts = value(f, "harts", who) { try FieldValue.int($0, 1...ConfigLimits.maxHarts) }
        if let limit = value(f, "memory_limit", who, { try FieldValue.size($0).bytes }) {
            head.memoryLimit = (limit, f["memory_limit"]!.line)
        }
        return head
    }

    private mutating func decodeGuest(_ t: ConfigTable, index: Int, partitionHarts: Int?) -> GuestConfig? {
        let who = Self.guestLabel(t, index: index)
        let before = found.count
        let f = fields(t, known: Self.guestKeys, who: who)
        let name = value(f, "name", who, requiredIn: t) { v in
            let s = try FieldValue.string(v)
            if let p = ConfigLimits.nameProblem(s) { throw FieldProblem(p) }
            return s
        }
        let image = value(f, "image", who, requiredIn: t) { v -> GuestImage in
            let s = try FieldValue.string(v)
            guard !s.isEmpty else { throw FieldProblem("the path is empty (write \"rumpk\" or a file path)") }
            return s == "rumpk" ? .rumpk : .file(s)
        }
        let memory = value(f, "memory", who, requiredIn: t, FieldValue.guestMemory)
        var g = GuestConfig(name: name ?? "", image: image ?? .rumpk, memory: memory ?? 0)
        g.line = t.line
        g.fieldLines = f.mapValues(\.line)
        if let v = value(f, "vcpus", who, { try FieldValue.int($0, ConfigLimits.vcpus) }) { g.vcpus = v }
        g.harts = value(f, "harts", who) { try FieldValue.harts($0, count: partitionHarts) }
            ?? partitionHarts.map { Array(0..<$0) }
        if let v = value(f, "pinned", who, FieldValue.bool) { g.pinned = v }
        if let v = value(f, "autostart", who, FieldValue.bool) { g.autostart = v }
        if let v = value(f, "verbose", who, FieldValue.bool) { g.verbose = v }
        if let v = value(f, "restart", who, { try FieldValue.choice($0, RestartPolicy.self) }) { g.restart = v }
        g.testPayload = value(f, "test_payload", who) { try FieldValue.choice($0, TestPayload.self) }
        if let v = value(f, "payloads", who, FieldValue.payloads) { g.payloads = v }
        if f["payloads"] == nil || !g.payloads.isEmpty {   // a broken 'payloads' was reported already
            g.run = value(f, "run", who) { try FieldValue.run($0, payloads: g.payloads, given: f["payloads"] != nil) }
        }
        decodeBoot(f, who, into: &g)
        return found.count == before ? g : nil
    }

    /// Fields of `table` by key, after reporting unknown and repeated keys.
    mutating func fields(_ table: ConfigTable, known: [String], who: String) -> [String: ConfigEntry] {
        var out: [String: ConfigEntry] = [:]
        for e in table.entries {
            if !known.contains(e.key) {
                report(e.line, who, e.key, "unknown field (expected one of \(known.joined(separator: ", ")))")
            } else if let first = out[e.key] {
                report(e.line, who, e.key, "set twice (first on line \(first.line))")
            } else {
                out[e.key] = e
            }
        }
        return out
    }

    /// `key` converted, or nil if it is absent (reported when it is required in `table`) or invalid (reported).
    mutating func value<T>(_ fields: [String: ConfigEntry], _ key: String, _ who: String,
                                   requiredIn table: ConfigTable? = nil, _ convert: (ConfigValue) throws -> T) -> T? {
        guard let e = fields[key] else {
            if let table, !table.brokenKeys.contains(key) { report(table.line, who, key, "missing (this field is required)") }
            return nil
        }
        do { return try convert(e.value) } catch {
            report(e.line, who, key, (error as? FieldProblem)?.problem ?? "\(error)")
            return nil
        }
    }
}
