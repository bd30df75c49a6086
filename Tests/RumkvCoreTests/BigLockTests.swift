// BigLockTests: the big lock on host threads standing in for CPUs: mutual
// exclusion, and that a contended acquire sleeps in the port's lockWait and
// is woken by the holder's release (no lost wake-up, nobody left asleep).

import Foundation
import RumkvCore
import Synchronization
import XCTest

/// A LockHost whose CPUs are threads: lockWait blocks the thread on its own
/// semaphore (with a generous timeout that the test counts as a lost wake).
enum ThreadCPUs: LockHost {
    static let semaphores = (0..<8).map { _ in DispatchSemaphore(value: 0) }
    static let waits = Atomic<Int>(0)
    static let wakes = Atomic<Int>(0)
    static let timeouts = Atomic<Int>(0)

    static func currentCPU() -> Int { Thread.current.threadDictionary["cpu"] as? Int ?? 0 }
    static func relax() {}
    static func lockWait() {
        waits.wrappingAdd(1, ordering: .relaxed)
        if semaphores[currentCPU()].wait(timeout: .now() + 5) == .timedOut {
            timeouts.wrappingAdd(1, ordering: .relaxed)
        }
    }
    static func lockWake(_ cpus: UInt64) {
        for cpu in 0..<8 where cpus & (1 << UInt64(cpu)) != 0 {
            wakes.wrappingAdd(1, ordering: .relaxed)
            semaphores[cpu].signal()
        }
    }

    static func reset() {
        waits.store(0, ordering: .relaxed); wakes.store(0, ordering: .relaxed); timeouts.store(0, ordering: .relaxed)
        for s in semaphores { while s.wait(timeout: .now()) == .success {} }
    }
}

final class BigLockTests: XCTestCase {
    typealias Lock = BigLock<ThreadCPUs>

    func startCPU(_ cpu: Int, _ body: @escaping @Sendable () -> Void) -> Thread {
        let t = Thread { body() }
        t.threadDictionary["cpu"] = cpu
        t.start()
        return t
    }

    func testUncontendedAcquireNeverWaits() {
        ThreadCPUs.reset()
        for _ in 0..<1000 { Lock.acquire(); Lock.release() }
        XCTAssertEqual(ThreadCPUs.waits.load(ordering: .relaxed), 0)
        XCTAssertEqual(ThreadCPUs.wakes.load(ordering: .relaxed), 0)
    }

    /// A CPU that finds the lock held past its spin sleeps, and the holder's
    /// release wakes exactly that CPU, which then gets the lock.
    func testContendedAcquireSleepsAndReleaseWakesIt() {
        ThreadCPUs.reset()
        Lock.acquire()                                   // "CPU 0" (this thread) holds it
        let got = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        _ = startCPU(3) {
            Lock.acquire()
            got.store(true, ordering: .sequentiallyConsistent)
            Lock.release()
            done.signal()
        }
        let deadline = Date().addingTimeInterval(5)
        while ThreadCPUs.waits.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(ThreadCPUs.waits.load(ordering: .relaxed), 1, "the waiter sleeps instead of spinning")
        XCTAssertFalse(got.load(ordering: .sequentiallyConsistent), "held: nobody else gets it")
        Lock.release()
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(got.load(ordering: .sequentiallyConsistent))
        XCTAssertEqual(ThreadCPUs.wakes.load(ordering: .relaxed), 1, "release woke CPU 3")
        XCTAssertEqual(ThreadCPUs.timeouts.load(ordering: .relaxed), 0, "woken, not timed out")
    }

    /// Four CPUs increment a counter under the lock: none is lost, and no
    /// waiter ever had to time out (every sleep ended with a wake-up).
    func testMutualExclusionWithoutLostWakeups() {
        ThreadCPUs.reset()
        nonisolated(unsafe) var counter = 0
        let rounds = 20_000
        let done = DispatchSemaphore(value: 0)
        for cpu in 0..<4 {
            _ = startCPU(cpu) {
                for i in 0..<rounds {
                    Lock.acquire()
                    counter += 1
                    if i % 500 == 0 { usleep(50) }       // a long section now and then: others sleep
                    Lock.release()
                }
                done.signal()
            }
        }
        for _ in 0..<4 { XCTAssertEqual(done.wait(timeout: .now() + 60), .success) }
        XCTAssertEqual(counter, 4 * rounds)
        XCTAssertGreaterThan(ThreadCPUs.waits.load(ordering: .relaxed), 0, "the test did contend")
        XCTAssertEqual(ThreadCPUs.timeouts.load(ordering: .relaxed), 0, "no wake-up was lost")
    }
}
