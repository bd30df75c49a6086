// ChannelRingTests: what two guests on a channel rely on, tested on the host.
//
// The channel descriptor's layout (doorbell and side in the last two bytes);
// a formatted ring is recognised only once its magic is published and stops
// being recognised when the region is wiped; and the doorbell rule loses no
// wake-up: a producer that rings when `needsWakeUp` says so and a consumer
// that waits only after `stillEmpty` never leave a packet unseen, checked
// with two threads and a semaphore as the doorbell, across many bursts.

import Foundation
import XCTest
import RumABI
import CRumABI

final class ChannelRingTests: XCTestCase {
    func testChannelDescriptorLayout() {
        XCTAssertEqual(MemoryLayout<ChannelDesc>.size, 16)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.offset(of: \.shm_base), 0x00)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.offset(of: \.shm_size), 0x08)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.offset(of: \.peer_id), 0x0C)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.offset(of: \.doorbell), 0x0E)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.offset(of: \.side), 0x0F)
        XCTAssertEqual(RUM_CHANNEL_SIDE_A, 0)
        XCTAssertEqual(RUM_CHANNEL_SIDE_B, 1)
    }

    func testFormattedUntilWiped() throws {
        let region = ringRegion(self, bytes: 448)
        let r = try IONRing.format(region, capacity: 8)
        XCTAssertTrue(r.isFormatted)
        XCTAssertNoThrow(try IONRing.attach(region))
        region.initializeMemory(as: UInt8.self, repeating: 0)      // the hypervisor restarts a side
        XCTAssertFalse(r.isFormatted)
        XCTAssertThrowsError(try IONRing.attach(region)) { XCTAssertEqual($0 as? IONError, .notARing) }
    }

    func testWakeUpNeededOnlyWhenTheConsumerCaughtUp() throws {
        let region = ringRegion(self, bytes: 448)
        let r = try IONRing.format(region, capacity: 8)
        XCTAssertTrue(r.stillEmpty())
        r.push(packet(0)); r.push(packet(1))
        XCTAssertTrue(r.needsWakeUp(afterPushing: 2), "an empty ring before the burst")
        XCTAssertFalse(r.stillEmpty())
        r.push(packet(2))
        XCTAssertFalse(r.needsWakeUp(afterPushing: 1), "the consumer has two unread packets: it is not waiting")
        _ = try r.pop(); _ = try r.pop()
        r.push(packet(3))
        XCTAssertFalse(r.needsWakeUp(afterPushing: 1), "packet 2 is still queued")
        _ = try r.pop(); _ = try r.pop()
        XCTAssertTrue(r.stillEmpty())
        r.push(packet(4))
        XCTAssertTrue(r.needsWakeUp(afterPushing: 1))
    }

    /// Producer and consumer threads; the doorbell is a semaphore. A lost wake-up leaves the
    /// consumer asleep with packets queued, and the test fails on the timeout.
    func testDoorbellRuleLosesNoWakeUp() throws {
        let region = ringRegion(self, bytes: Int(IONRing.bytes(capacity: 16)))
        let ring = try IONRing.format(region, capacity: 16)
        let total: UInt64 = 200_000
        let doorbell = DispatchSemaphore(value: 0)
        let space = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var lost = false
        nonisolated(unsafe) var received: UInt64 = 0
        let consumer = Thread {
            var expected: UInt64 = 0
            while expected < total {
                while let p = try? ring.pop() {
                    if p.arg != expected { lost = true }
                    expected += 1
                    space.signal()
                }
                if expected < total && ring.stillEmpty() {
                    if doorbell.wait(timeout: .now() + 5) == .timedOut { lost = true; break }
                }
            }
            received = expected
        }
        consumer.start()
        var sent: UInt64 = 0, rung = 0
        while sent < total && !consumer.isFinished {
            var pushed: UInt64 = 0
            while pushed < 1 + sent % 7, sent < total, ring.push(CmdPacket(kind: RUM_CMD_PING, arg: sent)) {
                sent += 1
                pushed += 1
            }
            if pushed > 0 && ring.needsWakeUp(afterPushing: pushed) { doorbell.signal(); rung += 1 }
            if pushed == 0 { _ = space.wait(timeout: .now() + 0.001) }
        }
        while !consumer.isFinished { usleep(1000) }
        XCTAssertFalse(lost, "the consumer slept through a packet or saw one out of order")
        XCTAssertEqual(received, total)
        XCTAssertLessThan(rung, Int(total), "not every burst needs the doorbell")
    }
}
