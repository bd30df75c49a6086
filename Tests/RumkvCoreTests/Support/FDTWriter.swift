// FDTWriter: builds flattened device trees token by token, malformed on request.
//
// libfdt's writer refuses to produce broken trees, so the structural
// corruption tests (unterminated names, lengths past the end, missing FDT_END,
// deep nesting) spell out the struct block here. Layout: header, reservation
// block at 0x28, struct block, strings block (Devicetree Specification 5.1).

struct FDTWriter {
    static let beginNode: UInt32 = 1, endNode: UInt32 = 2, prop: UInt32 = 3, nop: UInt32 = 4, end: UInt32 = 9

    var structBlock: [UInt8] = []
    var strings: [UInt8] = []
    var reservations: [(UInt64, UInt64)] = []
    /// Omit the (0, 0) terminator of the reservation block.
    var terminateReservations = true

    mutating func word(_ w: UInt32) { structBlock += Self.be(w) }

    mutating func begin(_ name: String) {
        word(Self.beginNode)
        structBlock += Array(name.utf8) + [0]
        pad()
    }

    mutating func end() { word(Self.endNode) }
    mutating func nop() { word(Self.nop) }
    mutating func finish() { word(Self.end) }

    mutating func property(_ name: String, _ value: [UInt8]) {
        property(nameOffset: stringOffset(name), length: UInt32(value.count), value)
    }

    mutating func property(_ name: String, cells: [UInt32]) { property(name, cells.flatMap(Self.be)) }
    mutating func property(_ name: String, string: String) { property(name, Array(string.utf8) + [0]) }

    /// A property record with an arbitrary name offset and recorded length.
    mutating func property(nameOffset: Int, length: UInt32, _ value: [UInt8]) {
        word(Self.prop); word(length); word(UInt32(truncatingIfNeeded: nameOffset))
        structBlock += value
        pad()
    }

    mutating func stringOffset(_ name: String) -> Int {
        let bytes = Array(name.utf8) + [0]
        if let r = strings.firstRange(of: bytes), r.lowerBound == 0 || strings[r.lowerBound - 1] == 0 {
            return r.lowerBound
        }
        strings += bytes
        return strings.count - bytes.count
    }

    mutating func pad() { while structBlock.count % 4 != 0 { structBlock.append(0) } }

    /// The finished blob, with `extra` zero bytes after the strings block.
    func build(extra: Int = 0) -> Blob {
        var rsv: [UInt8] = reservations.flatMap { Self.be64($0.0) + Self.be64($0.1) }
        if terminateReservations { rsv += [UInt8](repeating: 0, count: 16) }
        let offRsv = 40, offStruct = offRsv + rsv.count, offStrings = offStruct + structBlock.count
        let total = offStrings + strings.count + extra
        var h: [UInt8] = []
        for w in [0xD00D_FEED, total, offStruct, offStrings, offRsv, 17, 16, 0, strings.count, structBlock.count] {
            h += Self.be(UInt32(w))
        }
        return Blob(h + rsv + structBlock + strings + [UInt8](repeating: 0, count: extra))
    }

    static func be(_ w: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * UInt32($0))) } }
    static func be64(_ w: UInt64) -> [UInt8] { be(UInt32(w >> 32)) + be(UInt32(truncatingIfNeeded: w)) }

    /// A small valid machine: 2 cells, one memory node, two CPUs.
    static func minimal() -> FDTWriter {
        var w = FDTWriter()
        w.begin("")
        w.property("#address-cells", cells: [2]); w.property("#size-cells", cells: [2])
        w.begin("memory@80000000")
        w.property("device_type", string: "memory"); w.property("reg", cells: [0, 0x8000_0000, 0, 0x1000_0000])
        w.end()
        w.begin("cpus")
        w.property("#address-cells", cells: [1]); w.property("#size-cells", cells: [0])
        for i in 0..<2 {
            w.begin("cpu@\(i)"); w.property("device_type", string: "cpu"); w.property("reg", cells: [UInt32(i)]); w.end()
        }
        w.end()
        w.end()
        w.finish()
        return w
    }
}
