// Exits: acting on a decoded VM exit.
//
// The port decoded the trap into a `VMExit`; here the core counts it, checks
// every guest-supplied value (addresses against the guest's own RAM, vCPU
// numbers against its vCPUs) and acts. A bad argument yields a `CallError` to
// the guest, never a hypervisor fault. Faults stop the guest with the reason
// recorded. Called with the lock held.

import RumABI

enum Exits<A: GuestHosting> {
    typealias M = Machine<A>

    /// Returns true if the vCPU may keep running.
    static func handle(_ exit: VMExit<A.PortTrap>, slot k: Int, cpu c: Int) -> Bool {
        let m = M.shared
        let g = m.pointee.vcpus[k].guest
        let regs = m.pointee.regsOf(k)
        switch exit {
        case .handled:
            m.pointee.count(.hypercall, guest: g, cpu: c)
            return true
        case .tick:
            m.pointee.count(.tick, guest: g, cpu: c)
            return true
        case .interrupt:
            m.pointee.count(.irq, guest: g, cpu: c)
            M.serviceInterrupts()
            return true
        case .mmio(let access):
            m.pointee.count(.mmio, guest: g, cpu: c)
            return mmio(access, slot: k, guest: g)
        case .portTrap(let trap):
            m.pointee.count(.other, guest: g, cpu: c)
            switch A.vcpuEmulate(regs, m.pointee.vm(g), trap) {
            case .handled: return true
            case .fault(let kind, let detail):
                m.pointee.fault(g, FaultRecord(kind, pc: A.vcpuPC(regs), address: detail, at: A.counter()))
                return false
            }
        case .waitForInterrupt:
            m.pointee.count(.wfi, guest: g, cpu: c)
            A.vcpuSkip(regs)
            if !A.vcpuWakeable(regs, m.pointee.vm(g), now: A.counter()) {
                m.pointee.vcpus[k].state = .waiting
                return false
            }
            return true
        case .stage2Fault(let gpa, let access, let pc):
            m.pointee.count(.stage2Fault, guest: g, cpu: c)
            var r = FaultRecord(.stage2Fault, pc: pc, address: gpa.value, at: A.counter())
            r.access = access
            m.pointee.fault(g, r)
            return false
        case .fatal(let kind, let pc, let detail):
            m.pointee.count(.fault, guest: g, cpu: c)
            m.pointee.fault(g, FaultRecord(kind, pc: pc, address: detail, at: A.counter()))
            return false
        case .call(let call):
            return handleCall(call, slot: k, guest: g, cpu: c, regs: regs)
        }
    }

    /// An access to the guest's emulated UART or its virtual interrupt controller; anything else stops the guest.
    static func mmio(_ access: MMIOAccess, slot k: Int, guest g: Int) -> Bool {
        let m = M.shared
        let regs = m.pointee.regsOf(k)
        if let value = GuestUART<A>.access(g, access) {
            A.vcpuCompleteMMIO(regs, access, value: value)
            return true
        }
        guard let result = A.vicAccess(m.pointee.vm(g), vcpu: m.pointee.vcpus[k].index, access) else {
            var r = FaultRecord(.stage2Fault, pc: A.vcpuPC(regs), address: access.address.value, at: A.counter())
            r.access = access.write ? .write : .read
            m.pointee.fault(g, r)
            return false
        }
        switch result.event {
        case .none: break
        case .claimed(let irq): m.pointee.noteClaim(g, irq: irq)
        case .completed(let irq): A.unmaskInterrupt(irq)
        }
        A.vcpuCompleteMMIO(regs, access, value: result.value)
        return true
    }

    static func handleCall(_ call: GuestCall, slot k: Int, guest g: Int, cpu c: Int,
                           regs: UnsafeMutablePointer<A.VCPURegisters>) -> Bool {
        let m = M.shared
        switch call {
        case .consolePutchar(let b):
            m.pointee.count(.console, guest: g, cpu: c)
            ConsoleService<A>.guestOutput(g, b)
            A.vcpuComplete(regs, .success(0))
        case .consoleGetchar:
            m.pointee.count(.console, guest: g, cpu: c)
            let b = m.pointee.consoles[g].popInput()
            A.vcpuComplete(regs, b.map { .success(UInt64($0)) } ?? .failure(.failed))
        case .consoleWrite(let gpa, let length):
            m.pointee.count(.console, guest: g, cpu: c)
            A.vcpuComplete(regs, consoleWrite(g, gpa, length: length))
        case .consoleRead(let gpa, let length):
            m.pointee.count(.console, guest: g, cpu: c)
            A.vcpuComplete(regs, consoleRead(g, gpa, length: length))
        case .setTimer:
            m.pointee.count(.timer, guest: g, cpu: c)
            A.vcpuComplete(regs, .success(0))   // the port programmed the guest's own timer compare
        case .yield:
            m.pointee.count(.hypercall, guest: g, cpu: c)
            A.vcpuComplete(regs, .success(0))
            return false
        case .systemReset(let kind):
            m.pointee.count(.hypercall, guest: g, cpu: c)
            A.vcpuComplete(regs, .success(0))
            m.pointee.guestReset(g, kind, pc: A.vcpuPC(regs))
            return false
        case .sendIPI(let targets):
            m.pointee.count(.ipi, guest: g, cpu: c)
            A.vcpuComplete(regs, sendIPI(g, targets))
        case .remoteFence(let targets):
            m.pointee.count(.ipi, guest: g, cpu: c)
            // Every vCPU entry already fences its VMID's TLB; only the targets are checked.
            let valid = targets.within(Int(m.pointee.guests[g].config.vcpus))
            A.vcpuComplete(regs, valid ? .success(0) : .failure(.invalidParameter))
        case .vcpuStart(let vcpu, let entry, let arg):
            m.pointee.count(.ipi, guest: g, cpu: c)
            A.vcpuComplete(regs, vcpuStart(g, vcpu: vcpu, entry: entry, arg: arg))
        case .vcpuStop:
            m.pointee.count(.ipi, guest: g, cpu: c)
            m.pointee.vcpus[k].state = .offline
            return false
        case .vcpuStatus(let vcpu):
            m.pointee.count(.ipi, guest: g, cpu: c)
            guard let s = m.pointee.slotOf(g, vcpu: vcpu) else { A.vcpuComplete(regs, .failure(.invalidParameter)); return true }
            let st: VCPUPowerState = m.pointee.vcpus[s].state == .offline ? .off : .on
            A.vcpuComplete(regs, .success(st.rawValue))
        case .doorbell(let n):
            m.pointee.count(.hypercall, guest: g, cpu: c)
            A.vcpuComplete(regs, m.pointee.doorbell(g, n))
        case .unsupported:
            m.pointee.count(.hypercall, guest: g, cpu: c)
            A.vcpuComplete(regs, .failure(.notSupported))
        case .invalid:
            m.pointee.count(.hypercall, guest: g, cpu: c)
            A.vcpuComplete(regs, .failure(.invalidParameter))
        }
        return true
    }

    /// Copies up to 4 KiB of guest memory to the guest's console. The whole
    /// range the guest names must be its RAM, even the part not written.
    static func consoleWrite(_ g: Int, _ gpa: GuestPhysicalAddress, length: UInt64) -> CallResult {
        let m = M.shared
        guard let host = m.pointee.guests[g].translate(gpa, length: length) else { return .failure(.invalidAddress) }
        let n = min(length, 4096)
        let bytes = UnsafePointer<UInt8>(host.pointer(to: UInt8.self))
        for i in 0..<Int(n) { ConsoleService<A>.guestOutput(g, bytes[i]) }
        return .success(n)
    }

    /// Copies typed input into guest memory, as much as is waiting (at most `length`).
    static func consoleRead(_ g: Int, _ gpa: GuestPhysicalAddress, length: UInt64) -> CallResult {
        let m = M.shared
        guard let host = m.pointee.guests[g].translate(gpa, length: length) else { return .failure(.invalidAddress) }
        let bytes = host.pointer(to: UInt8.self)
        var n: UInt64 = 0
        while n < length, let b = m.pointee.consoles[g].popInput() {
            bytes[Int(n)] = b
            n += 1
        }
        return .success(n)
    }

    /// Raises an IPI in every vCPU of `g` named by `targets`; a set naming a
    /// vCPU the guest does not have is refused whole (SBI: invalid param).
    static func sendIPI(_ g: Int, _ targets: VCPUSet) -> CallResult {
        let m = M.shared
        guard targets.within(Int(m.pointee.guests[g].config.vcpus)) else { return .failure(.invalidParameter) }
        for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g && targets.contains(m.pointee.vcpus[k].index) {
            A.vcpuInject(m.pointee.regsOf(k), .ipi)
            m.pointee.kick(k)
        }
        return .success(0)
    }

    static func vcpuStart(_ g: Int, vcpu: UInt64, entry: GuestPhysicalAddress, arg: UInt64) -> CallResult {
        let m = M.shared
        guard let s = m.pointee.slotOf(g, vcpu: vcpu) else { return .failure(.invalidParameter) }
        guard m.pointee.guests[g].translate(entry, length: 4) != nil else { return .failure(.invalidAddress) }
        guard m.pointee.vcpus[s].state == .offline else { return .failure(.alreadyAvailable) }
        A.vcpuReset(m.pointee.regsOf(s), vcpu: Int(vcpu), entry: entry, arg: arg)
        m.pointee.vcpus[s].state = .runnable
        m.pointee.kick(s)
        return .success(0)
    }
}
