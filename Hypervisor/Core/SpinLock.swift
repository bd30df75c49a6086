// SpinLock: the hypervisor's one big lock.
//
// Guards the guest table, vCPU slots, the page allocator and the virtual
// consoles. Held only for short decisions, never while a guest runs and never
// across a wait. It is the only lock, so there is no lock order to get wrong
// (ARCHITECTURE.md, "Locking").

import Synchronization

let bigLock = Atomic<UInt32>(0)

public enum BigLock {
    @inline(__always)
    public static func acquire() {
        while !bigLock.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            while bigLock.load(ordering: .relaxed) != 0 {}
        }
    }

    @inline(__always)
    public static func release() {
        bigLock.store(0, ordering: .releasing)
    }
}
