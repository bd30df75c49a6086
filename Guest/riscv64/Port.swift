// Port (riscv64): Rumpk on a RISC-V hart in VS-mode.
//
// Console output goes through SBI DBCN write (one call per buffer), time
// through the `time` CSR and SBI TIME set_timer, idling through wfi with the
// timer interrupt enabled in sie but not globally (the classic polled wait:
// wfi returns when the timer is pending, no handler runs). Exit is SBI SRST;
// a fault the kernel cannot handle is reported with reason "system failure".

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

    public static func sleep(until deadline: UInt64) {
        rv_write_sie(1 << 5)                                 // STIE only; SIE stays 0
        while rv_read_time() < deadline {
            setTimer(deadline)
            rv_wfi()
        }
        setTimer(UInt64.max)
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

/// Called by the trap vector for any trap: the kernel has no use for traps
/// yet, so each is a fatal fault: report it and stop with "system failure".
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
