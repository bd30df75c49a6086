// MMIO (riscv64): reading and decoding the guest instruction that trapped.
//
// The faulting instruction is read the way the guest fetched it (HLVX.HU,
// both translation stages, while the guest's hgatp and vsatp are still
// loaded). For a guest-page fault inside an emulated window it is decoded as
// a load or store (LB/LH/LW/LD(U), SB/SH/SW/SD and the compressed
// C.LW/C.LD/C.SW/C.SD/C.LWSP/C.LDSP/C.SWSP/C.SDSP forms, Decoders.swift) into
// a portable `MMIOAccess`; for a virtual-instruction trap it tells `wfi` from
// everything else. A fetch that faults is reported as such, never guessed.

import ArchShims
import RumkvCore

enum GuestInstruction {
    /// Set while HLVX runs; the trap handler skips a faulting HLVX and sets `faulted`.
    nonisolated(unsafe) static var fetching = false
    nonisolated(unsafe) static var faulted = false

    static func fetch16(_ va: UInt64) -> UInt64? {
        faulted = false
        fetching = true
        let v = rv_hlvx_hu(va)
        fetching = false
        return faulted ? nil : v & 0xFFFF
    }

    /// The instruction at guest virtual address `pc` (a 16-bit one in the low half).
    static func fetch32(_ pc: UInt64) -> UInt32? {
        guard let lo = fetch16(pc) else { return nil }
        var insn = UInt32(truncatingIfNeeded: lo)
        if lo & 3 == 3 {
            guard let hi = fetch16(pc + 2) else { return nil }
            insn |= UInt32(truncatingIfNeeded: hi) << 16
        }
        return insn
    }

    /// The load or store at the vCPU's pc as an access to `gpa`, with the value of a store.
    static func loadStore(_ r: UnsafeMutablePointer<rv_vcpu_t>, at gpa: GuestPhysicalAddress) -> MMIOAccess? {
        guard let insn = fetch32(r.pointee.pc), let a = RISCVDecode.loadStore(insn) else { return nil }
        let widthMask: UInt64 = a.width == 8 ? ~0 : (1 << (a.width * 8)) - 1
        return MMIOAccess(address: gpa, width: UInt8(a.width), write: a.write,
                          value: a.write ? register(r, UInt8(a.register)) & widthMask : 0,
                          register: UInt8(a.register), signExtend: a.signed, instructionLength: UInt8(a.length))
    }

    /// A loaded value as the register receives it (sign- or zero-extended from the access width).
    static func extend(_ value: UInt64, _ a: MMIOAccess) -> UInt64 {
        guard a.width < 8 else { return value }
        let bits = UInt64(a.width) * 8
        let v = value & ((1 << bits) - 1)
        guard a.signExtend, v >> (bits - 1) & 1 == 1 else { return v }
        return v | ~((1 << bits) - 1)
    }

    static func register(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ n: UInt8) -> UInt64 {
        n == 0 || n > 31 ? 0 : withUnsafeBytes(of: r.pointee.gpr) { $0.load(fromByteOffset: Int(n) * 8, as: UInt64.self) }
    }

    static func setRegister(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ n: UInt8, _ v: UInt64) {
        guard n != 0, n <= 31 else { return }
        withUnsafeMutableBytes(of: &r.pointee.gpr) { $0.storeBytes(of: v, toByteOffset: Int(n) * 8, as: UInt64.self) }
    }
}
