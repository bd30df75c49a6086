// VCPU (riscv64): running a vCPU in VS-mode and decoding why it stopped.
//
// Before entry the vCPU's VS-level CSRs, stage-2 root and the slice timer
// (stimecmp, Sstc) are loaded; after exit they are saved and the trap is
// decoded into a portable `VMExit` (RISC-V Privileged Spec v1.12, 8.6:
// scause 10 = ecall from VS, 20/21/23 = guest-page faults with the guest
// physical address in htval << 2, 22 = virtual instruction). A trapped
// instruction is decoded from the guest's own memory (HLVX, see MMIO.swift),
// never from stval: the spec lets stval be 0 for a virtual-instruction trap,
// and QEMU 7.2 then leaves whatever the previous trap on that hart put there.

import ArchShims
import RumkvCore
import RumABI

/// A riscv64 VM: its Sv39x4 stage-2 and its virtual PLIC.
public struct RVVM {
    public var stage2 = RVStage2()
    var plic = VirtualPLIC()
    public init() {}
}

extension RISCV64: GuestHosting {
    public typealias VCPURegisters = rv_vcpu_t
    public typealias VMState = RVVM
    public typealias PortTrap = Never

    public static func currentCPU() -> Int { Int(rv_read_tp()) }

    public static func instructionsRetired() -> UInt64 { rv_read_instret() }

    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_RISCV64) }

    public static var portWindow: GuestRegion { .empty }

    // MARK: VMs

    public static func vmEmpty() -> RVVM { RVVM() }

    public static func vmCreate(_ vm: UnsafeMutablePointer<RVVM>, vmid: UInt16, layout: GuestLayout,
                                _ pages: inout PageAllocator) -> Bool {
        guard let s = RVStage2.create(layout, vmid: vmid, &pages) else { return false }
        vm.pointee = RVVM()
        vm.pointee.stage2 = s
        return true
    }

    public static func vmDestroy(_ vm: UnsafeMutablePointer<RVVM>, _ pages: inout PageAllocator) {
        RVStage2.destroy(vm.pointee.stage2, &pages)
        vm.pointee = RVVM()
    }

    public static func vmMap(_ vm: UnsafeMutablePointer<RVVM>, _ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress,
                             size: UInt64, _ kind: MappingKind, _ pages: inout PageAllocator) -> Bool {
        vm.pointee.stage2.mapRange(gpa: gpa.value, hpa: hpa.value, size: size, device: kind == .device, &pages)
    }

    // MARK: vCPUs

    public static func vcpuCreate(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ pages: inout PageAllocator) -> Bool {
        r.initialize(to: rv_vcpu_t())
        return true
    }

    public static func vcpuReset(_ r: UnsafeMutablePointer<rv_vcpu_t>, vcpu: Int, entry: GuestPhysicalAddress, arg: UInt64) {
        let fast = r.pointee.fast_calls
        r.initialize(to: rv_vcpu_t())
        r.pointee.fast_calls = fast
        r.pointee.index = UInt64(vcpu)
        r.pointee.pc = entry.value
        r.pointee.gpr.10 = UInt64(vcpu)        // a0 = hart id (the vCPU index)
        r.pointee.gpr.11 = arg
        r.pointee.sstatus = SStatus.spp.rawValue
        r.pointee.vstimecmp = UInt64.max
    }

    /// Everything is loaded at each entry (`vcpuRun`): nothing is lazy.
    public static func vcpuLoad(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ vm: UnsafeMutablePointer<RVVM>) {}
    public static func vcpuPut(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ vm: UnsafeMutablePointer<RVVM>) {}

    public static func vcpuRun(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ vm: UnsafeMutablePointer<RVVM>,
                               sliceEnd: UInt64) -> VMExit<Never> {
        // Virtual interrupts: IPIs and doorbells raised from any hart (atomic), and
        // the guest's virtual PLIC for external interrupts; loaded into hvip below.
        var hvip = InterruptBits(rawValue: r.pointee.hvip | rv_atomic_swap64(&r.pointee.inject, 0))
        if vm.pointee.plic.best(Int(r.pointee.index)) != 0 { hvip.insert(.vsei) } else { hvip.remove(.vsei) }
        r.pointee.hvip = hvip.rawValue
        loadGuestCSRs(r, hgatp: vm.pointee.stage2.hgatp)
        var hs = HStatus(rawValue: r.pointee.hstatus)
        hs.formUnion([.spv, .vtw])
        hs.remove(.spvp)
        r.pointee.hstatus = hs.rawValue
        fpLoad(r)
        r.pointee.sstatus = rv_read_sstatus() | SStatus.spp.rawValue
        rv_write_stimecmp(sliceEnd)
        rumkv_vcpu_enter(r)
        let exit = decode(r)        // before the guest's translation is unloaded (instruction fetch)
        saveGuestCSRs(r)
        fpSave(r)
        return exit
    }

    // MARK: FP state (RISC-V Privileged Spec v1.12, 3.1.6.6 and 8.2.10)
    //
    // With V=1 an FP instruction needs both sstatus.FS and vsstatus.FS to be
    // non-Off, and an FP write sets both to Dirty. The hypervisor never uses
    // the FPU (soft-float), so the hart's f-registers always hold the values
    // of the last vCPU that ran on it with FS on: `fpOwner`. Entering a vCPU
    // whose values are not the hart's loads them (HS FS = Clean); leaving one
    // that made them Dirty saves them (then Clean). A guest that never turns
    // its FPU on costs one comparison on entry; one that does is restored
    // only when another vCPU used the hart in between. A guest can turn its
    // own FPU on at any time without a trap, so the load cannot wait for its
    // first FP instruction: a vCPU never sees another's registers, not even
    // with vsstatus.FS Off (it cannot read them then, and they are replaced
    // before it runs with FS on and this hart's registers).

    /// Harts have F and D (the boot hart's riscv,isa); false: FS stays Off, guest FP traps to the guest.
    nonisolated(unsafe) static var guestFP = false
    /// The vCPU whose values this hart's f-registers hold, by CPU index.
    nonisolated(unsafe) static var fpOwner: InlineArray<8, UInt> = .init(repeating: 0)

    static let fsMask: UInt64 = 3 << 13, fsClean: UInt64 = 2 << 13, fsDirty: UInt64 = 3 << 13

    static func fpLoad(_ r: UnsafeMutablePointer<rv_vcpu_t>) {
        guard guestFP else { return }
        let c = currentCPU()
        guard c < 8 else { return }
        let me = UInt(bitPattern: r)
        rv_set_sstatus(fsClean)                  // FS from Off to Clean (or left Clean/Dirty)
        if fpOwner[c] != me || r.pointee.fp_cpu != UInt64(c + 1) {
            withUnsafePointer(to: &r.pointee.fpr) { rumkv_fp_restore(UnsafeRawPointer($0).assumingMemoryBound(to: UInt64.self)) }
            fpOwner[c] = me
            r.pointee.fp_cpu = UInt64(c + 1)
        }
        rv_clear_sstatus(fsMask ^ fsClean)       // Clean: the hart's registers equal the vCPU's
    }

    static func fpSave(_ r: UnsafeMutablePointer<rv_vcpu_t>) {
        guard guestFP, rv_read_sstatus() & fsMask == fsDirty else { return }
        withUnsafeMutablePointer(to: &r.pointee.fpr) { rumkv_fp_save(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self)) }
        rv_clear_sstatus(fsMask ^ fsClean)
    }

    static func loadGuestCSRs(_ r: UnsafeMutablePointer<rv_vcpu_t>, hgatp: UInt64) {
        rv_write_hgatp(hgatp)
        rv_hfence_vvma_all()
        rv_write_vsstatus(r.pointee.vsstatus)
        rv_write_vsie(r.pointee.vsie)
        rv_write_vstvec(r.pointee.vstvec)
        rv_write_vsscratch(r.pointee.vsscratch)
        rv_write_vsepc(r.pointee.vsepc)
        rv_write_vscause(r.pointee.vscause)
        rv_write_vstval(r.pointee.vstval)
        rv_write_vsatp(r.pointee.vsatp)
        rv_write_hvip(r.pointee.hvip)
        rv_write_vstimecmp(r.pointee.vstimecmp)
    }

    static func saveGuestCSRs(_ r: UnsafeMutablePointer<rv_vcpu_t>) {
        r.pointee.vsstatus = rv_read_vsstatus()
        r.pointee.vsie = rv_read_vsie()
        r.pointee.vstvec = rv_read_vstvec()
        r.pointee.vsscratch = rv_read_vsscratch()
        r.pointee.vsepc = rv_read_vsepc()
        r.pointee.vscause = rv_read_vscause()
        r.pointee.vstval = rv_read_vstval()
        r.pointee.vsatp = rv_read_vsatp()
        r.pointee.hvip = rv_read_hvip()
        r.pointee.vstimecmp = rv_read_vstimecmp()
        rv_write_hgatp(0)
    }

    static func decode(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> VMExit<Never> {
        let cause = r.pointee.scause
        let pc = r.pointee.pc
        if cause >> 63 == 1 {
            switch cause & 0xFF {
            case 5:
                rv_write_stimecmp(UInt64.max)
                return .tick
            case 1:
                rv_clear_sip_ssip()
                return .interrupt
            default:
                return .interrupt
            }
        }
        switch cause {
        case 10:
            return .call(SBI.decode(r))
        case 20, 21, 23:
            let gpa = GuestPhysicalAddress(r.pointee.htval << 2 | (r.pointee.stval & 3))
            let access: Access = cause == 20 ? .execute : cause == 21 ? .read : .write
            if cause != 20, PLIC.window.contains(gpa) || inUARTWindow(r, gpa), let a = GuestInstruction.loadStore(r, at: gpa) {
                return .mmio(a)
            }
            return .stage2Fault(gpa: gpa, access: access, pc: pc)
        case 22:
            guard let insn = GuestInstruction.fetch32(pc) else {
                return .fatal(.virtualInstruction, pc: pc, detail: 0)
            }
            if TrappedInstruction.isWFI(insn) { return .waitForInterrupt }
            return .fatal(.virtualInstruction, pc: pc, detail: UInt64(insn))
        case 2:
            return .fatal(.illegalInstruction, pc: pc, detail: r.pointee.stval)
        case 0, 4, 6:
            return .fatal(.misaligned, pc: pc, detail: r.pointee.stval)
        case 1, 5, 7:
            return .fatal(.accessFault, pc: pc, detail: r.pointee.stval)
        default:
            return .fatal(.unknown, pc: pc, detail: cause)
        }
    }

    /// True if `gpa` lies in the emulated NS16550 window of the guest owning `r`.
    static func inUARTWindow(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ gpa: GuestPhysicalAddress) -> Bool {
        guard let w = GuestUART<RISCV64>.window(of: r) else { return false }
        return gpa.value >= w.base && gpa.value - w.base < RUM_VUART_SIZE
    }

    public static func vcpuComplete(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ result: CallResult) {
        let regs = SBIError.registers(result, legacy: r.pointee.legacy_call != 0)
        r.pointee.gpr.10 = regs.a0
        if let a1 = regs.a1 { r.pointee.gpr.11 = a1 }
        r.pointee.pc += 4
    }

    public static func vcpuCompleteMMIO(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ access: MMIOAccess, value: UInt64) {
        if !access.write { GuestInstruction.setRegister(r, access.register, GuestInstruction.extend(value, access)) }
        r.pointee.pc += UInt64(access.instructionLength)
    }

    public static func vcpuEmulate(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ vm: UnsafeMutablePointer<RVVM>,
                                   _ trap: Never) -> TrapOutcome {}

    public static func vcpuSkip(_ r: UnsafeMutablePointer<rv_vcpu_t>) { r.pointee.pc += 4 }

    /// Raised from any hart: merged into hvip at the vCPU's next entry. IPIs
    /// and doorbells share the virtual supervisor software interrupt.
    public static func vcpuInject(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ interrupt: VirtualInterrupt) {
        switch interrupt {
        case .ipi, .doorbell: rv_atomic_or64(&r.pointee.inject, InterruptBits.vssi.rawValue)
        }
    }

    public static func vcpuWakeable(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ vm: UnsafeMutablePointer<RVVM>,
                                    now: UInt64) -> Bool {
        r.pointee.hvip & InterruptBits.vssi.rawValue != 0 || r.pointee.inject != 0 || now >= r.pointee.vstimecmp
            || vm.pointee.plic.best(Int(r.pointee.index)) != 0
    }

    public static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.vstimecmp }

    public static func vcpuPC(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.pc }

    public static func vcpuFastCalls(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.fast_calls }

    // MARK: CPUs

    public static func idle(until: UInt64) {
        rv_write_stimecmp(until)
        rv_wfi()
        rv_write_stimecmp(UInt64.max)
        rv_clear_sip_ssip()
    }

    /// The big lock is held elsewhere: sleep until its holder's `lockWake`
    /// IPI, or 1 ms (a backstop). The slice deadline in stimecmp is kept (a
    /// trap fast path that takes the lock resumes its guest directly), and
    /// SSIP is left pending: it may be a kick for the vCPU this hart runs,
    /// which must make it exit when it is resumed. A pending SSIP makes wfi
    /// return at once, so a CPU with a kick pending spins instead of sleeping.
    public static func lockWait() {
        let deadline = rv_read_stimecmp()
        rv_write_stimecmp(min(deadline, rv_read_time() &+ timebaseHz / 1000))
        rv_wfi()
        rv_write_stimecmp(deadline)
    }

    public static func lockWake(_ cpus: UInt64) {
        var rest = cpus & ~(1 << UInt64(currentCPU() & 63))
        while rest != 0 {
            let cpu = rest.trailingZeroBitCount
            rest &= rest - 1
            kickCPU(cpu)
        }
    }

    /// SBI HSM hart_start: the hart enters _secondary_start with a1 = its stack top.
    public static func startSecondary(_ index: Int, hardwareID: UInt64, stack: HostPhysicalAddress) -> Bool {
        rv_sbi_call(SBIExtension.hsm, 0, hardwareID, rv_secondary_entry(), stack.value).error == 0
    }

    public static func cpuReady(_ cpu: Int) { PLIC.hartReady(cpu) }

    public static func kickCPU(_ cpu: Int) {
        guard cpu >= 0, cpu < hartCount else { return }
        _ = rv_sbi_call(SBIExtension.ipi, 0, 1, hartIDs[cpu], 0)      // send_ipi(mask 1, base = hart id)
    }

    /// Host setup for running guests on this hart: delegation and counters.
    static func prepareHart() {
        rv_write_hedeleg(ExceptionBits.guestOwned.rawValue)
        rv_write_hideleg(InterruptBits([.vssi, .vsti, .vsei]).rawValue)
        rv_write_hcounteren(0x7)                           // cycle, time, instret
        rv_write_henvcfg(1 << 63)                          // STCE: guests get vstimecmp
        rv_write_hvip(0)
        rv_write_stimecmp(UInt64.max)
        rv_write_sie(InterruptBits([.sti, .ssi, .sei]).rawValue)   // slice tick, IPI, devices
    }

    /// Hart ids by CPU index (the platform's, kept for IPIs and secondary entry).
    nonisolated(unsafe) static var hartIDs: InlineArray<8, UInt64> = .init(repeating: 0)
    nonisolated(unsafe) static var hartCount = 0
}

@_cdecl("rumkv_secondary_main")
func rumkvSecondaryMain(_ hartID: UInt64) -> Never {
    var index = 0
    for i in 0..<RISCV64.hartCount where RISCV64.hartIDs[i] == hartID { index = i }
    rv_write_tp(UInt64(index))
    RISCV64.prepareHart()
    Hypervisor<RISCV64>.secondaryStarted(index)
}
