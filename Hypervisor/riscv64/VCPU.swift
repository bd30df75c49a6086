// VCPU (riscv64): running a vCPU in VS-mode and decoding why it stopped.
//
// Before entry the vCPU's VS-level CSRs, stage-2 root and the slice timer
// (stimecmp, Sstc) are loaded; after exit they are saved and the trap is
// decoded into a portable `VMExit` (RISC-V Privileged Spec v1.12, 8.6:
// scause 10 = ecall from VS, 20/21/23 = guest-page faults with the guest
// physical address in htval << 2, 22 = virtual instruction).

import ArchShims
import RumkvCore
import RumABI

extension RISCV64: GuestHosting {
    public typealias VCPURegisters = rv_vcpu_t
    public typealias Stage2 = RVStage2

    static let hstatusSPV: UInt64 = 1 << 7
    static let hstatusSPVP: UInt64 = 1 << 8
    static let hstatusVTW: UInt64 = 1 << 21
    static let sstatusSPP: UInt64 = 1 << 8
    static let wfiInstruction: UInt64 = 0x1050_0073

    public static func currentHart() -> Int { Int(rv_read_tp()) }

    public static func instructionsRetired() -> UInt64 { rv_read_instret() }

    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_RISCV64) }

    public static func stage2Create(_ pages: inout PageAllocator, vmid: UInt16, ramHost: UInt64, ramSize: UInt64,
                                    sysTableHost: UInt64) -> RVStage2? {
        RVStage2.create(&pages, vmid: vmid, ramHost: ramHost, ramSize: ramSize, sysTableHost: sysTableHost)
    }

    public static func stage2Destroy(_ s: RVStage2, _ pages: inout PageAllocator) { RVStage2.destroy(s, &pages) }

    public static func stage2Pages(_ s: RVStage2) -> Int { 4 + s.tableCount }

    public static func stage2Map(_ s: inout RVStage2, gpa: UInt64, hpa: UInt64, size: UInt64, device: Bool,
                                 _ pages: inout PageAllocator) -> Bool {
        s.mapRange(gpa: gpa, hpa: hpa, size: size, device: device, &pages)
    }

    public static func vcpuReset(_ r: UnsafeMutablePointer<rv_vcpu_t>, guest: Int, hartID: UInt64, entry: UInt64, arg: UInt64) {
        let fast = r.pointee.fast_calls
        r.initialize(to: rv_vcpu_t())
        r.pointee.fast_calls = fast
        r.pointee.guest = UInt64(guest)
        r.pointee.index = hartID
        r.pointee.pc = entry
        r.pointee.gpr.10 = hartID
        r.pointee.gpr.11 = arg
        r.pointee.sstatus = sstatusSPP
        r.pointee.vstimecmp = UInt64.max
    }

    public static func vcpuRun(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ s: RVStage2, sliceEnd: UInt64) -> VMExit {
        // Virtual interrupts: IPIs and doorbells raised from any hart (atomic), and
        // the guest's virtual PLIC for external interrupts; loaded into hvip below.
        r.pointee.hvip |= rv_atomic_swap64(&r.pointee.inject, 0)
        if PLIC.externalPending(Int(r.pointee.guest), Int(r.pointee.index)) { r.pointee.hvip |= vseip }
        else { r.pointee.hvip &= ~vseip }
        loadGuestCSRs(r, s)
        r.pointee.hstatus = (r.pointee.hstatus | hstatusSPV | hstatusVTW) & ~hstatusSPVP
        r.pointee.sstatus = rv_read_sstatus() | sstatusSPP
        rv_write_stimecmp(sliceEnd)
        rumkv_vcpu_enter(r)
        let exit = decode(r)        // before the guest's translation is unloaded (MMIO fetch)
        saveGuestCSRs(r)
        return exit
    }

    static let vssip: UInt64 = 1 << 2
    static let vseip: UInt64 = 1 << 10

    static func loadGuestCSRs(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ s: RVStage2) {
        rv_write_hgatp(s.hgatp)
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

    static func decode(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> VMExit {
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
            case 9:
                return .interrupt
            default:
                return .interrupt
            }
        }
        switch cause {
        case 10:
            return .call(SBI.decode(r))
        case 20, 21, 23:
            let gpa = r.pointee.htval << 2 | (r.pointee.stval & 3)
            let access: Access = cause == 20 ? .execute : cause == 21 ? .read : .write
            if cause != 20, gpa >= PLIC.vbase, gpa < PLIC.vbase + PLIC.vsize, MMIODecode.decode(r, gpa: gpa) {
                return .mmio
            }
            return .stage2Fault(gpa: gpa, access: access, pc: pc)
        case 22:
            if r.pointee.stval == wfiInstruction { return .waitForInterrupt }
            return .fatal(.virtualInstruction, pc: pc, detail: r.pointee.stval)
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

    public static func vcpuComplete(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ result: CallResult) {
        r.pointee.gpr.10 = UInt64(bitPattern: result.error)
        r.pointee.gpr.11 = UInt64(bitPattern: result.value)
        r.pointee.pc += 4
    }

    public static func vcpuSkip(_ r: UnsafeMutablePointer<rv_vcpu_t>) { r.pointee.pc += 4 }

    /// Raised from any hart: merged into hvip at the vCPU's next entry.
    public static func vcpuSetIPI(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ pending: Bool) {
        if pending { rv_atomic_or64(&r.pointee.inject, vssip) }
    }

    public static func vcpuWakeable(_ r: UnsafeMutablePointer<rv_vcpu_t>, now: UInt64) -> Bool {
        r.pointee.hvip & vssip != 0 || r.pointee.inject != 0 || now >= r.pointee.vstimecmp
            || PLIC.externalPending(Int(r.pointee.guest), Int(r.pointee.index))
    }

    public static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.vstimecmp }

    public static func vcpuPC(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.pc }

    public static func idle(until: UInt64) {
        rv_write_stimecmp(until)
        rv_wfi()
        rv_write_stimecmp(UInt64.max)
        rv_clear_sip_ssip()
    }

    public static func startSecondary(_ index: Int, hardwareID: UInt64) -> Bool {
        // Hart stacks: 64 KiB each from the allocator; the machine is up already.
        let m = Machine<RISCV64>.shared
        BigLock.acquire()
        let stack = m.pointee.pages.allocateZeroed(pages: 16)
        BigLock.release()
        guard let stack else { return false }
        secondaryIndex[index] = hardwareID
        let r = rv_sbi_call(0x48_534D, 0, hardwareID, rv_secondary_entry(), stack + 16 * 4096)
        return r.error == 0
    }

    /// Host setup for running guests on this hart: delegation and counters.
    static func prepareHart() {
        // Exceptions the guest handles itself (VS-stage): misaligned fetch, illegal
        // instruction, breakpoint, misaligned load/store, ecall from VU, VS page faults.
        rv_write_hedeleg(1 << 0 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 8 | 1 << 12 | 1 << 13 | 1 << 15)
        rv_write_hideleg(1 << 2 | 1 << 6 | 1 << 10)       // VSSIP, VSTIP, VSEIP
        rv_write_hcounteren(0x7)                           // cycle, time, instret
        rv_write_henvcfg(1 << 63)                          // STCE: guests get vstimecmp
        rv_write_hvip(0)
        rv_write_stimecmp(UInt64.max)
        rv_write_sie(1 << 5 | 1 << 1 | 1 << 9)             // STIE (slice tick), SSIE (IPI), SEIE (devices)
    }
}

nonisolated(unsafe) var secondaryIndex: InlineArray<8, UInt64> = .init(repeating: 0)

@_cdecl("rumkv_secondary_main")
func rumkvSecondaryMain(_ hartID: UInt64) -> Never {
    let m = Machine<RISCV64>.shared
    var index = 0
    for i in 0..<min(m.pointee.platform.cpuCount, Platform.cpuIDCapacity) where m.pointee.platform.cpuIDs[i] == hartID { index = i }
    rv_write_tp(UInt64(index))
    RISCV64.prepareHart()
    BigLock.acquire()
    PLIC.hartReady(index)
    m.pointee.hartOnline[index] = true
    BigLock.release()
    Scheduler<RISCV64>.runHart(index)
}

extension RISCV64 {
    public static func vcpuFastCalls(_ r: UnsafeMutablePointer<rv_vcpu_t>) -> UInt64 { r.pointee.fast_calls }
}
