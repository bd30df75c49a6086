// IONStressTests: one producer thread and one consumer thread hammer a ring.
//
// Four million packets through a 256-slot ring: the consumer checks that
// packet n arrives n-th with every field intact (none lost, none duplicated,
// order kept), so a missing acquire/release pairing in ion.h shows up as a
// torn or stale slot. Each side spins briefly and then yields the CPU when
// the ring is full or empty, so the test also finishes on one core.

import Foundation
import XCTest
import RumABI

final class IONStressTests: XCTestCase {
    func testTwoThreadsMillionsOfPacketsNoneLostNoneDuplicatedInOrder() throws {
        let total: UInt64 = 4_000_000
        let ring = try IONRing.format(ringRegion(self, bytes: Int(IONRing.bytes(capacity: 256))), capacity: 256)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var fullWaits = 0
        let producer = Thread {
            var n: UInt64 = 0, spins = 0
            while n < total {
                if ring.push(packet(n)) { n += 1; spins = 0; continue }
                fullWaits += 1
                spins += 1
                if spins > 64 { sched_yield(); spins = 0 }
            }
            done.signal()
        }
        producer.start()
        var expected: UInt64 = 0, mismatches = 0, emptyWaits = 0, spins = 0
        let start = Date()
        while expected < total {
            guard let p = try ring.pop() else {
                emptyWaits += 1
                spins += 1
                if spins > 64 { sched_yield(); spins = 0 }
                continue
            }
            spins = 0
            let want = packet(expected)
            if p.arg != want.arg || p.id_lo != want.id_lo || p.id_hi != want.id_hi || p.kind != want.kind || p._pad != 0 {
                mismatches += 1
                if mismatches < 5 { XCTFail("packet \(expected): got arg \(p.arg) id \(p.id_lo)/\(p.id_hi)") }
            }
            expected += 1
        }
        done.wait()
        XCTAssertEqual(mismatches, 0)
        XCTAssertNil(try ring.pop(), "nothing extra: no packet was duplicated")
        XCTAssertEqual(ring.ring.pointee.head, total)
        XCTAssertEqual(ring.ring.pointee.tail, total)
        print("ION stress: \(total) packets in \(String(format: "%.2f", Date().timeIntervalSince(start))) s, "
              + "producer saw full \(fullWaits) times, consumer saw empty \(emptyWaits) times")
    }
}
