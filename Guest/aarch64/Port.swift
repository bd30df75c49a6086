// Port (aarch64): Rumpk on an Arm CPU at EL1, under Rumkv at EL2.
//
// Hypercalls are HVC #0 with x0 = an SMCCC vendor-hypervisor function id,
// RUM_SMCCC_HV_BASE | RUM_HC_*, and x1..x3 the arguments
// (Shared/include/rumabi.h); Rumkv answers x0 = error (RUM_HC_OK or a
// negative RUM_HC_ERR_*) and x1 = value. The MMU
// is off, so a buffer's address is its guest-physical address. Time is the
// virtual counter; sleeping arms the EL1 virtual timer and waits in wfi with
// IRQs masked in PSTATE (wfi still wakes on the pending timer, no handler
// runs). Any exception is fatal: the EL1 vectors (entry.S) report it.

import ArchShims
import RumABI
import CRumpk

public enum GuestAArch64: GuestPort {
    public static var name: StaticString { "aarch64" }
    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_ARM64) }

    /// The SMCCC function id of Rumkv hypercall `n`.
    static func call(_ n: UInt32) -> UInt64 { UInt64(RUM_SMCCC_HV_BASE | n) }

    public static func consoleWrite(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return }
        _ = a64_hvc_call(call(Hypercall.consoleWrite), UInt64(UInt(bitPattern: start)), UInt64(bytes.count), 0)
    }

    public static func exit(_ code: UInt64) -> Never {
        _ = a64_hvc_call(call(Hypercall.exit), code, 0, 0)
        waitForever()
    }

    public static func counter() -> UInt64 { a64_read_cntvct() }

    /// Waits for the deadline whatever happens meanwhile (events only shorten each idle).
    public static func sleep(until deadline: UInt64) {
        while a64_read_cntvct() < deadline { idle(until: deadline) }
    }

    public static func setTimer(_ deadline: UInt64) {
        a64_write_cntv_cval(deadline)
        a64_write_cntv_ctl(deadline == UInt64.max ? 0 : 1)
    }

    public static func installTrapHandler() { a64_write_vbar_el1(a64_guest_vectors()) }

    /// Guest time in nanoseconds from the virtual counter: the same on every
    /// CPU a vCPU migrates to (a PMU counter is per CPU and not switched), and
    /// one per instruction under QEMU -icount shift=0 (1 instruction = 1 ns).
    static func nanoseconds() -> UInt64 {
        let t = a64_read_cntvct(), f = max(a64_read_cntfrq(), 1)
        return (t / f) &* 1_000_000_000 &+ (t % f) &* 1_000_000_000 / f
    }
}

/// Interrupts through the GICv3 CPU interface, which Rumkv virtualizes
/// (ICC_* system registers at EL1 are the hardware's ICV_* ones): the
/// doorbell is virtual SGI 1, the timer PPI 27 (the EL1 virtual timer),
/// devices are SPIs enabled in the virtual distributor (device table region
/// 0). The handler (`rumpk_interrupt`) acknowledges with ICC_IAR1_EL1, posts
/// events and ends each with ICC_EOIR1_EL1 (priority drop and deactivation).
/// Idling masks IRQs in PSTATE, arms the timer and waits in wfi (Rumkv traps
/// it and resumes the vCPU when its timer is due or an interrupt pends), then
/// opens a short window for the handler, as on riscv64.
extension GuestAArch64 {
    public static func read32(_ address: UInt64) -> UInt32 { a64_mmio_read32(address) }
    public static func write32(_ address: UInt64, _ value: UInt32) { a64_mmio_write32(address, value) }
    public static func ioBarrier() { a64_dsb() }
    public static func doorbell(_ n: UInt64) -> Int64 {
        Int64(bitPattern: a64_hvc_call(call(Hypercall.doorbell), n, 0, 0).x0)
    }

    /// Whether the kernel turned interrupts on (then PSTATE.I is clear outside `idle`).
    nonisolated(unsafe) static var interruptsOn = false
    /// The virtual distributor (device table), 0 if none.
    nonisolated(unsafe) static var distributor: UInt64 = 0

    static let doorbellSGI: UInt32 = 1
    static let timerPPI: UInt32 = 27
    static let spurious: UInt32 = 1020

    /// The CPU interface: every priority unmasked, group 1 on.
    static func startCPUInterface() {
        a64_write_icc_pmr(0xFF)
        a64_write_icc_bpr1(0)
        a64_write_icc_igrpen1(1)
        a64_isb()
    }

    public static func enableInterrupts(devices: Bool, doorbells: Bool) -> Bool {
        startCPUInterface()
        interruptsOn = true
        a64_irq_enable()
        return true
    }

    public static func interruptControllerStart(_ chip: IRQChip) -> Bool {
        guard chip.kind == RUM_IRQCHIP_GICV3, chip.region_count >= 1, chip.regions.0.base != 0 else { return false }
        distributor = chip.regions.0.base
        write32(distributor, 1 << 4 | 1 << 1)          // GICD_CTLR: ARE, EnableGrp1
        startCPUInterface()
        return true
    }

    /// GICD_ISENABLER / ICENABLER n (IHI 0069, 12.9).
    public static func interruptSource(_ irq: UInt32, enabled: Bool) {
        guard distributor != 0, irq >= 32, irq < 1020 else { return }
        write32(distributor + (enabled ? 0x100 : 0x180) + UInt64(irq / 32) * 4, 1 << (irq % 32))
    }

    /// The highest pending interrupt if it is a device's (an SPI), acknowledged; else 0.
    public static func interruptClaim() -> UInt32 {
        let next = UInt32(truncatingIfNeeded: a64_read_icc_hppir1() & 0xFF_FFFF)
        guard next >= 32, next < spurious else { return 0 }
        return UInt32(truncatingIfNeeded: a64_read_icc_iar1() & 0xFF_FFFF)
    }

    public static func interruptComplete(_ irq: UInt32) {
        a64_write_icc_eoir1(UInt64(irq))
        a64_isb()
    }

    public static func postEvents(_ bits: UInt64) { rumpk_post_events(bits) }
    public static func takeEvents() -> UInt64 { rumpk_take_events() }

    public static func idle(until deadline: UInt64) {
        a64_irq_disable()                                 // no handler between the check and wfi
        while a64_read_cntvct() < deadline && rumpk_peek_events() == 0 {
            a64_write_cntv_cval(deadline)
            a64_write_cntv_ctl(1)                         // ENABLE, IMASK clear: its condition wakes wfi
            a64_wfi()
            if interruptsOn {                             // let the handler take what woke us
                a64_irq_enable()
                a64_isb()
                a64_irq_disable()
            }
        }
        a64_write_cntv_ctl(0)
        if interruptsOn { a64_irq_enable() }
    }
}

extension GuestAArch64: HostilePort {
    public static func load(_ address: UInt64) -> UInt64 { a64_mmio_read64(address) }
    public static func store(_ address: UInt64, _ value: UInt64) { a64_mmio_write64(address, value) }

    /// x0 = ext | fid: `ext` is an SMCCC function-id base (call type and
    /// owner, `fuzzExtension`) or any value, `fid` the function number; bits
    /// above 31 make an id SMCCC reserves, which Rumkv must refuse.
    public static func rawCall(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64) -> (Int64, Int64) {
        let r = a64_hvc_call(ext | fid, a0, a1, a2)
        return (Int64(bitPattern: r.x0), Int64(bitPattern: r.x1))
    }

    /// SMCCC function-id bases (Arm DEN 0028, "Function Identifier"): PSCI
    /// (standard secure service, SMC32 and SMC64), the Arm architecture calls,
    /// Rumkv's vendor-hypervisor calls, and owners Rumkv does not serve (SiP,
    /// OEM, the standard hypervisor service, vendor-hypervisor SMC32).
    public static func fuzzExtension(_ i: Int) -> UInt64? {
        switch i {
        case 0: 0x8400_0000                    // PSCI, SMC32
        case 1: 0xC400_0000                    // PSCI, SMC64
        case 2: 0x8000_0000                    // Arm architecture (SMCCC_VERSION, ARCH_FEATURES)
        case 3: UInt64(RUM_SMCCC_HV_BASE)      // Rumkv
        case 4: 0x8600_0000                    // vendor hypervisor, SMC32 (not served)
        case 5: 0xC200_0000                    // SiP (not served)
        case 6: 0xC300_0000                    // OEM (not served)
        case 7: 0xC500_0000                    // standard hypervisor service (not served)
        default: nil
        }
    }

    /// CPU_OFF (of the fuzzer's only vCPU), SYSTEM_OFF, SYSTEM_RESET and Rumkv's exit end the guest.
    public static func fuzzEndsGuest(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64) -> Bool {
        switch ext | fid {
        case 0x8400_0002, 0x8400_0008, 0x8400_0009, UInt64(RUM_SMCCC_HV_BASE | RUM_HC_EXIT): true
        default: false
        }
    }

    /// RUM_HC_CONSOLE_WRITE(gpa, len).
    public static func consoleWriteRaw(address: UInt64, length: UInt64) -> Int64 {
        Int64(bitPattern: a64_hvc_call(call(Hypercall.consoleWrite), address, length, 0).x0)
    }

    /// Guest nanoseconds (`nanoseconds()`): instructions under QEMU -icount shift=0.
    public static func instructionsRetired() -> UInt64 { nanoseconds() }
    /// The bench payload (a pinned vCPU) times hypercalls with the PMU cycle
    /// counter, which counts EL2 too and, under -icount shift=0, one per
    /// instruction: the virtual counter's 16 ns steps are too coarse for a
    /// round trip of about a hundred instructions.
    public static func benchCounterStart() { a64_pmu_cycles_start() }
    public static func benchInstructions() -> UInt64 { a64_read_pmccntr() }
    public static func nullCall() { _ = a64_hvc_call(call(Hypercall.version), 0, 0, 0) }
    public static func rumkvCall(_ fid: UInt32, _ a0: UInt64, _ a1: UInt64) -> Int64 {
        Int64(bitPattern: a64_hvc_call(call(fid), a0, a1, 0).x0)
    }

    public static func illegalInstruction() { a64_udf() }

    /// `stp` to the virtual GIC distributor: a data abort with ISV = 0, which
    /// Rumkv cannot emulate: it stops this guest with the fault recorded.
    public static func noSyndromeAccess() -> Bool {
        a64_stp_test(0x0800_0000)
        return true
    }

    /// `msr hcr_el2`: UNDEFINED at EL1, taken by this guest's own vector.
    public static func el2Register() -> Bool {
        a64_write_hcr_el2_from_el1()
        return true
    }

    public static func waitForever() -> Never {
        a64_mask_interrupts()
        while true { a64_wfi() }
    }

    /// QEMU virt's PL011, which Rumkv keeps for itself.
    public static var unassignedMMIO: UInt64 { 0x0900_0000 }

    /// QEMU virt's map (hw/arm/virt.c), EL2 and EL3, PSCI and SMCCC. The
    /// virtual GIC distributor and this guest's redistributors are emulated,
    /// so they are absent here but for a store pair (ISV = 0).
    public static func portAttack(_ i: Int, _ c: AttackContext) -> Attack? {
        let notSupported: Int64 = -1
        let ownCrash = RUM_FAULT_CRASH_REPORT
        switch i {
        case 0: return Attack("null-load", .load(0))
        case 1: return Attack("flash-store", .store(0x0400_0000))
        case 2: return Attack("uart", .store(0x0900_0000))
        case 3: return Attack("rtc", .load(0x0901_0000))
        case 4: return Attack("fw-cfg", .load(0x0902_0000))
        case 5: return Attack("gpio", .store(0x0903_0000))
        case 6: return Attack("secure-uart", .load(0x0904_0000))
        case 7: return Attack("virtio-transport", .load(0x0A00_0000))
        case 8: return Attack("platform-bus", .load(0x0C00_0000))
        case 9: return Attack("secure-memory", .load(0x0E00_0000))
        case 10: return Attack("pcie-mmio", .store(0x1000_0000))
        case 11: return Attack("pcie-ecam", .load(0x3F00_0000))
        case 12: return Attack("hypervisor-image", .load(0x4020_0000))
        case 13: return Attack("ipa-top", .load((1 << 40) - 8))
        case 14: return Attack("gicd-store-pair", .instruction(id: 0, fault: RUM_FAULT_STAGE2, detail: 0x0800_0000))
        case 15: return Attack("mrs-vttbr-el2", .instruction(id: 1, fault: ownCrash, detail: nil))
        case 16: return Attack("msr-vbar-el2", .instruction(id: 2, fault: ownCrash, detail: nil))
        case 17: return Attack("tlbi-alle2", .instruction(id: 3, fault: ownCrash, detail: nil))
        case 18: return Attack("at-s12e1r", .instruction(id: 4, fault: ownCrash, detail: nil))
        case 19: return Attack("mrs-scr-el3", .instruction(id: 5, fault: ownCrash, detail: nil))
        case 20: return Attack("msr-ich-hcr-el2", .instruction(id: 6, fault: ownCrash, detail: nil))
        case 21: return Attack("psci-unknown-function", .call(ext: 0, fid: 0x8400_00FF, a0: 0, a1: 0, a2: 0, expect: notSupported))
        case 22: return Attack("smccc-arch-features", .call(ext: 0, fid: 0x8000_0001, a0: 0, a1: 0, a2: 0, expect: notSupported))
        case 23: return Attack("psci-high-bits", .call(ext: 1 << 32, fid: 0x8400_0000, a0: 0, a1: 0, a2: 0, expect: notSupported))
        // The calls Rumkv answers in its EL2 vector (Boot/include/aarch64/fastcalls.h):
        // the fast path must give the decoder's answers, with hostile arguments too.
        case 24: return Attack("psci-version", .call(ext: 0, fid: 0x8400_0000, a0: ~0, a1: ~0, a2: ~0, expect: 0x1_0001))
        case 25: return Attack("smccc-version", .call(ext: 0, fid: 0x8000_0000, a0: ~0, a1: 0, a2: 0, expect: 0x1_0001))
        case 26: return Attack("psci-migrate-info-type", .call(ext: 0, fid: 0x8400_0006, a0: 0, a1: 0, a2: 0, expect: 2))
        case 27: return Attack("hc-version", .hypercall(fid: RUM_HC_VERSION, a0: ~0, a1: ~0, expect: Int64(RUM_HC_OK)))
        default: return nil
        }
    }

    public static func attackInstruction(_ id: Int) {
        switch id {
        case 0: a64_stp_test(0x0800_0000)
        case 1: a64_attack_mrs_vttbr_el2()
        case 2: a64_attack_msr_vbar_el2()
        case 3: a64_attack_tlbi_alle2()
        case 4: a64_attack_at_s12e1r()
        case 5: a64_attack_mrs_scr_el3()
        case 6: a64_attack_msr_ich_hcr()
        default: break
        }
    }
}

@_cdecl("rumpk_main")
func rumpkMain(_ sysTable: UInt64) -> Never {
    Rumpk<GuestAArch64>.main(sysTable: sysTable)
}

/// The IRQ vector (entry.S): takes every pending interrupt. The counters are
/// read first: they time the interrupt's delivery.
@_cdecl("rumpk_interrupt")
func rumpkInterrupt() {
    let stamp = InterruptStamp(ticks: a64_read_cntvct(), instructions: GuestAArch64.nanoseconds())
    while true {
        let next = UInt32(truncatingIfNeeded: a64_read_icc_hppir1() & 0xFF_FFFF)
        if next >= GuestAArch64.spurious { return }
        if next >= 32 { Interrupts<GuestAArch64>.external(stamp); continue }
        let id = UInt32(truncatingIfNeeded: a64_read_icc_iar1() & 0xFF_FFFF)
        switch id {
        case GuestAArch64.doorbellSGI:
            GuestAArch64.postEvents(Event.doorbell)
        case GuestAArch64.timerPPI:
            a64_write_cntv_ctl(3)                         // IMASK: its level drops; only `idle` arms it
            GuestAArch64.postEvents(Event.timer)
        default:
            break                                         // an IPI, or nothing Rumpk enabled
        }
        if id < GuestAArch64.spurious { GuestAArch64.interruptComplete(id) } else { return }
    }
}

/// Called by every other EL1 vector: each exception is a fatal fault:
/// report it and stop with a non-zero exit code.
@_cdecl("rumpk_trap")
func rumpkTrap(_ esr: UInt64, _ pc: UInt64, _ far: UInt64, _ vector: UInt64) -> Never {
    typealias K = Rumpk<GuestAArch64>
    K.say("rumpk: fatal trap, esr "); K.hex(esr)
    K.say(" pc "); K.hex(pc)
    K.say(" far "); K.hex(far)
    K.say(" vector "); K.dec(vector)
    K.say("\n")
    GuestAArch64.exit(1)
}

/// Every fiber's first Swift frame (Guest/aarch64/fiber.S, rumpk_fiber_start).
@_cdecl("rumpk_fiber_entry")
func rumpkFiberEntry() -> Never {
    Rumpk<GuestAArch64>.fiberMain()
}

extension GuestAArch64 {
    /// Payload service thunks: closures without captures, so they are C function pointers.
    public static func fillServices(_ table: inout rum_payload_services_t) {
        table.write = { Services<GuestAArch64>.write($0, $1) }
        table.exit = { Services<GuestAArch64>.exit($0) }
        table.yield = { Services<GuestAArch64>.yield() }
        table.sleep = { Services<GuestAArch64>.sleep($0) }
    }
}
