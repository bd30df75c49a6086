// Scheduler: each hart's loop that runs vCPUs in time slices.
//
// Round robin over the vCPU slots a hart may run (hart mask), skipping guests
// that are not running or have an action pending. A picked vCPU runs until
// its slice ends, re-entered directly after exits that leave it runnable. Hart
// 0 also serves the console between exits. A vCPU waiting in wfi becomes
// runnable when its own timer is due or it has a pending interrupt.

import RumABI

extension Machine {
    /// Picks the next runnable vCPU for hart `h` and marks it running there.
    mutating func pick(_ h: Int, now: UInt64) -> Int? {
        guard vcpuCount > 0 else { return nil }
        for step in 1...vcpuCount {
            let k = (lastPicked[h] + step) % vcpuCount
            let v = vcpus[k]
            guard v.runningOn < 0, v.hartMask & (1 << UInt64(h)) != 0,
                  guests[v.guest].state == .running, pending[v.guest] == .none else { continue }
            switch v.state {
            case .offline: continue
            case .waiting:
                guard A.vcpuWakeable(regsOf(k), now: now) else { continue }
                vcpus[k].state = .runnable
            case .runnable: break
            }
            vcpus[k].runningOn = h
            lastPicked[h] = k
            return k
        }
        return nil
    }

    /// Earliest wake-up among waiting vCPUs hart `h` may run.
    mutating func nextWake(_ h: Int) -> UInt64 {
        var t = UInt64.max
        for k in 0..<vcpuCount where vcpus[k].state == .waiting && vcpus[k].hartMask & (1 << UInt64(h)) != 0 {
            t = min(t, A.vcpuTimerDeadline(regsOf(k)))
        }
        return t
    }
}

public enum Scheduler<A: GuestHosting> {
    typealias M = Machine<A>

    static var sliceTicks: UInt64 { A.counterFrequency * M.sliceMicros / 1_000_000 }

    /// The loop every hart runs once the machine is up. Never returns.
    public static func runHart(_ h: Int) -> Never {
        let m = M.shared
        while true {
            if h == 0 { ConsoleService<A>.poll() }
            BigLock.acquire()
            if let g = m.pointee.claimBuild(h) {
                BigLock.release()
                build(g, hart: h)
                continue
            }
            let now = A.counter()
            let picked = m.pointee.pick(h, now: now)
            let wake = picked == nil ? m.pointee.nextWake(h) : 0
            BigLock.release()
            guard let k = picked else {
                A.idle(until: min(now + sliceTicks, wake))
                if A.externalInterruptPending() {
                    BigLock.acquire()
                    A.serviceInterrupts()
                    BigLock.release()
                }
                continue
            }
            // A hart a pinned guest owns runs only that guest; the slice tick there
            // just lets the hypervisor look in (its vCPU is picked again at once).
            runSlice(k, hart: h, until: now + sliceTicks)
        }
    }

    /// Phases 2 and 3 of creating guest `g`, claimed by hart `h`: its memory is
    /// filled without the lock, then it is finished under the lock. With blink
    /// priority its vCPU 0 runs next here, if it may run on this hart.
    static func build(_ g: Int, hart h: Int) {
        let m = M.shared
        BigLock.acquire()
        let job = m.pointee.building(g)
        BigLock.release()
        job.fill()
        BigLock.acquire()
        do {
            try m.pointee.finish(g)
            for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g && m.pointee.vcpus[k].index == 0 {
                if m.pointee.guests[g].blink && m.pointee.vcpus[k].hartMask & (1 << UInt64(h)) != 0 {
                    m.pointee.lastPicked[h] = (k + m.pointee.vcpuCount - 1) % m.pointee.vcpuCount
                } else {
                    m.pointee.kick(k)     // another hart runs it
                }
            }
        } catch {}
        m.pointee.settle(g)               // a stop or restart asked for while it was built
        BigLock.release()
    }

    /// Runs vCPU slot `k` on hart `h` until its slice ends or it blocks.
    static func runSlice(_ k: Int, hart h: Int, until sliceEnd: UInt64) {
        let m = M.shared
        let g = m.pointee.vcpus[k].guest
        guard let s2 = m.pointee.stage2[g] else {
            BigLock.acquire(); m.pointee.vcpus[k].runningOn = -1; BigLock.release(); return
        }
        let regs = m.pointee.regsOf(k)
        while true {
            let exit = A.vcpuRun(regs, s2, sliceEnd: sliceEnd)
            BigLock.acquire()
            let keepGoing = Exits<A>.handle(exit, slot: k, hart: h)
                && m.pointee.guests[g].state == .running && m.pointee.pending[g] == .none
            if !keepGoing || A.counter() >= sliceEnd {
                m.pointee.vcpus[k].runningOn = -1
                m.pointee.settle(g)       // a restart is built next, by this hart's loop
                BigLock.release()
                return
            }
            BigLock.release()
            if h == 0 { ConsoleService<A>.poll() }
        }
    }
}
