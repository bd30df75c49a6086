// Exits: acting on a decoded VM exit.
//
// The port decoded the trap into a `VMExit`; here the core counts it, checks
// every guest-supplied value (addresses against the guest's own RAM, hart
// numbers against its vCPUs) and acts. A bad argument yields an SBI-style
// error to the guest, never a hypervisor fault. Faults stop the guest with the
// reason recorded. Called with the lock held.

import RumABI

enum Exits<A: GuestHosting> {
    typealias M = Machine<A>

    /// Returns true if the vCPU may keep running.
    static func handle(_ exit: VMExit, slot k: Int, hart h: Int) -> Bool {
        let m = M.shared
        let g = m.pointee.vcpus[k].guest
        let regs = m.pointee.regsOf(k)
        switch exit {
        case .handled:
            m.pointee.count(.hypercall, guest: g, hart: h)
            return true
        case .tick:
            m.pointee.count(.tick, guest: g, hart: h)
            return true
        case .interrupt:
            m.pointee.count(.irq, guest: g, hart: h)
            A.serviceInterrupts()
            return true
        case .mmio:
            m.pointee.count(.mmio, guest: g, hart: h)
            if A.emulateMMIO(regs, guest: g) { return true }
            var r = FaultRecord()
            r.kind = .stage2Fault; r.valid = true; r.pc = A.vcpuPC(regs); r.access = .write; r.at = A.counter()
            m.pointee.fault(g, r)
            return false
        case .waitForInterrupt:
            m.pointee.count(.wfi, guest: g, hart: h)
            A.vcpuSkip(regs)
            if !A.vcpuWakeable(regs, now: A.counter()) {
                m.pointee.vcpus[k].state = .waiting
                return false
            }
            return true
        case .stage2Fault(let gpa, let access, let pc):
            m.pointee.count(.stage2Fault, guest: g, hart: h)
            var r = FaultRecord()
            r.kind = .stage2Fault; r.valid = true; r.pc = pc; r.address = gpa; r.access = access
            r.at = A.counter()
            m.pointee.fault(g, r)
            return false
        case .fatal(let kind, let pc, let detail):
            m.pointee.count(.fault, guest: g, hart: h)
            var r = FaultRecord()
            r.kind = kind; r.valid = true; r.pc = pc; r.address = detail; r.at = A.counter()
            m.pointee.fault(g, r)
            return false
        case .call(let call):
            return handleCall(call, slot: k, guest: g, hart: h, regs: regs)
        }
    }

    static func handleCall(_ call: GuestCall, slot k: Int, guest g: Int, hart h: Int,
                           regs: UnsafeMutablePointer<A.VCPURegisters>) -> Bool {
        let m = M.shared
        switch call {
        case .consolePutchar(let b):
            m.pointee.count(.console, guest: g, hart: h)
            ConsoleService<A>.guestOutput(g, b)
            A.vcpuComplete(regs, .ok)
        case .consoleGetchar:
            m.pointee.count(.console, guest: g, hart: h)
            let b = m.pointee.consoles[g].popInput()
            A.vcpuComplete(regs, CallResult(error: b.map { Int64($0) } ?? -1))
        case .consoleWrite(let gpa, let length):
            m.pointee.count(.console, guest: g, hart: h)
            guard let host = m.pointee.guests[g].translate(gpa: gpa, length: length) else {
                A.vcpuComplete(regs, .invalidAddress)
                return true
            }
            let n = min(length, 4096)
            for i in 0..<n {
                ConsoleService<A>.guestOutput(g, UnsafePointer<UInt8>(bitPattern: UInt(host + i))!.pointee)
            }
            A.vcpuComplete(regs, CallResult(error: 0, value: Int64(n)))
        case .consoleRead(let gpa, let length):
            m.pointee.count(.console, guest: g, hart: h)
            guard let host = m.pointee.guests[g].translate(gpa: gpa, length: length) else {
                A.vcpuComplete(regs, .invalidAddress)
                return true
            }
            var n: UInt64 = 0
            while n < length, let b = m.pointee.consoles[g].popInput() {
                UnsafeMutablePointer<UInt8>(bitPattern: UInt(host + n))!.pointee = b
                n += 1
            }
            A.vcpuComplete(regs, CallResult(error: 0, value: Int64(n)))
        case .setTimer:
            m.pointee.count(.timer, guest: g, hart: h)
            A.vcpuComplete(regs, .ok)   // the port programmed the guest's own timer compare
        case .yield:
            m.pointee.count(.hypercall, guest: g, hart: h)
            A.vcpuComplete(regs, .ok)
            return false
        case .systemReset(let kind):
            m.pointee.count(.hypercall, guest: g, hart: h)
            A.vcpuComplete(regs, .ok)
            m.pointee.guestReset(g, kind, pc: A.vcpuPC(regs))
            return false
        case .sendIPI(let mask, let base):
            m.pointee.count(.ipi, guest: g, hart: h)
            A.vcpuComplete(regs, sendIPI(g, mask: mask, base: base))
        case .remoteFence:
            m.pointee.count(.ipi, guest: g, hart: h)
            A.vcpuComplete(regs, .ok)   // every vCPU entry already fences its VMID's TLB
        case .hartStart(let hart, let entry, let arg):
            m.pointee.count(.ipi, guest: g, hart: h)
            A.vcpuComplete(regs, hartStart(g, hart: hart, entry: entry, arg: arg))
        case .hartStop:
            m.pointee.count(.ipi, guest: g, hart: h)
            m.pointee.vcpus[k].state = .offline
            return false
        case .hartStatus(let hart):
            m.pointee.count(.ipi, guest: g, hart: h)
            guard let s = slotOf(g, vcpu: hart) else { A.vcpuComplete(regs, .invalidParam); return true }
            let st: Int64 = m.pointee.vcpus[s].state == .offline ? 1 : 0   // SBI HSM: 0 started, 1 stopped
            A.vcpuComplete(regs, CallResult(error: 0, value: st))
        case .doorbell(let n):
            m.pointee.count(.hypercall, guest: g, hart: h)
            A.vcpuComplete(regs, m.pointee.doorbell(g, n))
        case .unsupported:
            m.pointee.count(.hypercall, guest: g, hart: h)
            A.vcpuComplete(regs, .notSupported)
        }
        return true
    }

    static func slotOf(_ g: Int, vcpu: UInt64) -> Int? {
        let m = M.shared
        for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g && UInt64(m.pointee.vcpus[k].index) == vcpu {
            return k
        }
        return nil
    }

    /// SBI IPI semantics: hart_mask relative to hart_mask_base; base all-ones means every hart.
    static func sendIPI(_ g: Int, mask: UInt64, base: UInt64) -> CallResult {
        let m = M.shared
        let n = UInt64(m.pointee.guests[g].vcpuCount)
        for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g {
            let idx = UInt64(m.pointee.vcpus[k].index)
            let hit = base == UInt64.max || (idx >= base && idx - base < 64 && mask & (1 << (idx - base)) != 0)
            if hit && idx < n {
                A.vcpuSetIPI(m.pointee.regsOf(k), true)
                m.pointee.kick(k)
            }
        }
        return .ok
    }

    static func hartStart(_ g: Int, hart: UInt64, entry: UInt64, arg: UInt64) -> CallResult {
        let m = M.shared
        guard let s = slotOf(g, vcpu: hart) else { return .invalidParam }
        guard m.pointee.guests[g].translate(gpa: entry, length: 4) != nil else { return .invalidAddress }
        guard m.pointee.vcpus[s].state == .offline else { return .alreadyAvailable }
        A.vcpuReset(m.pointee.regsOf(s), guest: g, hartID: hart, entry: entry, arg: arg)
        m.pointee.vcpus[s].state = .runnable
        return .ok
    }
}
