// Traps (x86_64): the hypervisor's own exception handler.
//
// Called from vectors.S with the saved frame for any of the 32 architectural
// exceptions. None is expected while the hypervisor runs its own code, so
// every one prints its name, vector and error code, RIP, CR2, RFLAGS and all
// general registers, then ends the system (Hypervisor.fatal).

import ArchShims
import RumkvCore

typealias O = Out<X86_64>

@_cdecl("rumkv_trap")
func rumkvTrap(_ frame: UnsafeMutablePointer<x86_trap_frame_t>) {
    let f = frame.pointee
    O.byte(10)
    O.str("rumkv: unexpected trap: "); O.str(exceptionName(f.vector))
    O.str(" (vector "); O.dec(f.vector); O.str(", error code "); O.hex(f.error); O.line(")")
    O.str("  rip "); O.hex(f.rip); O.str("  cs "); O.hex(f.cs, digits: 4)
    O.str("  rflags "); O.hex(f.rflags); O.byte(10)
    O.str("  rsp "); O.hex(f.rsp); O.str("  ss "); O.hex(f.ss, digits: 4)
    O.str("  cr2 "); O.hex(f.cr2); O.byte(10)
    reg("rax", f.rax); reg("rbx", f.rbx); reg("rcx", f.rcx); reg("rdx", f.rdx); O.byte(10)
    reg("rsi", f.rsi); reg("rdi", f.rdi); reg("rbp", f.rbp); reg("r8 ", f.r8); O.byte(10)
    reg("r9 ", f.r9); reg("r10", f.r10); reg("r11", f.r11); reg("r12", f.r12); O.byte(10)
    reg("r13", f.r13); reg("r14", f.r14); reg("r15", f.r15); O.byte(10)
    Hypervisor<X86_64>.fatal()
}

func reg(_ name: StaticString, _ value: UInt64) {
    O.str("  "); O.str(name); O.str(" "); O.hex(value)
}

/// Exception names, SDM Vol. 3A table 6-1 (20-21 Intel, 28-30 AMD APM Vol. 2 8.2).
func exceptionName(_ vector: UInt64) -> StaticString {
    switch vector {
    case 0: "#DE divide error"
    case 1: "#DB debug"
    case 2: "NMI non-maskable interrupt"
    case 3: "#BP breakpoint"
    case 4: "#OF overflow"
    case 5: "#BR bound range exceeded"
    case 6: "#UD invalid opcode"
    case 7: "#NM device not available"
    case 8: "#DF double fault"
    case 9: "coprocessor segment overrun"
    case 10: "#TS invalid TSS"
    case 11: "#NP segment not present"
    case 12: "#SS stack-segment fault"
    case 13: "#GP general protection"
    case 14: "#PF page fault"
    case 16: "#MF x87 floating-point error"
    case 17: "#AC alignment check"
    case 18: "#MC machine check"
    case 19: "#XM SIMD floating-point exception"
    case 20: "#VE virtualization exception"
    case 21: "#CP control protection"
    case 28: "#HV hypervisor injection"
    case 29: "#VC VMM communication"
    case 30: "#SX security exception"
    default: "reserved exception"
    }
}
