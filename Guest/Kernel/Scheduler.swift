// Scheduler: running Rumpk's fibers cooperatively on one hart.
//
// The scheduler loop runs on the boot stack and is nobody's fiber: it picks
// a runnable fiber, switches to it, and gets control back when that fiber
// yields, sleeps, parks or exits; then it files the fiber by its new state.
// Picking follows a harmonic pattern over the three time classes: decision
// d favours class min(trailing zeros of d, 2), so under load `system` gets
// every second decision and `interactive` and `batch` every fourth each,
// and an idle favoured class lends its turn to the first non-empty one.
// With nothing runnable the hart sleeps until the earliest sleeper's
// deadline or an interrupt event (docs/design/003-rumpk-scheduler.md). Events
// the interrupt handler posted are delivered here, between fibers, never in
// the handler: a fiber waiting for one of them becomes runnable
// (docs/design/006-virtio-and-channels.md).

import CRumpk

enum Scheduler<P: GuestPort> {
    /// Gives every slot its stack, and the switch code its save area. False if the arena is too small.
    static func setUp(_ arena: inout Arena) -> Bool {
        guard let saves = arena.take(UInt64(FiberTable.slots + 1) * 8, align: 8) else { return false }
        kernel.savedSP = saves.baseAddress!.assumingMemoryBound(to: UInt64.self)
        for f in 0..<FiberTable.slots {
            guard let stack = arena.take(FiberTable.stackBytes, align: 16) else { return false }
            let low = UInt64(UInt(bitPattern: stack.baseAddress!))
            fiberTable.fibers[f].stackLow = low
            fiberTable.fibers[f].stackHigh = low + FiberTable.stackBytes
        }
        return true
    }

    /// Starts `body` in a free slot; nil if every slot is taken. A fiber with a
    /// `joiner` stays `done` after it exits until the joiner collects it.
    static func spawn(_ body: FiberBody, _ name: StaticString, _ c: TimeClass,
                      arg: UInt64 = 0, joiner: Int = -1) -> Int? {
        var slot = -1
        for f in 0..<FiberTable.slots where fiberTable.fibers[f].state == .free { slot = f; break }
        guard slot >= 0 else { return nil }
        var fiber = fiberTable.fibers[slot]
        paint(fiber)
        fiber.state = .runnable
        fiber.timeClass = c
        fiber.body = body
        fiber.name = name
        fiber.arg = arg
        fiber.exitCode = 0
        fiber.joiner = Int8(joiner)
        fiberTable.fibers[slot] = fiber
        kernel.savedSP[slot] = rumpk_fiber_prepare(fiber.stackHigh)
        fiberTable.queues[c.rawValue].push(slot)
        if Console<P>.verbose() {
            Console<P>.say("fiber "); Console<P>.dec(UInt64(slot)); Console<P>.say(" '"); Console<P>.say(name)
            Console<P>.say("' started (class "); Console<P>.say(className(c)); Console<P>.say(")\n")
        }
        return slot
    }

    /// The scheduler loop. Never returns.
    static func run() -> Never {
        while true {
            wakeSleepers(P.counter())
            deliver(P.takeEvents())
            if let f = pick() { dispatch(f) } else { idle() }
        }
    }

    /// The harmonic choice (see the file comment).
    static func pick() -> Int? {
        fiberTable.decisions &+= 1
        let favoured = min(fiberTable.decisions.trailingZeroBitCount, TimeClass.count - 1)
        if let f = fiberTable.queues[favoured].pop() { return f }
        for c in 0..<TimeClass.count {
            if let f = fiberTable.queues[c].pop() { return f }
        }
        return nil
    }

    static func dispatch(_ f: Int) {
        fiberTable.current = f
        fiberTable.switches &+= 1
        rumpk_fiber_switch(kernel.savedSP + FiberTable.slots, kernel.savedSP[f])
        fiberTable.current = -1
        checkStack(f)
        switch fiberTable.fibers[f].state {
        case .runnable: fiberTable.queues[fiberTable.fibers[f].timeClass.rawValue].push(f)
        case .done:
            let j = Int(fiberTable.fibers[f].joiner)
            if j < 0 { fiberTable.fibers[f].state = .free } else { unpark(j) }
        case .sleeping, .parked, .free: break
        }
    }

    static func wakeSleepers(_ now: UInt64) {
        for f in 0..<FiberTable.slots where fiberTable.fibers[f].state == .sleeping && fiberTable.fibers[f].wake <= now {
            fiberTable.fibers[f].state = .runnable
            fiberTable.queues[fiberTable.fibers[f].timeClass.rawValue].push(f)
        }
    }

    /// Wakes the fibers waiting for any of `events` (an event nobody waits for is dropped:
    /// waiters check their condition before they wait, so they cannot miss it).
    static func deliver(_ events: UInt64) {
        guard events != 0 else { return }
        for f in 0..<FiberTable.slots where fiberTable.fibers[f].state == .sleeping && fiberTable.fibers[f].events & events != 0 {
            fiberTable.fibers[f].state = .runnable
            fiberTable.queues[fiberTable.fibers[f].timeClass.rawValue].push(f)
        }
    }

    /// Nothing runnable: wait for the earliest sleeper or an event (forever if neither).
    static func idle() {
        var earliest = UInt64.max
        for f in 0..<FiberTable.slots where fiberTable.fibers[f].state == .sleeping {
            earliest = min(earliest, fiberTable.fibers[f].wake)
        }
        P.idle(until: earliest)
    }

    // MARK: - Called by the running fiber.

    /// Back to the scheduler loop; returns when this fiber is picked again.
    static func leave() {
        let f = fiberTable.current
        precondition(f >= 0, "only a fiber can leave the CPU")
        rumpk_fiber_switch(kernel.savedSP + f, kernel.savedSP[FiberTable.slots])
    }

    static func yield() {
        fiberTable.fibers[fiberTable.current].state = .runnable
        leave()
    }

    static func sleep(until deadline: UInt64) {
        wait(for: 0, until: deadline)
    }

    /// Sleeps until `deadline` (UInt64.max: none) or until one of `events` is posted.
    /// Check the condition first, then wait: an event posted after the check stays in
    /// the event word until the scheduler delivers it, so it cannot be missed.
    static func wait(for events: UInt64, until deadline: UInt64) {
        let f = fiberTable.current
        fiberTable.fibers[f].wake = deadline
        fiberTable.fibers[f].events = events
        fiberTable.fibers[f].state = .sleeping
        leave()
        fiberTable.fibers[f].events = 0
    }

    /// Waits until another fiber calls `unpark` on this one (callers re-check their condition).
    static func park() {
        fiberTable.fibers[fiberTable.current].state = .parked
        leave()
    }

    static func unpark(_ f: Int) {
        guard f >= 0, f < FiberTable.slots, fiberTable.fibers[f].state == .parked else { return }
        fiberTable.fibers[f].state = .runnable
        fiberTable.queues[fiberTable.fibers[f].timeClass.rawValue].push(f)
    }

    static func exit(_ code: Int64) -> Never {
        fiberTable.fibers[fiberTable.current].exitCode = code
        fiberTable.fibers[fiberTable.current].state = .done
        leave()
        fatalError("a finished fiber was resumed")
    }

    /// Waits for fiber `f` (spawned with this fiber as joiner) to exit; frees its slot.
    static func join(_ f: Int) -> Int64 {
        while fiberTable.fibers[f].state != .done { park() }
        fiberTable.fibers[f].state = .free
        return fiberTable.fibers[f].exitCode
    }

    static var current: Int { fiberTable.current }

    // MARK: - Stacks.

    static func paint(_ fiber: Fiber) {
        var p = fiber.stackLow
        while p < fiber.stackHigh {
            UnsafeMutablePointer<UInt64>(bitPattern: UInt(p))!.pointee = p == fiber.stackLow ? FiberTable.canary : FiberTable.paint
            p += 8
        }
    }

    /// A fiber that wrote over its stack's lowest word has corrupted memory below it: stop the guest.
    static func checkStack(_ f: Int) {
        let low = fiberTable.fibers[f].stackLow
        let sp = kernel.savedSP[f]
        let canary = UnsafePointer<UInt64>(bitPattern: UInt(low))!.pointee
        if canary == FiberTable.canary && sp >= low + 64 && sp <= fiberTable.fibers[f].stackHigh { return }
        Console<P>.say("rumpk: fiber '"); Console<P>.say(fiberTable.fibers[f].name)
        Console<P>.say("' overflowed its stack\n")
        P.exit(1)
    }

    /// Deepest use of fiber `f`'s stack so far, in bytes (painted words never written).
    static func stackUsed(_ f: Int) -> UInt64 {
        var p = fiberTable.fibers[f].stackLow + 8
        while p < fiberTable.fibers[f].stackHigh && UnsafePointer<UInt64>(bitPattern: UInt(p))!.pointee == FiberTable.paint { p += 8 }
        return fiberTable.fibers[f].stackHigh - p
    }

    static func className(_ c: TimeClass) -> StaticString {
        switch c {
        case .system: "system"
        case .interactive: "interactive"
        case .batch: "batch"
        }
    }
}
