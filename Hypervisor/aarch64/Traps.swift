// Traps (aarch64): the hypervisor's own exception handler.
//
// Called from vectors.S with the saved frame, at EL2 (or at EL1 on the way to
// a refusal). No exception is expected yet: the exception class, ESR, ELR,
// FAR, SPSR and every register are printed, then the system halts
// (Hypervisor.fatal). Guest exits will be decoded here once guests run.

import ArchShims
import RumkvCore

typealias O = Out<AArch64>

@_cdecl("rumkv_trap")
func rumkvTrap(_ frame: UnsafeMutablePointer<a64_trap_frame_t>) {
    let f = frame.pointee
    O.byte(10)
    O.str("rumkv: unexpected trap: ")
    O.str(trapName(vector: f.vector, esr: f.esr))
    O.str(" (ESR "); O.hex(f.esr); O.line(")")
    O.str("  elr "); O.hex(f.elr)
    O.str("  far "); O.hex(f.far)
    O.str("  spsr "); O.hex(f.spsr, digits: 8); O.byte(10)
    O.str("  from "); O.str(origin(f.vector))
    O.str("  sp "); O.hex(f.sp); O.byte(10)
    withUnsafeBytes(of: f.x) { raw in
        let regs = raw.bindMemory(to: UInt64.self)
        for i in 0..<31 {
            O.str(i < 10 ? "  x0" : "  x"); O.dec(i); O.str(" "); O.hex(regs[i])
            if i % 4 == 3 || i == 30 { O.byte(10) }
        }
    }
    Hypervisor<AArch64>.fatal()
}

/// The vector slot's group (Arm ARM, "Exception vectors").
func origin(_ vector: UInt64) -> StaticString {
    switch vector >> 2 {
    case 0: "current EL, SP_EL0"
    case 1: "current EL, SP_ELx"
    case 2: "lower EL, AArch64"
    default: "lower EL, AArch32"
    }
}

/// Asynchronous slots by kind; synchronous ones by ESR_ELx.EC [31:26].
func trapName(vector: UInt64, esr: UInt64) -> StaticString {
    switch vector & 3 {
    case UInt64(TV_IRQ): return "unexpected IRQ"
    case UInt64(TV_FIQ): return "unexpected FIQ"
    case UInt64(TV_SERROR): return "SError interrupt"
    default: return exceptionClassName((esr >> 26) & 0x3F)
    }
}

/// Names for ESR_ELx.EC values (Arm ARM, ESR_EL2).
func exceptionClassName(_ ec: UInt64) -> StaticString {
    switch ec {
    case 0x00: "unknown reason (undefined instruction)"
    case 0x01: "trapped WFI/WFE"
    case 0x07: "trapped SIMD/floating-point access"
    case 0x0E: "illegal execution state"
    case 0x15: "SVC instruction"
    case 0x16: "HVC instruction"
    case 0x17: "SMC instruction"
    case 0x18: "trapped MSR/MRS/system instruction"
    case 0x19: "trapped SVE access"
    case 0x20: "instruction abort from a lower EL"
    case 0x21: "instruction abort"
    case 0x22: "PC alignment fault"
    case 0x24: "data abort from a lower EL"
    case 0x25: "data abort"
    case 0x26: "SP alignment fault"
    case 0x2C: "floating-point exception"
    case 0x2F: "SError interrupt"
    case 0x30: "breakpoint from a lower EL"
    case 0x31: "breakpoint"
    case 0x32: "software step from a lower EL"
    case 0x33: "software step"
    case 0x34: "watchpoint from a lower EL"
    case 0x35: "watchpoint"
    case 0x3C: "BRK instruction"
    default: "reserved exception class"
    }
}
