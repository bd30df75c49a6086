// MultibootTests: the x86_64 port's multiboot2 reader on well-formed and hostile input.
//
// Well-formed information is built here tag by tag (Multiboot2 Specification
// 2.0, 3.6); hostile input is truncated, has sizes that overrun or wrap, and
// random bytes from the shared seeded generator. A bounds violation would trap
// the test process, so the fuzz loops pass only if every walk stays inside.

import XCTest
import RumkvCore
import TestSupport
@testable import X86_64Parsers

/// Builds multiboot2 boot information: header, tags (8-byte aligned), end tag.
struct MultibootBuilder {
    var tags: [UInt8] = []

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    mutating func tag(_ type: UInt32, _ payload: [UInt8]) {
        tags += MultibootBuilder.le32(type) + MultibootBuilder.le32(UInt32(8 + payload.count)) + payload
        while tags.count % 8 != 0 { tags.append(0) }
    }

    mutating func memoryMap(_ regions: [(UInt64, UInt64, UInt32)], entrySize: UInt32 = 24) {
        var p = MultibootBuilder.le32(entrySize) + MultibootBuilder.le32(0)
        for (base, length, type) in regions {
            var e = MultibootBuilder.le64(base) + MultibootBuilder.le64(length) + MultibootBuilder.le32(type) + MultibootBuilder.le32(0)
            while e.count < Int(entrySize) { e.append(0) }
            p += e
        }
        tag(MultibootTag.memoryMap.rawValue, p)
    }

    mutating func module(_ start: UInt32, _ end: UInt32, _ name: String = "bundle") {
        tag(MultibootTag.module.rawValue, MultibootBuilder.le32(start) + MultibootBuilder.le32(end) + Array(name.utf8) + [0])
    }

    func bytes(end: Bool = true) -> [UInt8] {
        var body = tags
        if end { body += MultibootBuilder.le32(0) + MultibootBuilder.le32(8) }
        return MultibootBuilder.le32(UInt32(8 + body.count)) + MultibootBuilder.le32(0) + body
    }
}

/// What a walk of valid information yields, collected for comparison.
struct MultibootWalk: Equatable {
    var regions: [[UInt64]] = []
    var modules: [[UInt64]] = []
    var rsdp: [UInt8]? = nil
    var tags = 0

    init(_ info: MultibootInfo) {
        info.forEachRegion { regions.append([$0.base, $0.length, UInt64($0.type)]) }
        info.forEachModule { modules.append([$0, $1]) }
        rsdp = info.rsdp().map { Array($0) }
        info.forEachTag { _, p in
            tags += 1
            XCTAssertGreaterThanOrEqual(p.count, 0)
            return true
        }
    }
}

func parse(_ bytes: [UInt8]) -> Result<MultibootWalk, MultibootError> {
    bytes.withUnsafeBytes { buffer in
        do throws(MultibootError) {
            return .success(MultibootWalk(try MultibootInfo(validating: buffer)))
        } catch {
            return .failure(error)
        }
    }
}

final class MultibootTests: XCTestCase {
    func wellFormed() -> MultibootBuilder {
        var b = MultibootBuilder()
        b.tag(1, Array("root=none".utf8) + [0])                         // command line, ignored
        b.memoryMap([(0, 0x9F000, 1), (0x9F000, 0x61000, 2), (0x100000, 0xFEF0000, 1)])
        b.module(0x400000, 0x410000)
        b.module(0x500000, 0x4FF000)                                  // end < start: skipped
        b.tag(MultibootTag.acpiOldRSDP.rawValue, Array("RSD PTR ".utf8) + [UInt8](repeating: 1, count: 12))
        b.tag(MultibootTag.acpiNewRSDP.rawValue, Array("RSD PTR ".utf8) + [UInt8](repeating: 2, count: 28))
        return b
    }

    func testWellFormedInformation() throws {
        let walk = try parse(wellFormed().bytes()).get()
        XCTAssertEqual(walk.regions, [[0, 0x9F000, 1], [0x9F000, 0x61000, 2], [0x100000, 0xFEF0000, 1]])
        XCTAssertEqual(walk.modules, [[0x400000, 0x410000]], "a module whose end is before its start is skipped")
        XCTAssertEqual(walk.rsdp?.count, 36, "the ACPI 2.0 RSDP is preferred")
        XCTAssertEqual(walk.rsdp?.last, 2)
        XCTAssertEqual(walk.tags, 6)
    }

    func testOldRSDPWhenThereIsNoNewOne() throws {
        var b = MultibootBuilder()
        b.tag(MultibootTag.acpiOldRSDP.rawValue, Array("RSD PTR ".utf8) + [UInt8](repeating: 1, count: 12))
        XCTAssertEqual(try parse(b.bytes()).get().rsdp?.count, 20)
        XCTAssertNil(try parse(MultibootBuilder().bytes()).get().rsdp)
    }

    func testTotalSizeAndBufferSize() throws {
        let bytes = wellFormed().bytes()
        XCTAssertEqual(bytes.withUnsafeBytes { (try? MultibootInfo(validating: $0))?.totalSize }, bytes.count)
        // Trailing bytes past total_size are not part of the information.
        XCTAssertEqual(try parse(bytes + [UInt8](repeating: 0xFF, count: 64)).get(), try parse(bytes).get())
        // A memory map whose larger entries carry extra bytes is read by its entry size.
        var b = MultibootBuilder()
        b.memoryMap([(0x100000, 0x1000, 1), (0x200000, 0x2000, 3)], entrySize: 40)
        XCTAssertEqual(try parse(b.bytes()).get().regions, [[0x100000, 0x1000, 1], [0x200000, 0x2000, 3]])
    }

    func testRefusals() {
        XCTAssertEqual(parse([]), .failure(.tooSmall))
        XCTAssertEqual(parse([UInt8](repeating: 0, count: 15)), .failure(.tooSmall))
        var bytes = wellFormed().bytes()
        XCTAssertEqual(parse(Array(bytes.dropLast(8))), .failure(.badTotalSize), "truncated below total_size")
        bytes.replaceSubrange(0..<4, with: MultibootBuilder.le32(8))
        XCTAssertEqual(parse(bytes), .failure(.badTotalSize), "total_size smaller than a header and an end tag")
        bytes.replaceSubrange(0..<4, with: MultibootBuilder.le32(0xFFFF_FFFF))
        XCTAssertEqual(parse(bytes), .failure(.badTotalSize), "total_size beyond the buffer (and the 1 MiB cap)")
        XCTAssertEqual(parse(wellFormed().bytes(end: false)), .failure(.missingEndTag))

        for size: UInt32 in [0, 7, 0xFFFF_FFF8, 0xFFFF_FFFF, 0x8000_0000] {
            var b = wellFormed().bytes()
            b.replaceSubrange(12..<16, with: MultibootBuilder.le32(size))   // the first tag's size
            XCTAssertEqual(parse(b), .failure(.malformedTag), "tag size \(size)")
        }
    }

    func testMalformedPayloadsYieldNothing() throws {
        var b = MultibootBuilder()
        b.memoryMap([(0x100000, 0x1000, 1)], entrySize: 23)            // entries smaller than the spec's 24
        b.tag(MultibootTag.memoryMap.rawValue, [1, 2, 3])              // no room for entry size/version
        b.tag(MultibootTag.module.rawValue, [1, 2, 3, 4])              // no room for the end address
        let walk = try parse(b.bytes()).get()
        XCTAssertEqual(walk.regions, [])
        XCTAssertEqual(walk.modules, [])
        // An entry size larger than the tag reads no entry rather than past it.
        var c = MultibootBuilder()
        c.tag(MultibootTag.memoryMap.rawValue, MultibootBuilder.le32(0xFFFF_FFFF) + MultibootBuilder.le32(0) + [UInt8](repeating: 7, count: 48))
        XCTAssertEqual(try parse(c.bytes()).get().regions, [])
    }

    /// Random bytes: mostly refused; anything accepted must walk without leaving the buffer.
    func testFuzzRandomBytes() {
        let seed: UInt64 = 0x6D62_3200_0000_0001
        var rng = SplitMix64(seed: seed)
        var accepted = 0
        for _ in 0..<4000 {
            let count = rng.int(0...256)
            var bytes = rng.bytes(count)
            if count >= 16, rng.below(2) == 0 {
                bytes.replaceSubrange(0..<4, with: MultibootBuilder.le32(UInt32(rng.int(16...count))))
            }
            if case .success = parse(bytes) { accepted += 1 }
        }
        XCTAssertLessThan(accepted, 4000, "random bytes are not all accepted \(SplitMix64.describe(seed))")
    }

    /// Valid information with random corruption, truncation and overwritten sizes.
    func testFuzzMutatedInformation() {
        let seed: UInt64 = 0x6D62_3200_0000_0002
        var rng = SplitMix64(seed: seed)
        let valid = wellFormed().bytes()
        var refused = 0
        for _ in 0..<5000 {
            var bytes = valid
            switch rng.below(4) {
            case 0:
                for _ in 0..<rng.int(1...8) { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                bytes = Array(bytes.prefix(rng.below(bytes.count)))
            case 2:
                // A size or length field of any tag: a 32-bit word at an 8-byte boundary + 4, or anywhere.
                let at = rng.below(2) == 0 ? 8 * rng.below(bytes.count / 8) + 4 : rng.below(bytes.count - 4)
                let word: UInt32 = [0, 7, 8, 0x7FFF_FFFF, 0xFFFF_FFF9, 0xFFFF_FFFF, UInt32(truncatingIfNeeded: rng.next())][rng.below(7)]
                bytes.replaceSubrange(at..<(at + 4), with: MultibootBuilder.le32(word))
            default:
                let at = rng.below(bytes.count)
                bytes.insert(contentsOf: rng.bytes(rng.int(1...24)), at: at)
            }
            if case .failure = parse(bytes) { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0, "some corruption is detected \(SplitMix64.describe(seed))")
    }
}
