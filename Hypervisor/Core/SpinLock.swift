// SpinLock: the hypervisor's one big lock.
//
// Guards the guest table, vCPU slots, the page allocator and the virtual
// consoles. Held only for short decisions, never while a guest runs and never
// across a wait. It is the only lock, so there is no lock order to get wrong
// (ARCHITECTURE.md, "Locking").
//
// Contended, a CPU spins a little, then sleeps in the port's `lockWait`
// (riscv64: wfi, woken by an IPI; aarch64: wfe, woken by sev) with its bit
// in `lockWaiters`; `release` wakes the CPUs whose bits it sees. Sleeping
// rather than spinning matters where CPUs share one host thread (QEMU with
// -icount runs them round-robin): a spinning CPU would keep the thread, and
// so the lock holder off it, until the next timer deadline, milliseconds
// later. No wake-up is lost: a waiter publishes its bit before it looks at
// the lock a last time, and `release` clears the lock before it reads the
// bits (both sequentially consistent, so neither can miss the other); a
// port's wait must return at once if a wake arrived before it slept.

import Synchronization

let bigLock = Atomic<UInt32>(0)
let lockWaiters = Atomic<UInt64>(0)

/// What the big lock needs of a CPU: who it is and how it waits.
public protocol LockHost {
    /// Index of the calling CPU (0 ..< 64).
    static func currentCPU() -> Int
    /// A spin-wait hint (pause / yield).
    static func relax()
    /// Sleeps until `lockWake` names this CPU, or a while (a bounded wait).
    static func lockWait()
    /// Wakes the CPUs in `cpus` (bit i = CPU i) from `lockWait`.
    static func lockWake(_ cpus: UInt64)
}

extension LockHost {
    /// Ports whose CPUs each have a host thread of their own just spin.
    public static func lockWait() { relax() }
    public static func lockWake(_ cpus: UInt64) {}
}

public enum BigLock<A: LockHost> {
    /// Spins before a contended acquire sleeps: long enough for a short
    /// critical section on real hardware, short under instruction counting.
    static var spinLimit: Int { 64 }

    @inline(__always)
    public static func acquire() {
        if bigLock.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
        contended()
    }

    @inline(never)
    static func contended() {
        var spins = 0
        while true {
            while bigLock.load(ordering: .relaxed) != 0 {
                spins += 1
                if spins < spinLimit { A.relax(); continue }
                let me = UInt64(1) << UInt64(A.currentCPU() & 63)
                lockWaiters.bitwiseOr(me, ordering: .sequentiallyConsistent)
                if bigLock.load(ordering: .sequentiallyConsistent) != 0 { A.lockWait() }
                lockWaiters.bitwiseAnd(~me, ordering: .sequentiallyConsistent)
                spins = 0
            }
            if bigLock.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
        }
    }

    @inline(__always)
    public static func release() {
        bigLock.store(0, ordering: .sequentiallyConsistent)
        let waiting = lockWaiters.load(ordering: .sequentiallyConsistent)
        if waiting != 0 { A.lockWake(waiting) }
    }
}
