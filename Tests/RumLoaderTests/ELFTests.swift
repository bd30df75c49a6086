// ELFTests: the payload loader accepts a valid executable and refuses every malformed one with its reason.
//
// Each refusal test starts from ELFBuilder.standard() (three PT_LOADs in the
// window) and breaks one field; `load` tests run against a host buffer that
// stands in for the payload window.

import XCTest
@testable import RumLoader

final class ELFTests: XCTestCase {
    func assertRefused(_ bytes: [UInt8], _ expected: ELFError, machine: UInt16 = ELF.machineRISCV,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(bytes, machine: machine)
            XCTFail("accepted, expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testValidExecutable() throws {
        let image = try parse(ELFBuilder.standard().build())
        XCTAssertEqual(image.entry, 0x8010_0000)
        XCTAssertEqual(image.segmentCount, 3)
        XCTAssertEqual(image.segment(0).address, 0x8010_0000)
        XCTAssertEqual(image.segment(0).flags, 5)
        XCTAssertEqual(image.segment(2).fileSize, 8)
        XCTAssertEqual(image.segment(2).memorySize, 0x100)
    }

    func testFileHeaderRefusals() {
        let good = ELFBuilder.standard().build()
        assertRefused(Array(good.prefix(63)), .tooShort(count: 63))
        assertRefused([], .tooShort(count: 0))
        assertRefused(good.patched(1, UInt8(0x45 ^ 1)), .badMagic)
        assertRefused(good.patched(4, UInt8(1)), .notELF64(found: 1))
        assertRefused(good.patched(5, UInt8(2)), .notLittleEndian(found: 2))
        assertRefused(good.patched(6, UInt8(0)), .badVersion)
        assertRefused(good.patched(20, UInt32(2)), .badVersion)
        assertRefused(good.patched(16, UInt16(3)), .notExecutable(type: 3))    // ET_DYN
        assertRefused(good.patched(16, UInt16(1)), .notExecutable(type: 1))    // ET_REL
        assertRefused(good, .wrongMachine(found: ELF.machineRISCV), machine: ELF.machineAArch64)
        assertRefused(good.patched(52, UInt16(52)), .badHeaderSize)
        assertRefused(good.patched(54, UInt16(32)), .badHeaderSize)
        assertRefused(good.patched(56, UInt16(0)), .badProgramHeaderCount(0))
        assertRefused(good.patched(56, UInt16(33)), .badProgramHeaderCount(33))
    }

    func testProgramHeaderTableBounds() {
        let good = ELFBuilder.standard().build()
        assertRefused(good.patched(32, UInt64(good.count - 100)), .programHeadersOutOfFile)
        assertRefused(good.patched(32, UInt64.max - 8), .programHeadersOutOfFile)
        assertRefused(good.patched(56, UInt16(32)).patched(32, UInt64(good.count - 56 * 31)), .programHeadersOutOfFile)
    }

    func testSegmentRefusals() {
        let good = ELFBuilder.standard().build()
        let p1 = ELFBuilder.ph(1)
        assertRefused(good.patched(p1, UInt32(3)), .dynamic(index: 1))            // PT_INTERP
        assertRefused(good.patched(p1, UInt32(2)), .dynamic(index: 1))            // PT_DYNAMIC
        assertRefused(good.patched(p1 + 8, UInt64(good.count)), .segmentOutOfFile(index: 1))
        assertRefused(good.patched(p1 + 32, UInt64(good.count)), .segmentOutOfFile(index: 1))
        assertRefused(good.patched(p1 + 8, UInt64.max).patched(p1 + 32, UInt64(2)), .segmentOutOfFile(index: 1))
        assertRefused(good.patched(p1 + 40, UInt64(4)), .fileSizeExceedsMemorySize(index: 1))
        assertRefused(good.patched(p1 + 48, UInt64(0x1800)), .misaligned(index: 1))
        assertRefused(good.patched(p1 + 16, UInt64(0x8010_1008)), .misaligned(index: 1))
        assertRefused(good.patched(p1 + 4, UInt32(7)), .writableAndExecutable(index: 1))
        assertRefused(good.patched(ELFBuilder.ph(0) + 4, UInt32(4)), .entryNotInCode(entry: 0x8010_0000))
        assertRefused(good.patched(24, UInt64(0x8010_0040)), .entryNotInCode(entry: 0x8010_0040))   // just past the code's file bytes
        assertRefused(good.patched(24, UInt64(0x8010_1000)), .entryNotInCode(entry: 0x8010_1000))   // in data, not code
    }

    func testSegmentsOutsideTheWindow() {
        let good = ELFBuilder.standard().build()
        let p2 = ELFBuilder.ph(2)
        assertRefused(good.patched(p2 + 16, UInt64(0x800F_F000)), .outsideWindow(index: 2))       // below
        assertRefused(good.patched(p2 + 16, UInt64(0x8020_0000)), .outsideWindow(index: 2))       // at the end
        assertRefused(good.patched(p2 + 40, UInt64(0xFE001)), .outsideWindow(index: 2))           // one byte over
        assertRefused(good.patched(p2 + 40, UInt64.max), .outsideWindow(index: 2))                // wraps
        assertRefused(good.patched(p2 + 16, UInt64.max - 0xFFF).patched(p2 + 40, UInt64(0x2000)), .outsideWindow(index: 2))
        // Exactly filling the window's end is fine.
        XCTAssertNoThrow(try parse(good.patched(p2 + 40, UInt64(0xFE000))))
        // A smaller window (the store reaching below RAM + 2 MiB) refuses what the full one took.
        assertRefusedWindow(good.patched(p2 + 40, UInt64(0xFE000)), 0x8010_0000 ..< 0x8010_3000, .outsideWindow(index: 2))
    }

    func assertRefusedWindow(_ bytes: [UInt8], _ window: Range<UInt64>, _ expected: ELFError) {
        XCTAssertThrowsError(try parse(bytes, window: window)) { XCTAssertEqual($0 as? ELFError, expected) }
    }

    func testOverlappingSegments() {
        var b = ELFBuilder.standard()
        b.segments[2].vaddr = 0x8010_1000 + 8           // inside rodata's 13 bytes
        b.segments[2].align = 8
        assertRefused(b.build(), .overlap(first: 1, second: 2))
        b.segments[2].vaddr = 0x8010_1000 + 13          // right after: fine
        b.segments[2].align = 1
        XCTAssertNoThrow(try parse(b.build()))
        var c = ELFBuilder.standard()
        c.segments[0].memsz = 0x1001                    // code's BSS tail reaches rodata
        assertRefused(c.build(), .overlap(first: 0, second: 1))
    }

    func testSegmentCountsAndIgnoredHeaders() {
        var b = ELFBuilder.standard()
        b.segments.insert(.init(type: 4, flags: 4, vaddr: 0, bytes: [1, 2, 3, 4], align: 4), at: 0)       // PT_NOTE: ignored
        b.segments.append(.init(type: 0x6474_E551, flags: 6, vaddr: 0, bytes: [], align: 16))            // GNU_STACK: ignored
        b.segments.append(.init(flags: 6, vaddr: 0x8010_8000, bytes: [], memsz: 0))                      // empty PT_LOAD: ignored
        let image = try? parse(b.build())
        XCTAssertEqual(image?.segmentCount, 3)
        var none = ELFBuilder.standard()
        for i in none.segments.indices { none.segments[i].type = 4 }
        assertRefused(none.build(), .noLoadSegments)
        var many = ELFBuilder(entry: 0x8010_0000, segments: [])
        for i in 0..<9 { many.segments.append(.init(flags: i == 0 ? 5 : 4, vaddr: 0x8010_0000 + UInt64(i) * 0x1000, bytes: [0x13])) }
        assertRefused(many.build(), .tooManySegments)
    }

    func testLoadCopiesSegmentsAndZeroesBSSAndTheRest() throws {
        let file = ELFBuilder.standard().build()
        var window = [UInt8](repeating: 0xAA, count: 0x10_0000)
        let image = try file.withUnsafeBytes { f in
            try window.withUnsafeMutableBytes { w in try ELF.load(f, machine: ELF.machineRISCV, into: w, at: 0x8010_0000) }
        }
        XCTAssertEqual(image.entry, 0x8010_0000)
        XCTAssertEqual(Array(window[0..<64]), [UInt8](repeating: 0x13, count: 64))
        XCTAssertEqual(Array(window[0x1000..<0x100D]), Array("hello, rodata".utf8))
        XCTAssertEqual(Array(window[0x2000..<0x2008]), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertTrue(window[0x2008..<0x2100].allSatisfy { $0 == 0 }, "BSS is zero")
        XCTAssertTrue(window[0x2100...].allSatisfy { $0 == 0 } && window[64..<0x1000].allSatisfy { $0 == 0 },
                      "nothing of an earlier occupant survives")
    }

    func testLoadWritesNothingWhenRefused() {
        let bad = ELFBuilder.standard().build().patched(ELFBuilder.ph(2) + 16, UInt64(0x8030_0000))
        var window = [UInt8](repeating: 0xAA, count: 0x10_0000)
        XCTAssertThrowsError(try bad.withUnsafeBytes { f in
            try window.withUnsafeMutableBytes { w in try ELF.load(f, machine: ELF.machineRISCV, into: w, at: 0x8010_0000) }
        })
        XCTAssertTrue(window.allSatisfy { $0 == 0xAA }, "decode, then act: a refused file leaves the window alone")
    }

    func testReasonsAreDistinct() {
        let all: [ELFError] = [.tooShort(count: 0), .badMagic, .notELF64(found: 0), .notLittleEndian(found: 0), .badVersion,
            .notExecutable(type: 0), .wrongMachine(found: 0), .badHeaderSize, .badProgramHeaderCount(0), .programHeadersOutOfFile,
            .dynamic(index: 0), .segmentOutOfFile(index: 0), .fileSizeExceedsMemorySize(index: 0), .misaligned(index: 0),
            .outsideWindow(index: 0), .overlap(first: 0, second: 1), .writableAndExecutable(index: 0), .tooManySegments,
            .noLoadSegments, .entryNotInCode(entry: 0)]
        let texts = Set(all.map { "\($0.reason)" })
        XCTAssertEqual(texts.count, all.count)
    }

    func testMachineForNPLArch() {
        XCTAssertEqual(ELF.machine(nplArch: 0x55), ELF.machineRISCV)
        XCTAssertEqual(ELF.machine(nplArch: 0xAA), ELF.machineAArch64)
        XCTAssertEqual(ELF.machine(nplArch: 0xEE), ELF.machineX86_64)
        XCTAssertEqual(ELF.machine(nplArch: 0), 0)
    }
}
