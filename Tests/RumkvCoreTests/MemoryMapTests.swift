// MemoryMapTests: free memory is RAM minus every reservation, in a fixed table.
//
// Hand-made maps pin overlaps, reservations outside RAM, adjacent ranges and
// the refusals (full table, empty, wrapping, overlapping RAM); a seeded sweep
// compares `forEachFree` with a unit-by-unit bitmap of a small address space.

import XCTest
import RumkvCore
import TestSupport

final class MemoryMapTests: XCTestCase {
    func r(_ base: UInt64, _ size: UInt64) -> PhysicalRange { PhysicalRange(base: base, size: size) }
    func v(_ base: UInt64, _ size: UInt64) -> PhysicalRangeValue { PhysicalRangeValue(base: base, size: size) }

    func checkTotals(_ m: MemoryMap, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(m.totalFree, m.freeRanges.reduce(0) { $0 + $1.size }, "totalFree is the sum of forEachFree", file: file, line: line)
    }

    func testOverlappingReservations() {
        var m = MemoryMap()
        m.addRAM(r(0x1000_0000, 0x1000_0000))
        m.reserve(r(0x1000_0000, 0x10_0000), .firmware)
        m.reserve(r(0x1008_0000, 0x10_0000), .other)            // overlaps the first, extends it
        m.reserve(r(0x1002_0000, 0x1000), .deviceTree)          // inside the first
        m.reserve(r(0x1800_0000, 0x10_0000), .hypervisor)
        m.reserve(r(0x1FFF_0000, 0x100_0000), .bootModule)      // straddles the end of RAM
        XCTAssertEqual(m.freeRanges, [v(0x1018_0000, 0x7E8_0000), v(0x1810_0000, 0x7EF_0000)])
        XCTAssertEqual(m.totalRAM, 0x1000_0000)
        checkTotals(m)
    }

    func testReservationsOutsideRAM() {
        var m = MemoryMap()
        m.addRAM(r(0x8000_0000, 0x1000_0000))
        m.reserve(r(0, 0x1000), .firmware)
        m.reserve(r(0x9000_0000, 0x1000), .other)               // starts exactly at the end
        m.reserve(r(0x7FFF_F000, 0x1000), .other)               // ends exactly at the start
        XCTAssertEqual(m.freeRanges, [v(0x8000_0000, 0x1000_0000)])
        XCTAssertEqual(m.reservedCount, 3)
        checkTotals(m)
    }

    func testAdjacentRanges() {
        var m = MemoryMap()
        XCTAssertTrue(m.addRAM(r(0, 0x1000)))
        XCTAssertTrue(m.addRAM(r(0x1000, 0x1000)), "touching is not overlapping")
        XCTAssertEqual(m.freeRanges, [v(0, 0x1000), v(0x1000, 0x1000)], "free ranges stay per RAM range")
        m.reserve(r(0x800, 0x400), .other)
        m.reserve(r(0xC00, 0xC00), .other)                      // adjacent to the previous one
        XCTAssertEqual(m.freeRanges, [v(0, 0x800), v(0x1800, 0x800)])
        checkTotals(m)
    }

    func testFullTableCountsDropped() {
        var m = MemoryMap()
        for i in 0..<UInt64(MemoryMap.capacity) {
            XCTAssertTrue(m.addRAM(r(i * 0x10000, 0x1000)))
            XCTAssertTrue(m.reserve(r(i * 0x10000, 0x100), .other))
        }
        XCTAssertFalse(m.addRAM(r(0x100_0000, 0x1000)))
        XCTAssertFalse(m.reserve(r(0x100_0000, 0x1000), .other))
        XCTAssertEqual(m.ramCount, 16)
        XCTAssertEqual(m.reservedCount, 16)
        XCTAssertEqual(m.dropped, 2)
        XCTAssertEqual(m.totalFree, 16 * 0xF00)
        checkTotals(m)
    }

    func testRefusedRanges() {
        var m = MemoryMap()
        XCTAssertFalse(m.addRAM(r(0x1000, 0)), "empty")
        XCTAssertFalse(m.addRAM(r(UInt64.max - 10, 100)), "wraps")
        XCTAssertFalse(m.addRAM(r(UInt64.max - 0xFFF, 0x1000)), "end not representable")
        XCTAssertFalse(m.reserve(r(0x1000, 0), .other), "empty")
        XCTAssertEqual(m.dropped, 4)
        XCTAssertEqual(m.ramCount + m.reservedCount, 0)
    }

    /// A wrapping reservation is kept and clamped at the top: refusing it would free firmware memory.
    func testWrappingReservationCoversToTheTop() {
        var m = MemoryMap()
        m.addRAM(r(0x8000_0000, 0x1000_0000))
        XCTAssertTrue(m.reserve(r(0x8800_0000, UInt64.max), .other))
        XCTAssertEqual(m.reservedRange(0).0.end, UInt64.max)
        XCTAssertEqual(m.freeRanges, [v(0x8000_0000, 0x800_0000)])
    }

    /// Overlapping RAM (a hostile or buggy firmware) is refused, so totals cannot overflow.
    func testOverlappingRAMIsRefused() {
        var m = MemoryMap()
        XCTAssertTrue(m.addRAM(r(0, 1 << 63)))
        XCTAssertFalse(m.addRAM(r(0, 1 << 63)), "duplicate")
        XCTAssertFalse(m.addRAM(r((1 << 63) - 1, 2)), "straddles")
        XCTAssertTrue(m.addRAM(r(1 << 63, (1 << 63) - 1)))
        XCTAssertEqual(m.dropped, 2)
        XCTAssertEqual(m.totalRAM, UInt64.max)
        XCTAssertEqual(m.totalFree, UInt64.max)
        checkTotals(m)
    }

    /// Seeded maps in a 512-unit space against a bitmap.
    func testRandomMapsAgainstABitmap() {
        let seed: UInt64 = 0x4D45_4D4D_4150_0001
        var rng = SplitMix64(seed: seed)
        for i in 0..<400 {
            var m = MemoryMap()
            var bitmap = [Bool](repeating: false, count: 512)
            for _ in 0..<(1 + rng.below(5)) {
                let base = UInt64(rng.below(448)), size = UInt64(rng.below(64))
                if m.addRAM(r(base, size)) { for u in base..<(base + size) { bitmap[Int(u)] = true } }
            }
            for _ in 0..<rng.below(8) {
                let base = UInt64(rng.below(500)), size = UInt64(1 + rng.below(40))
                m.reserve(r(base, size), .other)
                for u in base..<min(base + size, 512) { bitmap[Int(u)] = false }
            }
            var fromMap = [Bool](repeating: false, count: 512)
            for f in m.freeRanges {
                XCTAssertGreaterThan(f.size, 0, "case \(i) \(SplitMix64.describe(seed))")
                for u in f.base..<(f.base + f.size) {
                    XCTAssertFalse(fromMap[Int(u)], "unit \(u) free twice, case \(i) \(SplitMix64.describe(seed))")
                    fromMap[Int(u)] = true
                }
            }
            XCTAssertEqual(fromMap, bitmap, "case \(i) \(SplitMix64.describe(seed))")
            XCTAssertEqual(m.totalFree, UInt64(bitmap.filter { $0 }.count), "case \(i) \(SplitMix64.describe(seed))")
        }
    }
}
