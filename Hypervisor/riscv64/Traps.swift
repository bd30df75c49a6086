// Traps (riscv64): the hypervisor's own trap handler.
//
// Called from vectors.S with the saved frame. During the H-extension probe an
// illegal-instruction trap is expected: it is recorded and skipped. Anything
// else is unexpected: the cause, the faulting PC, stval and all registers are
// printed, then the system halts (Hypervisor.fatal).

import ArchShims
import RumkvCore

typealias O = Out<RISCV64>

@_cdecl("rumkv_trap")
func rumkvTrap(_ frame: UnsafeMutablePointer<rv_trap_frame_t>) {
    let cause = frame.pointee.scause
    if GuestInstruction.fetching && (cause == 5 || cause == 13 || cause == 21) {
        GuestInstruction.faulted = true          // HLVX of a guest instruction faulted: skip it
        frame.pointee.sepc += 4
        return
    }
    if Virtualization.probing && cause == 2 {
        Virtualization.probeFaulted = true
        frame.pointee.sepc += 4
        return
    }
    O.byte(10)
    O.str("rumkv: unexpected trap: ")
    O.str(causeName(cause))
    O.str(" (scause "); O.hex(cause); O.line(")")
    O.str("  sepc "); O.hex(frame.pointee.sepc)
    O.str("  stval "); O.hex(frame.pointee.stval)
    O.str("  sstatus "); O.hex(frame.pointee.sstatus); O.byte(10)
    withUnsafeBytes(of: frame.pointee.x) { raw in
        let regs = raw.bindMemory(to: UInt64.self)
        for i in 1..<32 {
            O.str(i < 10 ? "  x0" : "  x"); O.dec(i); O.str(" "); O.hex(regs[i])
            if i % 4 == 3 || i == 31 { O.byte(10) }
        }
    }
    Hypervisor<RISCV64>.fatal()
}

/// Names for scause values, RISC-V Privileged Spec v1.12 table 4.2 and 8.7.
func causeName(_ cause: UInt64) -> StaticString {
    if cause >> 63 == 1 { return "unexpected interrupt" }
    switch cause {
    case 0: return "instruction address misaligned"
    case 1: return "instruction access fault"
    case 2: return "illegal instruction"
    case 3: return "breakpoint"
    case 4: return "load address misaligned"
    case 5: return "load access fault"
    case 6: return "store address misaligned"
    case 7: return "store access fault"
    case 8: return "environment call from U-mode"
    case 9: return "environment call from HS-mode"
    case 10: return "environment call from VS-mode"
    case 12: return "instruction page fault"
    case 13: return "load page fault"
    case 15: return "store page fault"
    case 20: return "instruction guest-page fault"
    case 21: return "load guest-page fault"
    case 22: return "virtual instruction"
    case 23: return "store guest-page fault"
    default: return "reserved cause"
    }
}
