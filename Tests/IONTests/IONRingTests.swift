// IONRingTests: an ION ring's layout, its single-threaded semantics and its refusals.
//
// The header layout is checked field by field against ion.h; push and pop
// are exercised through fill, drain, wrap-around and counters near 2^64;
// format and attach refuse bad capacities, short or misaligned regions and
// foreign headers; a ring whose counters a peer corrupted is reported, not read.

import XCTest
import RumABI
import CRumABI

/// A 64-byte aligned region for a ring, freed at the end of the test.
func ringRegion(_ test: XCTestCase, bytes: Int) -> UnsafeMutableRawBufferPointer {
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    p.initializeMemory(as: UInt8.self, repeating: 0xCC, count: bytes)
    test.addTeardownBlock { p.deallocate() }
    return UnsafeMutableRawBufferPointer(start: p, count: bytes)
}

func packet(_ n: UInt64) -> CmdPacket {
    CmdPacket(kind: RUM_CMD_SYS_EXEC, arg: n, idLow: n &* 0x9E37_79B9_7F4A_7C15, idHigh: ~n)
}

final class IONRingTests: XCTestCase {
    func testHeaderLayoutMatchesIonH() {
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.size, 192)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.magic), 0x00)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.revision), 0x04)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.slot_size), 0x06)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.capacity), 0x08)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.head), 0x40)
        XCTAssertEqual(MemoryLayout<rum_ion_ring_t>.offset(of: \.tail), 0x80)
        XCTAssertEqual(IONRing.headerSize, 192)
        XCTAssertEqual(IONRing.bytes(capacity: 8), 192 + 8 * 32)
        XCTAssertEqual(RUM_ION_MAGIC, 0x314E_4F49)
    }

    func testFormatWritesTheHeaderBytes() throws {
        let region = ringRegion(self, bytes: 448)
        _ = try IONRing.format(region, capacity: 8)
        XCTAssertEqual(Array(region[0..<16]), [0x49, 0x4F, 0x4E, 0x31, UInt8(RUM_ABI_REVISION), 0, 32, 0, 8, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertTrue(region[16..<192].allSatisfy { $0 == 0 }, "padding and counters start at zero")
    }

    func testFillDrainAndOrder() throws {
        let ring = try IONRing.format(ringRegion(self, bytes: 448), capacity: 8)
        XCTAssertNil(try ring.pop(), "a new ring is empty")
        for i in 0..<8 { XCTAssertTrue(ring.push(packet(UInt64(i)))) }
        XCTAssertFalse(ring.push(packet(99)), "push fails when full")
        XCTAssertEqual(ring.count, 8)
        for i in 0..<8 {
            let p = try XCTUnwrap(try ring.pop())
            XCTAssertEqual(p.arg, UInt64(i))
            XCTAssertEqual(p.id_lo, UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            XCTAssertEqual(p.id_hi, ~UInt64(i))
            XCTAssertEqual(p.kind, RUM_CMD_SYS_EXEC)
            XCTAssertEqual(p._pad, 0)
        }
        XCTAssertNil(try ring.pop(), "pop fails when empty")
        XCTAssertEqual(ring.count, 0)
    }

    func testWrapsAroundManyTimesAndAcrossTheCounterLimit() throws {
        let region = ringRegion(self, bytes: 192 + 4 * 32)
        let ring = try IONRing.format(region, capacity: 4)
        ring.ring.pointee.head = UInt64.max - 5     // counters are free-running: exercise their wrap
        ring.ring.pointee.tail = UInt64.max - 5
        var next: UInt64 = 0, expected: UInt64 = 0
        for round in 0..<1000 {
            let n = round % 5                       // 0...4 pushes, some failing when full
            for _ in 0..<n where ring.push(packet(next)) { next += 1 }
            for _ in 0..<(round % 3 + 1) {
                guard let p = try ring.pop() else { break }
                XCTAssertEqual(p.arg, expected)
                expected += 1
            }
            XCTAssertLessThanOrEqual(ring.count, 4)
        }
        while let p = try ring.pop() { XCTAssertEqual(p.arg, expected); expected += 1 }
        XCTAssertEqual(expected, next, "every packet pushed came out once, in order")
        XCTAssertLessThan(ring.ring.pointee.tail, UInt64(next), "the counters wrapped past 2^64")
    }

    func testFormatAndAttachRefusals() throws {
        let region = ringRegion(self, bytes: 1024)
        for bad: UInt32 in [0, 3, 6, 1 << 17] {
            XCTAssertThrowsError(try IONRing.format(region, capacity: bad)) { XCTAssertEqual($0 as? IONError, .badCapacity(bad)) }
        }
        XCTAssertThrowsError(try IONRing.format(region, capacity: 32)) {
            XCTAssertEqual($0 as? IONError, .regionTooSmall(needed: 192 + 32 * 32, available: 1024))
        }
        let shifted = UnsafeMutableRawBufferPointer(rebasing: region[8...])
        XCTAssertThrowsError(try IONRing.format(shifted, capacity: 8)) { XCTAssertEqual($0 as? IONError, .misaligned) }

        _ = try IONRing.format(region, capacity: 16)
        let attached = try IONRing.attach(region)
        XCTAssertEqual(attached.capacity, 16)
        region.storeBytes(of: UInt32(0x1234), toByteOffset: 0, as: UInt32.self)
        XCTAssertThrowsError(try IONRing.attach(region)) { XCTAssertEqual($0 as? IONError, .notARing) }
        _ = try IONRing.format(region, capacity: 16)
        region.storeBytes(of: UInt32(64), toByteOffset: 8, as: UInt32.self)     // header claims more than the region holds
        XCTAssertThrowsError(try IONRing.attach(region)) {
            XCTAssertEqual($0 as? IONError, .regionTooSmall(needed: 192 + 64 * 32, available: 1024))
        }
        XCTAssertThrowsError(try IONRing.attach(UnsafeMutableRawBufferPointer(rebasing: region[0..<100])))
    }

    func testCorruptCountersAreReportedNotRead() throws {
        let region = ringRegion(self, bytes: 448)
        let ring = try IONRing.format(region, capacity: 8)
        XCTAssertTrue(ring.push(packet(1)))
        ring.ring.pointee.tail = 9                  // a peer claims 9 queued packets in 8 slots
        XCTAssertThrowsError(try ring.pop()) { XCTAssertEqual($0 as? IONError, .corrupt) }
        XCTAssertEqual(ring.ring.pointee.head, 0, "the consumer did not move")
        XCTAssertThrowsError(try IONRing.attach(region)) { XCTAssertEqual($0 as? IONError, .corrupt) }
        // A peer rewriting the capacity field cannot widen the indexing of a side that already validated it.
        ring.ring.pointee.tail = 1
        ring.ring.pointee.capacity = 1 << 16
        XCTAssertEqual(try ring.pop()?.arg, 1)
        for i in 0..<8 { XCTAssertTrue(ring.push(packet(UInt64(i)))) }
        XCTAssertFalse(ring.push(packet(8)), "still 8 slots for this side")
    }
}
