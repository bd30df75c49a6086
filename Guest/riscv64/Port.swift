// Port (riscv64): Rumpk on a RISC-V hart in VS-mode.
//
// Console output goes through SBI DBCN write (one call per buffer), time
// through the `time` CSR and SBI TIME set_timer. Device (external) and
// doorbell (software) interrupts, once the kernel enables them, are taken by
// the trap vector (entry.S) and handled in `rumpk_interrupt`, which only
// posts events (Interrupts.swift). Idling is a wfi with sstatus.SIE clear
// and the timer enabled in sie (wfi returns when anything enabled is
// pending, no handler runs), then a short window with SIE set so the handler
// takes the device or doorbell interrupt that woke the hart. Exit is SBI
// SRST; an exception is reported with reason "system failure".

import ArchShims
import RumABI
import CRumpk

public enum GuestRISCV64: GuestPort {
    public static var name: StaticString { "riscv64" }
    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_RISCV64) }

    public static func consoleWrite(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let r = rv_sbi_call(0x4442_434E, 0, UInt64(bytes.count), UInt64(UInt(bitPattern: base)), 0)
        if r.error != 0 {
            for b in bytes { _ = rv_sbi_call(0x01, 0, UInt64(b), 0, 0) }   // legacy putchar
        }
    }

    public static func exit(_ code: UInt64) -> Never {
        _ = rv_sbi_call(0x5352_5354, 0, 0, code == 0 ? 0 : 1, 0)
        while true { rv_wfi() }
    }

    public static func counter() -> UInt64 { rv_read_time() }

    /// Waits for the deadline whatever happens meanwhile (pending events only shorten each idle).
    public static func sleep(until deadline: UInt64) {
        while rv_read_time() < deadline { idle(until: deadline) }
    }

    static let ssie: UInt64 = 1 << 1, stie: UInt64 = 1 << 5, seie: UInt64 = 1 << 9
    /// Whether the kernel turned interrupts on (then sstatus.SIE is set outside `idle`).
    nonisolated(unsafe) static var interruptsOn = false

    public static func idle(until deadline: UInt64) {
        rv_guest_disable_interrupts()                    // no handler between the check and wfi
        rv_guest_sie_set(stie)
        while rv_read_time() < deadline && rumpk_peek_events() == 0 {
            setTimer(deadline)
            rv_wfi()
            if interruptsOn {                            // let the handler take what woke us (not the timer)
                rv_guest_sie_clear(stie)
                rv_guest_enable_interrupts()
                rv_guest_disable_interrupts()
                rv_guest_sie_set(stie)
            }
        }
        rv_guest_sie_clear(stie)
        setTimer(UInt64.max)
        if interruptsOn { rv_guest_enable_interrupts() }
    }

    public static func enableInterrupts(devices: Bool, doorbells: Bool) -> Bool {
        rv_guest_sie_set((devices ? seie : 0) | (doorbells ? ssie : 0))
        interruptsOn = true
        rv_guest_enable_interrupts()
        return true
    }

    public static func postEvents(_ bits: UInt64) { rumpk_post_events(bits) }
    public static func takeEvents() -> UInt64 { rumpk_take_events() }

    public static func read32(_ address: UInt64) -> UInt32 { rv_mmio_read32(address) }
    public static func write32(_ address: UInt64, _ value: UInt32) { rv_mmio_write32(address, value) }
    public static func ioBarrier() { rv_guest_fence_io() }

    /// SBI extension RUM_SBI_EXT_ID, function RUM_HC_DOORBELL (rumabi.h).
    public static func doorbell(_ n: UInt64) -> Int64 {
        rv_sbi_call(UInt64(RUM_SBI_EXT_ID), UInt64(RUM_HC_DOORBELL), n, 0, 0).error
    }

    public static func setTimer(_ deadline: UInt64) { _ = rv_sbi_call(0x5449_4D45, 0, deadline, 0, 0) }

    public static func installTrapHandler() { rv_write_stvec(rumpk_trap_vector_address()) }
}

extension GuestRISCV64: HostilePort {
    public static func load(_ address: UInt64) -> UInt64 { rv_mmio_read64(address) }
    public static func store(_ address: UInt64, _ value: UInt64) { rv_mmio_write64(address, value) }
    public static func rawCall(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64) -> (Int64, Int64) {
        let r = rv_sbi_call(ext, fid, a0, a1, a2)
        return (r.error, r.value)
    }
    public static func illegalInstruction() { rv_illegal() }
    public static func waitForever() -> Never {
        rv_write_sie(0)
        while true { rv_wfi() }
    }
    /// SBI DBCN write(length, base_lo, base_hi).
    public static func consoleWriteRaw(address: UInt64, length: UInt64) -> Int64 {
        rv_sbi_call(0x4442_434E, 0, length, address, 0).error
    }
    public static var unassignedMMIO: UInt64 { 0x1000_0000 }
    public static func instructionsRetired() -> UInt64 { rv_read_instret() }
    public static func nullCall() { _ = rv_sbi_call(0x10, 0, 0, 0, 0) }
    public static func rumkvCall(_ fid: UInt32, _ a0: UInt64, _ a1: UInt64) -> Int64 {
        rv_sbi_call(UInt64(RUM_SBI_EXT_ID), UInt64(fid), a0, a1, 0).error
    }

    /// QEMU virt's map (hw/riscv/virt.c), the H-extension, M-mode and SBI.
    public static func portAttack(_ i: Int, _ c: AttackContext) -> Attack? {
        let dbcn: UInt64 = 0x4442_434E, hsm: UInt64 = 0x48_534D, ipi: UInt64 = 0x73_5049
        let rfence: UInt64 = 0x5246_4E43, srst: UInt64 = 0x5352_5354
        let notSupported: Int64 = -2, invalidParam: Int64 = -3, invalidAddress: Int64 = -5, alreadyAvailable: Int64 = -6
        let virtualInsn = RUM_FAULT_VIRTUAL_INSTRUCTION, ownCrash = RUM_FAULT_CRASH_REPORT
        switch i {
        case 0: return Attack("null-load", .load(0))
        case 1: return Attack("null-store", .store(0))
        case 2: return Attack("boot-rom", .load(0x1000))
        case 3: return Attack("power-off-device", .store(0x10_0000))      // sifive_test: 0x5555 powers QEMU off
        case 4: return Attack("rtc", .load(0x10_1000))
        case 5: return Attack("clint-msip", .load(0x200_0000))
        case 6: return Attack("clint-mtimecmp", .store(0x200_4000))
        case 7: return Attack("plic-other-context", .store(0x0C20_0000 + 31 * 0x1000))
        case 8: return Attack("uart", .store(0x1000_0000))
        case 9: return Attack("virtio-slot", .load(0x1000_1000))
        case 10: return Attack("fw-cfg", .load(0x1010_0000))
        case 11: return Attack("flash", .load(0x2000_0000))
        case 12: return Attack("pcie-ecam", .load(0x3000_0000))
        case 13: return Attack("pcie-mmio", .store(0x4000_0000))
        case 14: return Attack("gpa-top", .load((1 << 41) - 8))
        case 15: return Attack("csrr-hstatus", .instruction(id: 0, fault: virtualInsn, detail: 0x6000_2573))
        case 16: return Attack("csrw-hgatp", .instruction(id: 1, fault: virtualInsn, detail: 0x6800_1073))
        case 17: return Attack("hfence-gvma", .instruction(id: 2, fault: virtualInsn, detail: 0x6200_0073))
        case 18: return Attack("hlv-d", .instruction(id: 3, fault: virtualInsn, detail: 0x6C05_C573))
        case 19: return Attack("csrr-htimedelta", .instruction(id: 4, fault: virtualInsn, detail: 0x6050_2573))
        case 20: return Attack("csrr-mstatus", .instruction(id: 5, fault: ownCrash, detail: nil))
        case 21: return Attack("mret", .instruction(id: 6, fault: ownCrash, detail: nil))
        case 22: return Attack("dbcn-write-low", .call(ext: dbcn, fid: 0, a0: 16, a1: 0x1000, a2: 0, expect: invalidAddress))
        case 23: return Attack("dbcn-write-high-half", .call(ext: dbcn, fid: 0, a0: 16, a1: c.ramBase, a2: 1, expect: invalidAddress))
        case 24: return Attack("dbcn-read-into-systable", .call(ext: dbcn, fid: 1, a0: 16, a1: c.sysTable, a2: 0, expect: invalidAddress))
        case 25: return Attack("dbcn-read-wrap", .call(ext: dbcn, fid: 1, a0: UInt64.max, a1: c.ramBase, a2: 0, expect: invalidAddress))
        case 26: return Attack("unknown-extension", .call(ext: 0x0BAD_CAFE, fid: 0, a0: 0, a1: 0, a2: 0, expect: notSupported))
        case 27: return Attack("base-unknown-function", .call(ext: 0x10, fid: 99, a0: 0, a1: 0, a2: 0, expect: notSupported))
        case 28: return Attack("pmu-extension", .call(ext: 0x50_4D55, fid: 0, a0: 0, a1: 0, a2: 0, expect: notSupported))
        case 29: return Attack("hsm-start-hart-99", .call(ext: hsm, fid: 0, a0: 99, a1: c.ramBase, a2: 0, expect: invalidParam))
        case 30: return Attack("hsm-start-self", .call(ext: hsm, fid: 0, a0: 0, a1: c.ramBase, a2: 0, expect: alreadyAvailable))
        case 31: return Attack("hsm-start-outside-ram", .call(ext: hsm, fid: 0, a0: 1, a1: 0x1000, a2: 0, expect: invalidAddress))
        case 32: return Attack("hsm-status-huge", .call(ext: hsm, fid: 2, a0: 1 << 40, a1: 0, a2: 0, expect: invalidParam))
        case 33: return Attack("ipi-beyond-guest", .call(ext: ipi, fid: 0, a0: 0b100, a1: 0, a2: 0, expect: invalidParam))
        case 34: return Attack("ipi-huge-base", .call(ext: ipi, fid: 0, a0: 1, a1: 1 << 40, a2: 0, expect: invalidParam))
        case 35: return Attack("rfence-bit-63", .call(ext: rfence, fid: 0, a0: 1, a1: 63, a2: 0, expect: invalidParam))
        case 36: return Attack("srst-reserved-type", .call(ext: srst, fid: 0, a0: 0x1234, a1: 0, a2: 0, expect: invalidParam))
        case 37: return Attack("srst-reserved-reason", .call(ext: srst, fid: 0, a0: 0, a1: 7, a2: 0, expect: invalidParam))
        default: return nil
        }
    }

    /// Every SBI extension Rumkv implements (legacy ones included), PMU which it does not, and Rumkv's own.
    public static func fuzzExtension(_ i: Int) -> UInt64? {
        switch i {
        case 0...8: UInt64(i)                  // legacy: set_timer, putchar, getchar, ..., shutdown (8)
        case 9: 0x10                           // BASE
        case 10: 0x5449_4D45                   // TIME
        case 11: 0x73_5049                     // IPI
        case 12: 0x5246_4E43                   // RFENCE
        case 13: 0x48_534D                     // HSM
        case 14: 0x5352_5354                   // SRST
        case 15: 0x4442_434E                   // DBCN
        case 16: 0x50_4D55                     // PMU (not implemented)
        case 17: UInt64(RUM_SBI_EXT_ID)
        default: nil
        }
    }

    /// Legacy shutdown, SRST, HSM hart_stop (the fuzzer's only vCPU) and Rumkv's exit end the guest.
    public static func fuzzEndsGuest(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64) -> Bool {
        switch ext {
        case 0x08: true
        case 0x5352_5354: fid == 0
        case 0x48_534D: fid == 1
        case UInt64(RUM_SBI_EXT_ID): fid == UInt64(RUM_HC_EXIT)
        default: false
        }
    }

    public static func attackInstruction(_ id: Int) {
        switch id {
        case 0: rv_attack_csrr_hstatus()
        case 1: rv_attack_csrw_hgatp()
        case 2: rv_attack_hfence_gvma()
        case 3: rv_attack_hlv_d()
        case 4: rv_attack_csrr_htimedelta()
        case 5: rv_attack_csrr_mstatus()
        case 6: rv_attack_mret()
        default: break
        }
    }
}

@_cdecl("rumpk_main")
func rumpkMain(_ hartID: UInt64, _ sysTable: UInt64) -> Never {
    Rumpk<GuestRISCV64>.main(sysTable: sysTable)
}

/// Called by the trap vector for an interrupt (scause bit 63 set), on the
/// interrupted stack with interrupts off; returns to the interrupted code.
/// The counters are read first: they time the interrupt's delivery.
@_cdecl("rumpk_interrupt")
func rumpkInterrupt(_ cause: UInt64) {
    let stamp = InterruptStamp(ticks: rv_read_time(), instructions: rv_read_instret())
    switch cause & 0xFF {
    case 1:                                             // supervisor software: a doorbell
        rv_clear_sip_ssip()
        GuestRISCV64.postEvents(Event.doorbell)
    case 5:                                             // timer: only `idle` waits for it, with SIE clear
        rv_guest_sie_clear(GuestRISCV64.stie)
        GuestRISCV64.postEvents(Event.timer)
    case 9:                                             // supervisor external: the virtual PLIC
        Interrupts<GuestRISCV64>.external(stamp)
    default:
        rumpkTrap(cause, 0, 0)
    }
}

/// Called by the trap vector for an exception: each is a fatal fault:
/// report it and stop with "system failure".
@_cdecl("rumpk_trap")
func rumpkTrap(_ cause: UInt64, _ pc: UInt64, _ tval: UInt64) -> Never {
    Rumpk<GuestRISCV64>.say("rumpk: fatal trap, scause ")
    Rumpk<GuestRISCV64>.hex(cause)
    Rumpk<GuestRISCV64>.say(" pc ")
    Rumpk<GuestRISCV64>.hex(pc)
    Rumpk<GuestRISCV64>.say(" tval ")
    Rumpk<GuestRISCV64>.hex(tval)
    Rumpk<GuestRISCV64>.say("\n")
    GuestRISCV64.exit(1)
}

/// Every fiber's first Swift frame (Guest/riscv64/fiber.S, rumpk_fiber_start).
@_cdecl("rumpk_fiber_entry")
func rumpkFiberEntry() -> Never {
    Rumpk<GuestRISCV64>.fiberMain()
}

extension GuestRISCV64 {
    /// Payload service thunks: closures without captures, so they are C function pointers.
    public static func fillServices(_ table: inout rum_payload_services_t) {
        table.write = { Services<GuestRISCV64>.write($0, $1) }
        table.exit = { Services<GuestRISCV64>.exit($0) }
        table.yield = { Services<GuestRISCV64>.yield() }
        table.sleep = { Services<GuestRISCV64>.sleep($0) }
    }
}
