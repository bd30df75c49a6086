// MMIO (riscv64): decoding a guest's access to an emulated device.
//
// A guest-page fault inside the virtual PLIC window is an access to an
// emulated register. The faulting instruction is read the way the guest
// fetched it (HLVX.HU, both translation stages, while the guest's hgatp and
// vsatp are still loaded) and decoded: LB/LH/LW/LD(U) and SB/SH/SW/SD, and the
// compressed C.LW/C.LD/C.SW/C.SD/C.LWSP/C.LDSP/C.SWSP/C.SDSP forms. A fetch
// that faults, or any other instruction, leaves the exit a stage-2 fault.

import ArchShims
import RumkvCore

enum MMIODecode {
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

    /// Decodes the load/store at the vCPU's pc into its MMIO fields.
    static func decode(_ r: UnsafeMutablePointer<rv_vcpu_t>, gpa: UInt64) -> Bool {
        guard let lo = fetch16(r.pointee.pc) else { return false }
        var insn = UInt32(truncatingIfNeeded: lo)
        if lo & 3 == 3 {
            guard let hi = fetch16(r.pointee.pc + 2) else { return false }
            insn |= UInt32(truncatingIfNeeded: hi) << 16
        }
        guard let a = RISCVDecode.loadStore(insn) else { return false }
        r.pointee.mmio_gpa = gpa
        r.pointee.mmio_write = a.write ? 1 : 0
        r.pointee.mmio_width = a.width
        r.pointee.mmio_reg = a.register
        r.pointee.mmio_signed = a.signed ? 1 : 0
        r.pointee.mmio_length = a.length
        return true
    }

    static func register(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ n: UInt64) -> UInt64 {
        n == 0 ? 0 : withUnsafeBytes(of: r.pointee.gpr) { $0.load(fromByteOffset: Int(n) * 8, as: UInt64.self) }
    }

    static func setRegister(_ r: UnsafeMutablePointer<rv_vcpu_t>, _ n: UInt64, _ v: UInt64) {
        guard n != 0 else { return }
        withUnsafeMutableBytes(of: &r.pointee.gpr) { $0.storeBytes(of: v, toByteOffset: Int(n) * 8, as: UInt64.self) }
    }
}

extension RISCV64 {
    /// Emulates the decoded access on the guest's virtual PLIC. Lock held.
    public static func emulateMMIO(_ r: UnsafeMutablePointer<rv_vcpu_t>, guest g: Int) -> Bool {
        guard g < 8, r.pointee.mmio_width == 4 else { return false }
        let off = r.pointee.mmio_gpa &- PLIC.vbase
        let ctx = Int(r.pointee.index)
        var v = PLIC.guests[g]
        var value: UInt64 = 0
        let write = r.pointee.mmio_write == 1
        let data = MMIODecode.register(r, r.pointee.mmio_reg) & 0xFFFF_FFFF
        switch off {
        case 4..<0x100:                                     // source priorities 1..63
            let i = Int(off / 4)
            if write { if v.owned & (1 << UInt64(i)) != 0 { v.priority[i] = UInt8(min(data, 7)) } }
            else { value = UInt64(v.priority[i]) }
        case 0x1000, 0x1004:                                // pending (read-only)
            value = off == 0x1000 ? v.pending & 0xFFFF_FFFF : v.pending >> 32
        case 0x2000..<0x2400:                               // enables, context = (off - 0x2000) / 0x80
            let c = Int((off - 0x2000) / 0x80), word = (off - 0x2000) % 0x80
            guard c < 8, word < 8 else { break }
            let shift = UInt64(word * 8)
            if write {
                let mask = UInt64(0xFFFF_FFFF) << shift
                v.enable[c] = (v.enable[c] & ~mask) | ((data << shift) & v.owned)
            } else { value = (v.enable[c] >> shift) & 0xFFFF_FFFF }
        case 0x20_0000..<0x20_8000:                         // threshold / claim-complete per context
            let c = Int((off - 0x20_0000) / 0x1000), reg = (off - 0x20_0000) % 0x1000
            guard c < 8 else { break }
            if reg == 0 {
                if write { v.threshold[c] = UInt8(min(data, 7)) } else { value = UInt64(v.threshold[c]) }
            } else if reg == 4 {
                if write {
                    let bit = data < 64 ? UInt64(1) << data : 0
                    if v.inService & bit != 0 {
                        v.inService &= ~bit
                        PLIC.setEnabled(UInt32(data), true)   // the device may interrupt again
                    }
                } else {
                    let id = v.best(c)
                    if id != 0 {
                        v.pending &= ~(1 << id); v.inService |= 1 << id
                        if v.takenAt[Int(id)] != 0 {
                            Machine<RISCV64>.shared.pointee.noteDelivery(g, irq: UInt32(id),
                                                                          instructions: rv_read_instret() &- v.takenAt[Int(id)])
                            v.takenAt[Int(id)] = 0
                        }
                    }
                    value = id
                }
            }
        default:
            guard off < PLIC.vsize else { return false }
        }
        PLIC.guests[g] = v
        if !write {
            let signed = r.pointee.mmio_signed == 1 && value & 0x8000_0000 != 0
            MMIODecode.setRegister(r, r.pointee.mmio_reg, signed ? value | 0xFFFF_FFFF_0000_0000 : value)
        }
        r.pointee.pc += r.pointee.mmio_length
        return true
    }
}
