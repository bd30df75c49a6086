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
