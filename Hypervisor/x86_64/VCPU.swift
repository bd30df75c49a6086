// VCPU (x86_64): running a vCPU in VMX non-root operation and decoding why it stopped.
//
// Each vCPU slot has a VMCS page (vcpuCreate). It is made current on the CPU
// that runs the vCPU (vcpuLoad: VMPTRLD) and cleared when it leaves
// (vcpuPut: VMCLEAR), so a vCPU may run on any CPU next; the first entry
// after a clear is a VMLAUNCH. After `vcpuReset` the whole VMCS is written
// again at the next entry (VMCS.swift). Every exit is decoded by the pure
// `VMXDecode`; CPUID, RUM_HC_VERSION, COM1 register accesses other than a THR
// byte, and allowed MSRs are answered here without returning to the core
// (counted as fast calls); everything else becomes a `VMExit` for the core.
// The slice ends by the VMX preemption timer, which Bochs ticks once per
// instruction (SDM Vol. 3C 26.5.1, 27.2: exit reason 52).

import ArchShims
import RumkvCore
import RumABI
import Synchronization

/// Bit n: CPU n was kicked; its idle spin ends (`kickCPU`).
let idleKicks = Atomic<UInt64>(0)

/// An x86 VM: its EPT.
public struct X86VM {
    public var ept = X86EPT()
    public init() {}
}

extension X86_64: GuestHosting {
    public typealias VCPURegisters = x86_vcpu_t
    public typealias VMState = X86VM
    public typealias PortTrap = X86Trap

    public static func currentCPU() -> Int { Smp.currentIndex() }

    /// Bochs' TSC counts instructions, so it is the instruction count there.
    public static func instructionsRetired() -> UInt64 { x86_rdtsc() }

    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_X86_64) }

    /// The guest boot page tables and GDT (GuestBootTables), read-only in every guest.
    public static var portWindow: GuestRegion { GuestRegion(base: GuestPhysicalAddress(0x7FF0_0000), size: 0x1_0000) }

    /// No virtual interrupt controller yet: guests poll (Rumpk's x86 port does).
    public static var interruptController: InterruptControllerInfo {
        InterruptControllerInfo(kind: RUM_IRQCHIP_NONE, regions: (.empty, .empty), regionCount: 0)
    }

    // MARK: VMs

    public static func vmEmpty() -> X86VM { X86VM() }

    public static func vmCreate(_ vm: UnsafeMutablePointer<X86VM>, vmid: UInt16, layout: GuestLayout,
                                _ pages: inout PageAllocator) -> Bool {
        guard let e = X86EPT.create(layout, &pages) else { return false }
        vm.pointee = X86VM()
        vm.pointee.ept = e
        return true
    }

    public static func vmDestroy(_ vm: UnsafeMutablePointer<X86VM>, _ pages: inout PageAllocator) {
        X86EPT.destroy(vm.pointee.ept, &pages)
        vm.pointee = X86VM()
    }

    public static func vmMap(_ vm: UnsafeMutablePointer<X86VM>, _ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress,
                             size: UInt64, _ kind: MappingKind, _ pages: inout PageAllocator) -> Bool {
        vm.pointee.ept.mapRange(gpa: gpa.value, hpa: hpa.value, size: size, kind: kind, &pages)
    }

    public static func vicReset(_ vm: UnsafeMutablePointer<X86VM>) {}
    public static func vicAssign(_ vm: UnsafeMutablePointer<X86VM>, source: UInt32) {}
    public static func vicRaise(_ vm: UnsafeMutablePointer<X86VM>, source: UInt32) {}
    public static func vicAccess(_ vm: UnsafeMutablePointer<X86VM>, vcpu: Int, _ access: MMIOAccess) -> VICResult? { nil }

    // MARK: vCPUs

    public static func vcpuCreate(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ pages: inout PageAllocator) -> Bool {
        r.initialize(to: x86_vcpu_t())
        guard let vmcs = pages.allocateZeroed(pages: 1) else { return false }
        UnsafeMutablePointer<UInt32>(bitPattern: UInt(vmcs))!.pointee = VMX.revision   // SDM 24.2: revision id first
        r.pointee.vmcs = vmcs
        return true
    }

    public static func vcpuReset(_ r: UnsafeMutablePointer<x86_vcpu_t>, vcpu: Int, entry: GuestPhysicalAddress, arg: UInt64) {
        let vmcs = r.pointee.vmcs, fast = r.pointee.fast_calls
        r.initialize(to: x86_vcpu_t())
        r.pointee.vmcs = vmcs
        r.pointee.fast_calls = fast
        r.pointee.index = UInt64(vcpu)
        r.pointee.rip = entry.value
        r.pointee.rdi = UInt64(vcpu)           // Rumpk's entry: rdi = vCPU id, rsi = SysTable
        r.pointee.rsi = arg
        r.pointee.rflags = 0x2
        r.pointee.needs_setup = 1
    }

    public static func vcpuLoad(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ vm: UnsafeMutablePointer<X86VM>) {
        _ = x86_vmptrld(r.pointee.vmcs)
    }

    public static func vcpuPut(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ vm: UnsafeMutablePointer<X86VM>) {
        _ = x86_vmclear(r.pointee.vmcs)
        r.pointee.launched = 0
    }

    public static func vcpuRun(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ vm: UnsafeMutablePointer<X86VM>,
                               sliceEnd: UInt64) -> VMExit<X86Trap> {
        typealias F = VMCSField
        if r.pointee.needs_setup != 0 {
            _ = x86_vmclear(r.pointee.vmcs)
            _ = x86_vmptrld(r.pointee.vmcs)
            r.pointee.launched = 0
            VMX.setup(r, eptp: vm.pointee.ept.pointer)
            r.pointee.needs_setup = 0
        }
        while true {
            VMX.write(F.guestRIP, r.pointee.rip)
            VMX.write(F.guestRSP, r.pointee.rsp)
            VMX.write(F.guestRFLAGS, r.pointee.rflags)
            var entryInfo = r.pointee.pending_exception
            if entryInfo != 0 {
                VMX.write(F.entryExceptionError, 0)
                r.pointee.pending_exception = 0
            }
            let now = x86_rdtsc()
            if r.pointee.clear_shadow != 0 {
                VMX.write(F.guestInterruptibility, VMX.read(F.guestInterruptibility) & ~3)
                r.pointee.clear_shadow = 0
            }
            let deadline = r.pointee.timer_deadline
            if deadline != 0 && deadline <= now {
                r.pointee.timer_deadline = 0
                x86_atomic_or64(&r.pointee.inject, X86Interrupts.timer)
            }
            var window = false
            let pending = x86_atomic_load64(&r.pointee.inject)
            if pending != 0 {
                switch X86Interrupts.decide(pending: pending, rflags: r.pointee.rflags,
                                            interruptibility: VMX.read(F.guestInterruptibility),
                                            exceptionPending: entryInfo != 0) {
                case .none: break
                case .inject(let vector, let bit):
                    x86_atomic_and64(&r.pointee.inject, ~bit)
                    entryInfo = X86Interrupts.entryInfo(vector: vector)
                    r.pointee.injected &+= 1
                case .openWindow: window = VMX.interruptWindowAllowed
                }
            }
            VMX.write(F.entryInterruptionInfo, entryInfo)
            VMX.write(F.procControls, UInt64(window ? VMX.proc | VMXControls.procInterruptWindow : VMX.proc))
            // The slice ends at sliceEnd; an armed guest timer ends the run earlier, to be injected.
            let stop = r.pointee.timer_deadline != 0 ? min(sliceEnd, r.pointee.timer_deadline) : sliceEnd
            let ticks = stop > now ? (stop - now) >> VMX.timerShift : 0
            VMX.write(F.preemptionTimer, min(ticks, UInt64(UInt32.max)))
            let rc = rumkv_vmx_enter(r)
            if rc != 0 {
                // VMfailValid: the VM-instruction error number (SDM 31.4) is the detail.
                let error = rc == 2 ? VMX.read(F.instructionError) : 0
                return .fatal(.unknown, pc: r.pointee.rip, detail: 0x1_0000 | error)
            }
            r.pointee.exit_reason = UInt32(truncatingIfNeeded: VMX.read(F.exitReason))
            r.pointee.instruction_length = UInt32(truncatingIfNeeded: VMX.read(F.exitInstructionLength))
            r.pointee.qualification = VMX.read(F.exitQualification)
            r.pointee.guest_physical = VMX.read(F.guestPhysicalAddress)
            r.pointee.rip = VMX.read(F.guestRIP)
            r.pointee.rsp = VMX.read(F.guestRSP)
            r.pointee.rflags = VMX.read(F.guestRFLAGS)
            let state = VMXExitState(reason: r.pointee.exit_reason, qualification: r.pointee.qualification,
                                     guestPhysical: r.pointee.guest_physical, rip: r.pointee.rip,
                                     rax: r.pointee.rax, rcx: r.pointee.rcx, rdx: r.pointee.rdx,
                                     rsi: r.pointee.rsi, rdi: r.pointee.rdi)
            switch VMXDecode.decode(state) {
            case .core(.tick) where x86_rdtsc() < sliceEnd:
                continue                                    // the guest timer's deadline, not the slice's end
            case .core(let kind):
                if case .call(let call) = kind {
                    r.pointee.call_site = 0
                    if case .setTimer(let d) = call { r.pointee.timer_deadline = d == UInt64.max ? 0 : max(d, 1) }
                }
                return kind.exit(pc: r.pointee.rip)
            case .version:
                r.pointee.rax = UInt64(RUM_HC_ABI_VERSION)
                fastDone(r)
            case .cpuid(let leaf, let subleaf):
                let h = x86_cpuid(leaf, subleaf)
                let maxBasic = x86_cpuid(0, 0).eax
                let g = CPUIDPolicy.filter(leaf: leaf, subleaf: subleaf,
                                           host: CPUIDPolicy.Registers(h.eax, h.ebx, h.ecx, h.edx), maxBasic: maxBasic)
                r.pointee.rax = UInt64(g.eax); r.pointee.rbx = UInt64(g.ebx)
                r.pointee.rcx = UInt64(g.ecx); r.pointee.rdx = UInt64(g.edx)
                fastDone(r)
            case .com1(let a):
                var uart = com1(r)
                let outcome = uart.access(offset: a.port - VMXDecode.com1Base, isIn: a.isIn,
                                          value: UInt8(truncatingIfNeeded: r.pointee.rax), inputReady: false)
                setCOM1(r, uart)
                switch outcome {
                case .value(let v):
                    if a.isIn { r.pointee.rax = r.pointee.rax & ~0xFF | UInt64(v) }
                    fastDone(r)
                case .output(let b):
                    r.pointee.call_site = 1
                    return .call(.consolePutchar(b))
                case .input:
                    r.pointee.call_site = 2
                    return .call(.consoleGetchar)
                }
            case .msr(let write, let index, let value):
                if write ? !MSRPolicy.writable(index, value: value, efer: VMX.guestEFER) : !MSRPolicy.readable(index) {
                    r.pointee.pending_exception = 0x8000_0B0D      // #GP(0): hardware exception 13 with an error code
                    continue
                }
                if write {
                    if index == MSRPolicy.fsBase { r.pointee.fs_base = value; VMX.write(0x680E, value) }
                    if index == MSRPolicy.gsBase { r.pointee.gs_base = value; VMX.write(0x6810, value) }
                } else {
                    let v: UInt64 = switch index {
                    case MSRPolicy.tsc: x86_rdtsc()
                    case MSRPolicy.efer: VMX.guestEFER
                    case MSRPolicy.fsBase: VMX.read(0x680E)
                    default: VMX.read(0x6810)
                    }
                    r.pointee.rax = v & 0xFFFF_FFFF
                    r.pointee.rdx = v >> 32
                }
                fastDone(r)
            case .interruptWindow:
                break                                       // the next entry injects what waited
            }
            if x86_rdtsc() >= sliceEnd { return .tick }
        }
    }

    @inline(__always)
    static func fastDone(_ r: UnsafeMutablePointer<x86_vcpu_t>) {
        r.pointee.rip &+= UInt64(r.pointee.instruction_length)
        r.pointee.fast_calls &+= 1
    }

    static func com1(_ r: UnsafeMutablePointer<x86_vcpu_t>) -> VirtualCOM1 {
        var u = VirtualCOM1()
        let a = r.pointee.com1_state.0, b = r.pointee.com1_state.1
        u.ier = UInt8(truncatingIfNeeded: a); u.lcr = UInt8(truncatingIfNeeded: a >> 8)
        u.mcr = UInt8(truncatingIfNeeded: a >> 16); u.scratch = UInt8(truncatingIfNeeded: a >> 24)
        u.divisor = UInt16(truncatingIfNeeded: b)
        return u
    }

    static func setCOM1(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ u: VirtualCOM1) {
        r.pointee.com1_state.0 = UInt32(u.ier) | UInt32(u.lcr) << 8 | UInt32(u.mcr) << 16 | UInt32(u.scratch) << 24
        r.pointee.com1_state.1 = UInt32(u.divisor)
    }

    /// VMCALL: rax gets the value or error; OUT to THR: nothing; IN from RBR: al gets the byte (0 if none).
    public static func vcpuComplete(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ result: CallResult) {
        switch r.pointee.call_site {
        case 0: r.pointee.rax = X86Hypercall.encode(result)
        case 2:
            let byte: UInt64 = if case .success(let v) = result { v & 0xFF } else { 0 }
            r.pointee.rax = r.pointee.rax & ~0xFF | byte
        default: break
        }
        r.pointee.rip &+= UInt64(r.pointee.instruction_length)
    }

    /// Never called: x86 guests get no emulated MMIO device (the decoder yields no `.mmio`).
    public static func vcpuCompleteMMIO(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ access: MMIOAccess, value: UInt64) {
        r.pointee.rip &+= UInt64(access.instructionLength)
    }

    /// Port I/O the guest does not own: it is stopped with the port recorded.
    public static func vcpuEmulate(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ vm: UnsafeMutablePointer<X86VM>,
                                   _ trap: X86Trap) -> TrapOutcome {
        switch trap {
        case .io(let a): .fault(.accessFault, detail: UInt64(a.port))
        }
    }

    /// After HLT (one byte, its exit reports the length); an `sti; hlt` pair's
    /// shadow ends with it, so the next entry may inject at once.
    public static func vcpuSkip(_ r: UnsafeMutablePointer<x86_vcpu_t>) {
        r.pointee.rip &+= UInt64(r.pointee.instruction_length)
        r.pointee.clear_shadow = 1
    }

    /// Pending until an entry finds the guest interruptible, then injected
    /// as its vector (RUM_X86_VECTOR_*); any CPU may call this.
    public static func vcpuInject(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ interrupt: VirtualInterrupt) {
        switch interrupt {
        case .ipi: x86_atomic_or64(&r.pointee.inject, X86Interrupts.ipi)
        case .doorbell: x86_atomic_or64(&r.pointee.inject, X86Interrupts.doorbell)
        }
    }

    public static func vcpuWakeable(_ r: UnsafeMutablePointer<x86_vcpu_t>, _ vm: UnsafeMutablePointer<X86VM>,
                                    now: UInt64) -> Bool {
        X86Interrupts.wakeable(pending: x86_atomic_load64(&r.pointee.inject), timerDeadline: r.pointee.timer_deadline,
                               now: now, rflags: r.pointee.rflags)
    }

    /// The guest timer's deadline while it can be taken (IF = 1).
    public static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<x86_vcpu_t>) -> UInt64 {
        let d = r.pointee.timer_deadline
        return d != 0 && r.pointee.rflags & X86Interrupts.interruptFlag != 0 ? d : UInt64.max
    }

    public static func vcpuFastCalls(_ r: UnsafeMutablePointer<x86_vcpu_t>) -> UInt64 { r.pointee.fast_calls }

    public static func vcpuPC(_ r: UnsafeMutablePointer<x86_vcpu_t>) -> UInt64 { r.pointee.rip }

    // MARK: CPUs and physical interrupts

    /// The hypervisor runs with interrupts masked: idling is a bounded spin on
    /// the TSC that also ends when another CPU kicks this one (`kickCPU`).
    public static func idle(until: UInt64) {
        let me = UInt64(1) << UInt64(currentCPU() & 63)
        while x86_rdtsc() < until {
            if idleKicks.load(ordering: .acquiring) & me != 0 { break }
            x86_pause()
        }
        idleKicks.bitwiseAnd(~me, ordering: .acquiringAndReleasing)
    }

    /// INIT-SIPI-SIPI through the local APIC (Smp.swift); true once the AP is in VMX root.
    public static func startSecondary(_ index: Int, hardwareID: UInt64, stack: HostPhysicalAddress) -> Bool {
        Smp.start(index, apicID: UInt32(truncatingIfNeeded: hardwareID), stack: stack.value)
    }

    public static func cpuReady(_ cpu: Int) {}

    /// Ends an idle spin on `cpu` at once (a vCPU it may run became runnable).
    /// A CPU inside a guest is not interrupted: it sees the change at its next
    /// exit, by its slice end at the latest (no IPI: Bochs delivers an
    /// external-interrupt exit only when the guest's IF changes).
    public static func kickCPU(_ cpu: Int) {
        guard cpu >= 0, cpu < 64 else { return }
        idleKicks.bitwiseOr(UInt64(1) << UInt64(cpu), ordering: .acquiringAndReleasing)
    }

    public static func routeInterrupt(_ irq: UInt32, enabled: Bool, cpu: Int) {}

    public static func unmaskInterrupt(_ irq: UInt32) {}

    /// External interrupts are acknowledged on exit and dropped: no device is passed through yet.
    public static func claimInterrupts(_ deliver: (UInt32) -> Void) {}

    public static func externalInterruptPending() -> Bool { false }

    public static func mmioRead32(_ address: HostPhysicalAddress) -> UInt32 { x86_mmio_read32(address.value) }

    public static func mmioWrite32(_ address: HostPhysicalAddress, _ value: UInt32) { x86_mmio_write32(address.value, value) }
}
