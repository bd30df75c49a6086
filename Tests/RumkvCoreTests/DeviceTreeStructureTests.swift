// DeviceTreeStructureTests: hand-built malformed struct blocks are refused or contained.
//
// Each case spells out one corruption with FDTWriter: unterminated names,
// property lengths past the block, bad name offsets, nesting deeper than
// `DeviceTree.maxDepth`, missing or misplaced FDT_END, stray tokens. The
// reader must throw `.malformedStructure` or answer without leaving the blob.

import XCTest
import RumkvCore

final class DeviceTreeStructureTests: XCTestCase {
    func outcome(_ w: FDTWriter, file: StaticString = #filePath, line: UInt = #line) -> HostileOutcome {
        HostileTree.exercise(w.build(), file: file, line: line)
    }

    func walkError(_ w: FDTWriter) -> DTBError? {
        let blob = w.build()
        do {
            try blob.withTree { try $0.walk { _ in true } }
            return nil
        } catch { return error as? DTBError }
    }

    func testMinimalTreeIsDiscovered() throws {
        let blob = FDTWriter.minimal().build()
        XCTAssertEqual(LibFDTReference.checkFull(blob), 0)
        XCTAssertEqual(HostileTree.exercise(blob), .walked(nodes: 5))
        let p = try blob.discover()
        XCTAssertEqual(Discovered(p), DiscoveryOracle.expected(blob))
        XCTAssertEqual(Discovered(p).ram, [PhysicalRangeValue(base: 0x8000_0000, size: 0x1000_0000)])
        XCTAssertEqual(Discovered(p).cpuIDs, [0, 1])
    }

    func testUnterminatedNodeNameAtEndOfBlock() {
        var w = FDTWriter()
        w.word(FDTWriter.beginNode)
        w.structBlock += Array("abcd".utf8)           // no NUL before the block ends
        XCTAssertEqual(walkError(w), .malformedStructure)
        XCTAssertEqual(outcome(w), .malformed)
    }

    func testNodeNameSwallowingTheNextTokens() {
        var w = FDTWriter.minimal()
        // Overwrite the root's empty name padding with letters: the name now runs into the next token.
        w.structBlock.replaceSubrange(4..<8, with: Array("root".utf8))
        XCTAssertNotEqual(outcome(w), .walked(nodes: 5))
    }

    func testPropertyLengthPastTheEnd() {
        for length: UInt32 in [0xFFFF_FFFF, 0xFFFF_FFF0, 0x7FFF_FFFF, 0x8000_0000, 13, 100] {
            var w = FDTWriter()
            w.begin("")
            w.property(nameOffset: w.stringOffset("reg"), length: length, [0, 0, 0, 1])
            w.end(); w.finish()
            XCTAssertEqual(walkError(w), .malformedStructure, "length \(length)")
            let blob = w.build()
            let reg = try? blob.withTree { dt in
                var root: DTNode?
                _ = try? dt.walk { root = $0; return false }
                return root.flatMap { dt.property($0, "reg") }
            }
            XCTAssertNil(reg ?? nil, "length \(length)")
        }
    }

    func testPropertyFillingTheBlockLeavesNoFDTEnd() {
        var w = FDTWriter()
        w.begin("")
        w.property(nameOffset: w.stringOffset("reg"), length: 4, [0, 0, 0, 1])
        XCTAssertEqual(walkError(w), .malformedStructure)
    }

    func testBadPropertyNameOffsets() throws {
        var w = FDTWriter()
        w.begin("")
        w.property(nameOffset: 0x7FFF_FFFF, length: 4, [0, 0, 0, 7])
        w.property(nameOffset: -1, length: 4, [0, 0, 0, 8])
        w.property("reg", cells: [9])
        w.end(); w.finish()
        w.strings += Array("#address-cells".utf8)        // unterminated last string
        let badName = w.strings.count - 14
        w.structBlock.insert(contentsOf: FDTWriter.be(3) + FDTWriter.be(4) + FDTWriter.be(UInt32(badName)) + FDTWriter.be(3),
                             at: 8)
        let blob = w.build()
        XCTAssertEqual(HostileTree.exercise(blob), .walked(nodes: 1))
        try blob.withTree { dt in
            var root: DTNode?
            try dt.walk { root = $0; return false }
            XCTAssertEqual(dt.property(try XCTUnwrap(root), "reg")?.cell(0), 9)
            XCTAssertNil(dt.property(try XCTUnwrap(root), "#address-cells"), "name runs off the strings block")
            XCTAssertEqual(root?.addressCells, 2, "an unreadable #address-cells is not applied")
        }
    }

    func nested(_ levels: Int) -> FDTWriter {
        var w = FDTWriter()
        for i in 0..<levels { w.begin(i == 0 ? "" : "n\(i)") }
        for _ in 0..<levels { w.end() }
        w.finish()
        return w
    }

    func testNestingLimit() {
        XCTAssertEqual(outcome(nested(DeviceTree.maxDepth + 1)), .walked(nodes: DeviceTree.maxDepth + 1))
        XCTAssertEqual(outcome(nested(DeviceTree.maxDepth + 2)), .malformed)
        XCTAssertEqual(outcome(nested(1000)), .malformed)
        XCTAssertEqual(LibFDTReference.checkFull(nested(1000).build()), 0, "libfdt allows it; we bound our stack")
    }

    func testMissingOrMisplacedEnd() {
        var noEnd = FDTWriter.minimal()
        noEnd.structBlock.removeLast(4)
        XCTAssertEqual(walkError(noEnd), .malformedStructure, "no FDT_END")

        var endInside = FDTWriter()
        endInside.begin(""); endInside.finish()
        XCTAssertEqual(walkError(endInside), .malformedStructure, "FDT_END inside the root")

        var extraEndNode = FDTWriter()
        extraEndNode.begin(""); extraEndNode.end(); extraEndNode.end(); extraEndNode.finish()
        XCTAssertEqual(walkError(extraEndNode), .malformedStructure, "one FDT_END_NODE too many")

        var empty = FDTWriter()
        empty.structBlock = []
        XCTAssertEqual(walkError(empty), .malformedStructure, "empty struct block")

        var onlyEnd = FDTWriter()
        onlyEnd.finish()
        XCTAssertEqual(outcome(onlyEnd), .walked(nodes: 0))
    }

    func testUnknownTokens() {
        for token: UInt32 in [0, 5, 8, 10, 0xFFFF_FFFF] {
            var w = FDTWriter()
            w.begin(""); w.word(token); w.end(); w.finish()
            XCTAssertEqual(walkError(w), .malformedStructure, "token \(token)")
        }
    }

    func testNOPsAreSkippedEverywhere() throws {
        func tree(outside: Bool) -> Blob {
            var w = FDTWriter()
            if outside { w.nop() }
            w.begin(""); w.nop()
            w.property("#address-cells", cells: [1]); w.nop(); w.nop()
            w.property("#size-cells", cells: [1])
            w.begin("memory@1000"); w.nop()
            w.property("device_type", string: "memory"); w.nop(); w.property("reg", cells: [0x1000, 0x2000])
            w.end(); w.nop(); w.end()
            if outside { w.nop() }
            w.finish()
            return w.build()
        }
        let blob = tree(outside: false)
        XCTAssertEqual(LibFDTReference.checkFull(blob), 0)
        let p = try blob.discover()
        XCTAssertEqual(Discovered(p).ram, [PhysicalRangeValue(base: 0x1000, size: 0x2000)])
        XCTAssertEqual(Discovered(p), DiscoveryOracle.expected(blob))
        // NOPs around the root: libfdt's fdt_check_full objects, the reader tolerates them.
        XCTAssertEqual(Discovered(try tree(outside: true).discover()), Discovered(p))
    }

    /// The struct block holds exactly one root (Devicetree Specification 5.4.2);
    /// nodes after it are never seen by libfdt or Linux and must not be used.
    func testSecondRootIsRefused() {
        var w = FDTWriter()
        w.begin(""); w.end()
        w.begin(""); w.property("#address-cells", cells: [1]); w.property("#size-cells", cells: [1])
        w.begin("memory@0"); w.property("device_type", string: "memory"); w.property("reg", cells: [0, 0x1000])
        w.end(); w.end(); w.finish()
        XCTAssertEqual(LibFDTReference.nodes(w.build()).count, 1, "libfdt stops at the first root")
        XCTAssertEqual(walkError(w), .malformedStructure)
    }

    func testMalformedCellCounts() throws {
        var w = FDTWriter()
        w.begin("")
        w.property("#address-cells", cells: [1, 1])          // 8 bytes: not a u32, ignored
        w.property("#size-cells", [])                         // empty: ignored
        w.begin("memory@0")
        w.property("device_type", string: "memory")
        w.property("reg", cells: [0, 0x4000_0000, 0x1000, 0, 0x8000_0000])   // one pair and a half
        w.end(); w.end(); w.finish()
        let blob = w.build()
        var memory: DTNode?
        try blob.withTree { try $0.walk { if $0.depth == 1 { memory = $0 }; return true } }
        XCTAssertEqual(memory?.addressCells, 2)
        XCTAssertEqual(memory?.sizeCells, 1)
        let p = try blob.discover()
        XCTAssertEqual(Discovered(p).ram, [PhysicalRangeValue(base: 0x4000_0000, size: 0x1000)])
    }

    func testReservationBlock() throws {
        var w = FDTWriter.minimal()
        w.reservations = [(0x8000_0000, 0x4_0000), (0xFFFF_FFFF_FFFF_F000, 0x2000), (0x9000_0000, 0)]
        let blob = w.build()
        var entries: [PhysicalRangeValue] = []
        try blob.withTree { $0.forEachReservation { entries.append(PhysicalRangeValue(base: $0, size: $1)) } }
        XCTAssertEqual(Array(entries.prefix(2)), LibFDTReference.memoryReservations(blob))
        let p = try blob.discover()
        XCTAssertEqual(Discovered(p).reserved.prefix(2), [PhysicalRangeValue(base: 0x8000_0000, size: 0x4_0000),
                                                          PhysicalRangeValue(base: 0xFFFF_FFFF_FFFF_F000, size: 0x2000)])
        XCTAssertFalse(Discovered(p).reserved.contains { $0.size == 0 }, "a zero-size entry reserves nothing")

        // No terminator: the block runs to totalsize and reading stops there.
        var open = FDTWriter.minimal()
        open.reservations = [(0x1000, 0x1000)]
        open.terminateReservations = false
        let unterminated = open.build()
        var n = 0
        try unterminated.withTree { $0.forEachReservation { _, _ in n += 1 } }
        XCTAssertGreaterThanOrEqual(n, 1)
        HostileTree.exercise(unterminated)
    }
}
