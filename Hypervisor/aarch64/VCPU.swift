// VCPU (aarch64): running a vCPU at EL1 and decoding why it stopped.
//
// While a vCPU is loaded on a CPU (vcpuLoad .. vcpuPut) the EL1 system
// registers, the virtual timer, VMPIDR_EL2 and the GIC list registers are the
// guest's; each run (vcpuRun) sets HCR_EL2 and VTTBR_EL2, arms the EL2
// physical timer (CNTHP, PPI 26) for the end of the slice and erets through
// switch.S. Exits come back with ESR_EL2 (Arm ARM D17.2.37): HVC (EC 0x16,
// ELR already past it), SMC (0x17, ELR at it), WFI/WFE (0x01), trapped
// system registers (0x18), stage-2 aborts (0x20/0x24, IPA from HPFAR_EL2),
// or an IRQ slot. SMCCC/PSCI and Rumkv's vendor calls are decoded by
// `SMCCC.decode` (Decoders.swift); answers that need no state (versions,
// features) are written in place.
//
// HCR_EL2 for guests: VM, SWIO, FMO/IMO/AMO (physical interrupts to EL2,
// virtual ones to the guest), FB (TLB and cache maintenance broadcast, as
// vCPUs migrate), TWI/TWE, TSC (SMC traps), RW (EL1 is AArch64). CPTR_EL2
// traps FP/SIMD and SVE (guests are given no FP, like riscv64's FS = Off).
// CNTHCTL_EL2 = 1: the guest reads the physical counter, its physical timer
// traps; it owns the virtual timer (CNTVOFF_EL2 = 0).

import ArchShims
import RumkvCore
import RumABI

/// An aarch64 VM: its stage-2 and its virtual GIC.
public struct A64VM {
    public var stage2 = A64Stage2()
    var gic = VirtualGIC()
    public init() {}
}

/// HCR_EL2 bits (Arm ARM D17.2.48).
struct HCR: OptionSet {
    let rawValue: UInt64
    static let vm = HCR(rawValue: 1 << 0), swio = HCR(rawValue: 1 << 1), fmo = HCR(rawValue: 1 << 3)
    static let imo = HCR(rawValue: 1 << 4), amo = HCR(rawValue: 1 << 5), fb = HCR(rawValue: 1 << 9)
    static let twi = HCR(rawValue: 1 << 13), twe = HCR(rawValue: 1 << 14), tsc = HCR(rawValue: 1 << 19)
    static let rw = HCR(rawValue: 1 << 31)
    static let guest: HCR = [.vm, .swio, .fmo, .imo, .amo, .fb, .twi, .twe, .tsc, .rw]
}

/// ICH_HCR_EL2 bits (IHI 0069, ICH_HCR_EL2): the virtual CPU interface on, and the
/// underflow maintenance interrupt (at most one list register valid).
enum ICH {
    static let enable: UInt64 = 1 << 0
    static let underflowInterrupt: UInt64 = 1 << 1
}

/// Virtual SGIs Rumkv raises in guests (the guest's INTIDs).
enum VirtualSGI {
    static let ipi: UInt32 = 0
    static let doorbell: UInt32 = 1
}

extension AArch64: GuestHosting {
    public typealias VCPURegisters = a64_vcpu_t
    public typealias VMState = A64VM
    public typealias PortTrap = Never

    public static func currentCPU() -> Int { Int(a64_read_tpidr_el2()) }

    /// Time in nanoseconds from the physical counter: one clock on every CPU
    /// (an interrupt taken on one CPU may be claimed by a vCPU on another), and
    /// one per instruction under QEMU -icount shift=0 (in steps of 16 at
    /// virt's 62.5 MHz). The PMU is the guests' and per CPU.
    public static func instructionsRetired() -> UInt64 {
        let t = a64_read_cntpct(), f = max(counterFrequency, 1)
        return (t / f) &* 1_000_000_000 &+ (t % f) &* 1_000_000_000 / f
    }

    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_ARM64) }

    public static var portWindow: GuestRegion { .empty }

    // MARK: VMs

    public static func vmEmpty() -> A64VM { A64VM() }

    public static func vmCreate(_ vm: UnsafeMutablePointer<A64VM>, vmid: UInt16, layout: GuestLayout,
                                _ pages: inout PageAllocator) -> Bool {
        guard vmid > 0, vmid < 256, let s = A64Stage2.create(layout, vmid: vmid, &pages) else { return false }
        vm.pointee = A64VM()
        vm.pointee.stage2 = s
        return true
    }

    public static func vmDestroy(_ vm: UnsafeMutablePointer<A64VM>, _ pages: inout PageAllocator) {
        A64Stage2.destroy(vm.pointee.stage2, &pages)
        vm.pointee = A64VM()
    }

    public static func vmMap(_ vm: UnsafeMutablePointer<A64VM>, _ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress,
                             size: UInt64, _ kind: MappingKind, _ pages: inout PageAllocator) -> Bool {
        vm.pointee.stage2.mapRange(ipa: gpa.value, pa: hpa.value, size: size, device: kind == .device, &pages)
    }

    // MARK: vCPUs

    public static func vcpuCreate(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ pages: inout PageAllocator) -> Bool {
        r.initialize(to: a64_vcpu_t())
        return true
    }

    /// SCTLR_EL1 with its RES1 bits and the MMU and caches off (Arm ARM D17.2.118).
    static let sctlrReset: UInt64 = 0x30D0_0800
    /// EL1h with D, A, I and F masked.
    static let pstateReset: UInt64 = 0x3C5

    public static func vcpuReset(_ r: UnsafeMutablePointer<a64_vcpu_t>, vcpu: Int, entry: GuestPhysicalAddress, arg: UInt64) {
        let fast = r.pointee.fast_calls
        r.initialize(to: a64_vcpu_t())
        r.pointee.fast_calls = fast
        r.pointee.index = UInt64(vcpu)
        r.pointee.pc = entry.value
        r.pointee.pstate = pstateReset
        r.pointee.x.0 = arg                     // the SysTable (vCPU 0) or PSCI CPU_ON's context id
        r.pointee.el1.sctlr_el1 = sctlrReset
        r.pointee.vmpidr = 1 << 31 | UInt64(vcpu & 0xFF)
        r.pointee.cntv_cval = UInt64.max
    }

    public static func vcpuLoad(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ vm: UnsafeMutablePointer<A64VM>) {
        let c = r.pointee.el1
        a64_write_sp_el0(c.sp_el0); a64_write_sp_el1(c.sp_el1)
        a64_write_elr_el1(c.elr_el1); a64_write_spsr_el1(c.spsr_el1)
        a64_write_sctlr_el1(c.sctlr_el1); a64_write_ttbr0_el1(c.ttbr0_el1); a64_write_ttbr1_el1(c.ttbr1_el1)
        a64_write_tcr_el1(c.tcr_el1); a64_write_mair_el1(c.mair_el1); a64_write_amair_el1(c.amair_el1)
        a64_write_vbar_el1(c.vbar_el1); a64_write_contextidr_el1(c.contextidr_el1)
        a64_write_tpidr_el0(c.tpidr_el0); a64_write_tpidrro_el0(c.tpidrro_el0); a64_write_tpidr_el1(c.tpidr_el1)
        a64_write_esr_el1(c.esr_el1); a64_write_far_el1(c.far_el1)
        a64_write_afsr0_el1(c.afsr0_el1); a64_write_afsr1_el1(c.afsr1_el1); a64_write_par_el1(c.par_el1)
        a64_write_cpacr_el1(c.cpacr_el1); a64_write_cntkctl_el1(c.cntkctl_el1)
        a64_write_csselr_el1(c.csselr_el1); a64_write_mdscr_el1(c.mdscr_el1)
        a64_write_vmpidr_el2(r.pointee.vmpidr)
        a64_write_cntvoff_el2(0)
        a64_write_cntv_cval_el0(r.pointee.cntv_cval)
        a64_write_cntv_ctl_el0(r.pointee.cntv_ctl)
        a64_write_ich_vmcr(r.pointee.vmcr)
        a64_write_ich_ap1r0(r.pointee.ap1r0)
        for i in 0..<4 { GIC.writeLR(i, lr(r, i)) }
        a64_isb()
    }

    public static func vcpuPut(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ vm: UnsafeMutablePointer<A64VM>) {
        var c = a64_el1_context_t()
        c.sp_el0 = a64_read_sp_el0(); c.sp_el1 = a64_read_sp_el1()
        c.elr_el1 = a64_read_elr_el1(); c.spsr_el1 = a64_read_spsr_el1()
        c.sctlr_el1 = a64_read_sctlr_el1(); c.ttbr0_el1 = a64_read_ttbr0_el1(); c.ttbr1_el1 = a64_read_ttbr1_el1()
        c.tcr_el1 = a64_read_tcr_el1(); c.mair_el1 = a64_read_mair_el1(); c.amair_el1 = a64_read_amair_el1()
        c.vbar_el1 = a64_read_vbar_el1(); c.contextidr_el1 = a64_read_contextidr_el1()
        c.tpidr_el0 = a64_read_tpidr_el0(); c.tpidrro_el0 = a64_read_tpidrro_el0(); c.tpidr_el1 = a64_read_tpidr_el1()
        c.esr_el1 = a64_read_esr_el1(); c.far_el1 = a64_read_far_el1()
        c.afsr0_el1 = a64_read_afsr0_el1(); c.afsr1_el1 = a64_read_afsr1_el1(); c.par_el1 = a64_read_par_el1()
        c.cpacr_el1 = a64_read_cpacr_el1(); c.cntkctl_el1 = a64_read_cntkctl_el1()
        c.csselr_el1 = a64_read_csselr_el1(); c.mdscr_el1 = a64_read_mdscr_el1()
        r.pointee.el1 = c
        r.pointee.cntv_ctl = a64_read_cntv_ctl_el0()
        r.pointee.cntv_cval = a64_read_cntv_cval_el0()
        a64_write_cntv_ctl_el0(0)                  // the next vCPU here must not get this timer
        r.pointee.vmcr = a64_read_ich_vmcr()
        r.pointee.ap1r0 = a64_read_ich_ap1r0()
        for i in 0..<4 {
            var l = ListRegister(raw: GIC.readLR(i))
            // The timer's hardware LR is dropped: its PPI is deactivated below and
            // fires again on the next CPU if the timer condition still holds. A
            // device's stays: the SPI is deactivated by the guest wherever it runs.
            if l.isHardware && l.physical == GIC.virtualTimerPPI { l.raw = 0 }
            setLR(r, i, l.raw)
            GIC.writeLR(i, 0)
        }
        GIC.deactivateVirtualTimer()
        a64_isb()
    }

    static func lr(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ i: Int) -> UInt64 {
        switch i { case 0: r.pointee.lr.0; case 1: r.pointee.lr.1; case 2: r.pointee.lr.2; default: r.pointee.lr.3 }
    }

    static func setLR(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ i: Int, _ v: UInt64) {
        switch i {
        case 0: r.pointee.lr.0 = v
        case 1: r.pointee.lr.1 = v
        case 2: r.pointee.lr.2 = v
        default: r.pointee.lr.3 = v
        }
    }

    /// The loaded vCPU's list registers, from the hardware.
    static func hardwareLRs() -> ListRegisters {
        var l = ListRegisters()
        for i in 0..<ListRegisters.count { l.lr[i] = GIC.readLR(i) }
        return l
    }

    /// Writes back the registers that changed.
    static func writeLRs(_ l: ListRegisters, was old: ListRegisters) {
        for i in 0..<ListRegisters.count where l.lr[i] != old.lr[i] { GIC.writeLR(i, l.lr[i]) }
    }

    /// Puts `l` in the loaded vCPU's list registers; false if all four are taken.
    static func place(_ l: ListRegister) -> Bool {
        let old = hardwareLRs()
        var new = old
        let placed = new.queue(l)
        writeLRs(new, was: old)
        return placed
    }

    /// PPI 27 for the loaded vCPU: a hardware list register (the guest's EOI deactivates it).
    static func injectTimer() { _ = place(ListRegister.make(GIC.virtualTimerPPI, physical: GIC.virtualTimerPPI)) }

    public static func vcpuRun(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ vm: UnsafeMutablePointer<A64VM>,
                               sliceEnd: UInt64) -> VMExit<Never> {
        // SGIs raised for this vCPU, and device SPIs for vCPU 0 (Rumpk takes them
        // there), into free list registers; what does not fit stays pending, and
        // the underflow maintenance interrupt brings the vCPU back to place it.
        var priv = r.pointee.pending | a64_atomic_swap64(&r.pointee.inject, 0)
        let spis = r.pointee.index == 0 ? vm.pointee.gic.pending & vm.pointee.gic.enabled : 0
        var spisLeft = spis
        let old = hardwareLRs()
        var lrs = old
        let overflow = lrs.fill(privatePending: &priv, spiPending: &spisLeft)
        writeLRs(lrs, was: old)
        r.pointee.pending = priv
        vm.pointee.gic.pending &= ~(spis & ~spisLeft)
        a64_write_ich_hcr(overflow ? ICH.enable | ICH.underflowInterrupt : ICH.enable)
        a64_write_hcr_el2(HCR.guest.rawValue)
        a64_write_cptr_el2(0x37FF)               // RES1 bits, TFP and TZ: FP/SIMD and SVE trap
        a64_write_cnthctl_el2(1)                 // EL1PCTEN; EL1PCEN = 0: the physical timer traps
        a64_write_vttbr_el2(vm.pointee.stage2.vttbr)
        a64_write_cnthp_cval_el2(sliceEnd)
        a64_write_cnthp_ctl_el2(1)
        a64_isb()
        rumkv_vcpu_enter(r)
        if overflow { a64_write_ich_hcr(ICH.enable) }   // it is level-triggered: off outside the guest
        let exit = decode(r)
        a64_write_cnthp_ctl_el2(0)
        a64_isb()
        return exit
    }

    static func decode(_ r: UnsafeMutablePointer<a64_vcpu_t>) -> VMExit<Never> {
        let pc = r.pointee.pc
        switch r.pointee.vector {
        case 8: break                                        // synchronous, below
        case 9, 10:
            let tick = GIC.acknowledge(timer: injectTimer)
            // A device interrupt taken with the tick must reach the core now (.interrupt
            // claims it); the slice still ends, the core checks the counter after every exit.
            return tick && !GIC.pendingTaken() ? .tick : .interrupt
        case 11: return .fatal(.accessFault, pc: pc, detail: r.pointee.esr)   // SError
        default: return .fatal(.unknown, pc: pc, detail: r.pointee.vector)     // AArch32 EL1 is never entered
        }
        let s = Syndrome(r.pointee.esr)
        switch s.ec {
        case Syndrome.ecHVC, Syndrome.ecSMC:
            let smc = s.ec == Syndrome.ecSMC
            let d = SMCCC.decode(x0: r.pointee.x.0, x1: r.pointee.x.1, x2: r.pointee.x.2, x3: r.pointee.x.3)
            switch d {
            case .answer(let v, let conv):
                r.pointee.convention = Convention.of(conv, smc: smc)
                vcpuComplete(r, .success(v))
                r.pointee.fast_calls &+= 1
                return .handled
            case .call(let call, let conv):
                r.pointee.convention = Convention.of(conv, smc: smc)
                return .call(call)
            }
        case Syndrome.ecWFx:
            if s.isWFI {
                // vcpuWakeable judges from the saved copies: refresh them (the vCPU stays loaded).
                r.pointee.vmcr = a64_read_ich_vmcr()
                for i in 0..<4 { setLR(r, i, GIC.readLR(i)) }
                return .waitForInterrupt
            }
            r.pointee.pc += 4                                 // WFE: a hint, nothing to wait for here
            return .handled
        case Syndrome.ecDataAbortLower, Syndrome.ecInstructionAbortLower:
            let ipa = faultingIPA(hpfar: r.pointee.hpfar, far: r.pointee.far)
            let gpa = GuestPhysicalAddress(ipa)
            if s.ec == Syndrome.ecDataAbortLower, VGICLayout.distWindow.contains(gpa) || VGICLayout.redistWindow.contains(gpa),
               let a = s.dataAccess(ipa: ipa, value: { register(r, $0) }) {
                return .mmio(a)
            }
            let access: Access = s.ec == Syndrome.ecInstructionAbortLower ? .execute : s.isWrite ? .write : .read
            return .stage2Fault(gpa: gpa, access: access, pc: pc)
        case Syndrome.ecSysReg:
            // The one trapped register a guest may write: the SGI generator (its
            // ICV interface has none), as an IPI to the vCPUs it names.
            if let a = SystemRegisterAccess(s), a.isSGI1R, !a.read {
                r.pointee.convention = Convention.noResult
                return .call(.sendIPI(sgiTargets(register(r, a.rt), sender: Int(r.pointee.index))))
            }
            return .fatal(.virtualInstruction, pc: pc, detail: r.pointee.esr)
        case 0x00:
            return .fatal(.illegalInstruction, pc: pc, detail: r.pointee.esr)
        default:
            return .fatal(.unknown, pc: pc, detail: r.pointee.esr)
        }
    }

    /// General register n of the saved guest (31 reads as zero: xzr).
    static func register(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ n: UInt8) -> UInt64 {
        guard n < 31 else { return 0 }
        return withUnsafeBytes(of: &r.pointee.x) { $0.load(fromByteOffset: Int(n) * 8, as: UInt64.self) }
    }

    static func setRegister(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ n: UInt8, _ v: UInt64) {
        guard n < 31 else { return }
        withUnsafeMutableBytes(of: &r.pointee.x) { $0.storeBytes(of: v, toByteOffset: Int(n) * 8, as: UInt64.self) }
    }

    /// How the last call's result goes back (a64_vcpu_t.convention).
    enum Convention {
        static let rumkv: UInt64 = 1        // x0 = error, x1 = value (else PSCI: x0 = value or error)
        static let smc: UInt64 = 2          // ELR points at the SMC: step past it
        static let noResult: UInt64 = 4     // a trapped MSR: no register is written, step past it
        static func of(_ c: SMCCC.Convention, smc s: Bool) -> UInt64 { (c == .rumkv ? rumkv : 0) | (s ? smc : 0) }
    }

    public static func vcpuComplete(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ result: CallResult) {
        let conv = r.pointee.convention
        if conv & Convention.noResult != 0 { r.pointee.pc += 4; return }
        let regs = SMCCC.registers(result, conv & Convention.rumkv != 0 ? .rumkv : .psci)
        r.pointee.x.0 = regs.x0
        if let x1 = regs.x1 { r.pointee.x.1 = x1 }
        if conv & Convention.smc != 0 { r.pointee.pc += 4 }
    }

    public static func vcpuCompleteMMIO(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ access: MMIOAccess, value: UInt64) {
        if !access.write {
            var v = extendLoad(value, access)
            // A 32-bit register (W form, SF = 0) is zero-extended above bit 31.
            if Syndrome(r.pointee.esr).raw & (1 << 15) == 0 { v &= 0xFFFF_FFFF }
            setRegister(r, access.register, v)
        }
        r.pointee.pc += UInt64(access.instructionLength)
    }

    public static func vcpuEmulate(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ vm: UnsafeMutablePointer<A64VM>,
                                   _ trap: Never) -> TrapOutcome {}

    public static func vcpuSkip(_ r: UnsafeMutablePointer<a64_vcpu_t>) { r.pointee.pc += 4 }

    /// Raised from any CPU: merged into the list registers at the vCPU's next entry.
    public static func vcpuInject(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ interrupt: VirtualInterrupt) {
        switch interrupt {
        case .ipi: a64_atomic_or64(&r.pointee.inject, 1 << UInt64(VirtualSGI.ipi))
        case .doorbell: a64_atomic_or64(&r.pointee.inject, 1 << UInt64(VirtualSGI.doorbell))
        }
    }

    /// The timer's condition (enabled, not masked, due), or a virtual interrupt
    /// the guest has enabled group 1 for (ICH_VMCR_EL2.VENG1).
    public static func vcpuWakeable(_ r: UnsafeMutablePointer<a64_vcpu_t>, _ vm: UnsafeMutablePointer<A64VM>,
                                    now: UInt64) -> Bool {
        if now >= vcpuTimerDeadline(r) { return true }
        guard r.pointee.vmcr & (1 << 1) != 0 else { return false }
        let queued = r.pointee.lr.0 | r.pointee.lr.1 | r.pointee.lr.2 | r.pointee.lr.3
        let device = r.pointee.index == 0 && vm.pointee.gic.pending & vm.pointee.gic.enabled != 0
        return r.pointee.pending != 0 || a64_atomic_load64(&r.pointee.inject) != 0 || queued >> 62 != 0 || device
    }

    public static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<a64_vcpu_t>) -> UInt64 {
        r.pointee.cntv_ctl & 3 == 1 ? r.pointee.cntv_cval : UInt64.max
    }

    public static func vcpuPC(_ r: UnsafeMutablePointer<a64_vcpu_t>) -> UInt64 { r.pointee.pc }

    public static func vcpuFastCalls(_ r: UnsafeMutablePointer<a64_vcpu_t>) -> UInt64 { r.pointee.fast_calls }

    // MARK: CPUs

    public static func idle(until: UInt64) {
        a64_write_cnthp_cval_el2(until)
        a64_write_cnthp_ctl_el2(1)
        a64_isb()
        a64_wfi()
        a64_write_cnthp_ctl_el2(0)
        a64_isb()
        _ = GIC.acknowledge(timer: nil)
    }

    /// PSCI CPU_ON (SMC64): the CPU enters rumkv_secondary_start at EL2 with x0 = its stack top.
    public static func startSecondary(_ index: Int, hardwareID: UInt64, stack: HostPhysicalAddress) -> Bool {
        PSCI.call(PSCI.cpuOn, hardwareID, a64_secondary_entry(), stack.value) == 0
    }

    public static func cpuReady(_ cpu: Int) {}

    public static func kickCPU(_ cpu: Int) { GIC.kick(cpu) }

    /// The big lock is held elsewhere: wfe until its holder's sev (a sev
    /// that came first leaves the event register set: wfe returns at once).
    /// Under QEMU TCG wfe also yields the host thread to the other CPUs.
    public static func lockWait() { a64_wfe() }

    public static func lockWake(_ cpus: UInt64) {
        a64_dsb()            // the release store is visible before the event
        a64_sev()
    }

    /// EL2 setup for running guests on this CPU: its index, the GIC, VTCR and the timers.
    static func prepareCPU(_ index: Int) {
        a64_write_tpidr_el2(UInt64(index))
        a64_write_vtcr_el2(Stage2Format.vtcr)
        a64_write_cnthp_ctl_el2(0)
        a64_write_cntv_ctl_el0(0)
        a64_write_cntvoff_el2(0)
        a64_isb()
        GIC.initCPU(index, mpidr: index < cpuCount ? cpuIDs[index] : a64_read_mpidr())
    }

    /// MPIDR affinities by CPU index (the device tree's /cpus, for kicks and CPU_ON).
    nonisolated(unsafe) static var cpuIDs: InlineArray<8, UInt64> = .init(repeating: 0)
    nonisolated(unsafe) static var cpuCount = 0
}

@_cdecl("rumkv_secondary_main")
func rumkvSecondaryMain(_ mpidr: UInt64) -> Never {
    var index = 0
    for i in 0..<AArch64.cpuCount where AArch64.cpuIDs[i] == mpidr & mpidrAffinityMask { index = i }
    AArch64.prepareCPU(index)
    Hypervisor<AArch64>.secondaryStarted(index)
}
