// Scheduler: each CPU's loop that runs vCPUs in time slices.
//
// Round robin over the vCPU slots a CPU may run (CPU mask), skipping guests
// that are not running or have an action pending. A picked vCPU runs until
// its slice ends, re-entered directly after exits that leave it runnable. CPU
// 0 also serves the console between exits. A vCPU waiting in wfi becomes
// runnable when its own timer is due or it has a pending interrupt.

import RumABI

extension Machine {
    /// Picks the next runnable vCPU for CPU `c` and marks it running there.
    mutating func pick(_ c: Int, now: UInt64) -> Int? {
        guard vcpuCount > 0 else { return nil }
        for step in 1...vcpuCount {
            let k = (lastPicked[c] + step) % vcpuCount
            let v = vcpus[k]
            guard v.runningOn < 0, v.cpuMask & (1 << UInt64(c)) != 0,
                  guests[v.guest].state == .running, pending[v.guest] == .none else { continue }
            switch v.state {
            case .offline: continue
            case .waiting:
                guard A.vcpuWakeable(regsOf(k), vm(v.guest), now: now) else { continue }
                vcpus[k].state = .runnable
            case .runnable: break
            }
            vcpus[k].runningOn = c
            lastPicked[c] = k
            return k
        }
        return nil
    }

    /// Earliest wake-up among waiting vCPUs CPU `c` may run.
    mutating func nextWake(_ c: Int) -> UInt64 {
        var t = UInt64.max
        for k in 0..<vcpuCount where vcpus[k].state == .waiting && vcpus[k].cpuMask & (1 << UInt64(c)) != 0 {
            t = min(t, A.vcpuTimerDeadline(regsOf(k)))
        }
        return t
    }
}

public enum Scheduler<A: GuestHosting> {
    typealias M = Machine<A>

    static var sliceTicks: UInt64 { A.counterFrequency * M.sliceMicros / 1_000_000 }

    /// The loop every CPU runs once the machine is up. Never returns.
    public static func runCPU(_ c: Int) -> Never {
        while true { step(c) }
    }

    /// One turn of CPU `c`'s loop: serve the console (CPU 0), build a guest
    /// waiting to be built, or run one slice of the next vCPU, or idle until
    /// the next deadline.
    static func step(_ c: Int) {
        let m = M.shared
        if c == 0 { ConsoleService<A>.poll() }
        BigLock<A>.acquire()
        if let g = m.pointee.claimBuild(c) {
            BigLock<A>.release()
            build(g, cpu: c)
            return
        }
        let now = A.counter()
        let picked = m.pointee.pick(c, now: now)
        let wake = picked == nil ? m.pointee.nextWake(c) : 0
        BigLock<A>.release()
        guard let k = picked else {
            A.idle(until: min(now + sliceTicks, wake))
            if A.externalInterruptPending() {
                BigLock<A>.acquire()
                M.serviceInterrupts()
                BigLock<A>.release()
            }
            return
        }
        // A CPU a pinned guest owns runs only that guest; the slice tick there
        // just lets the hypervisor look in (its vCPU is picked again at once).
        runSlice(k, cpu: c, until: now + sliceTicks)
    }

    /// Phases 2 and 3 of creating guest `g`, claimed by CPU `c`: its memory is
    /// filled without the lock, then it is finished under the lock. With blink
    /// priority its vCPU 0 runs next here, if it may run on this CPU.
    static func build(_ g: Int, cpu c: Int) {
        let m = M.shared
        BigLock<A>.acquire()
        let job = m.pointee.building(g)
        BigLock<A>.release()
        job.fill()
        BigLock<A>.acquire()
        do {
            try m.pointee.finish(g)
            for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g && m.pointee.vcpus[k].index == 0 {
                if m.pointee.guests[g].blink && m.pointee.vcpus[k].cpuMask & (1 << UInt64(c)) != 0 {
                    m.pointee.lastPicked[c] = (k + m.pointee.vcpuCount - 1) % m.pointee.vcpuCount
                } else {
                    m.pointee.kick(k)     // another CPU runs it
                }
            }
        } catch {}
        m.pointee.settle(g)               // a stop or restart asked for while it was built
        BigLock<A>.release()
    }

    /// Runs vCPU slot `k` on CPU `c` until its slice ends or it blocks.
    static func runSlice(_ k: Int, cpu c: Int, until sliceEnd: UInt64) {
        let m = M.shared
        let g = m.pointee.vcpus[k].guest
        guard m.pointee.vmLive[g] else {
            BigLock<A>.acquire(); m.pointee.vcpus[k].runningOn = -1; BigLock<A>.release(); return
        }
        let regs = m.pointee.regsOf(k)
        let vm = m.pointee.vm(g)
        A.vcpuLoad(regs, vm)
        while true {
            let exit = A.vcpuRun(regs, vm, sliceEnd: sliceEnd)
            BigLock<A>.acquire()
            let keepGoing = Exits<A>.handle(exit, slot: k, cpu: c)
                && m.pointee.guests[g].state == .running && m.pointee.pending[g] == .none
            if !keepGoing || A.counter() >= sliceEnd {
                A.vcpuPut(regs, vm)
                m.pointee.vcpus[k].runningOn = -1
                m.pointee.settle(g)       // a restart is built next, by this CPU's loop
                BigLock<A>.release()
                return
            }
            BigLock<A>.release()
            // A console command may wait for this very vCPU to leave: end the slice first.
            if c == 0 && ConsoleService<A>.poll(inSlice: true) {
                BigLock<A>.acquire()
                A.vcpuPut(regs, vm)
                m.pointee.vcpus[k].runningOn = -1
                m.pointee.settle(g)
                BigLock<A>.release()
                return
            }
        }
    }
}
