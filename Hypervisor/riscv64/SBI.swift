// SBI (riscv64): decoding a guest's SBI calls (SBI spec v2.0).
//
// a7 = extension id, a6 = function id, a0..a5 = arguments. Calls that need
// no hypervisor state (BASE, TIME) are answered on the fast path straight
// from the trap; the rest become a portable `GuestCall` for the core.
// Unknown extensions and functions get SBI_ERR_NOT_SUPPORTED.

import ArchShims
import RumkvCore
import RumABI

enum SBI {
    // Extension ids: SBIExtension (Decoders.swift).
    static let base = SBIExtension.base
    static let time = SBIExtension.time
    static let legacySetTimer = SBIExtension.legacySetTimer

    /// Rumkv's SBI implementation id and version (BASE get_impl_id/version).
    static let implID: Int64 = 0x52_554B
    static let implVersion: Int64 = 0x0001_0000

    /// Answers BASE and TIME in place. Returns false if the call needs the core.
    @inline(__always)
    static func fastPath(_ v: UnsafeMutablePointer<rv_vcpu_t>) -> Bool {
        let eid = v.pointee.gpr.17, fid = v.pointee.gpr.16
        var value: Int64 = 0
        if eid == base {
            switch fid {
            case 0: value = 0x0200_0000                     // spec version 2.0
            case 1: value = implID
            case 2: value = implVersion
            case 3: value = SBIExtension.supported(v.pointee.gpr.10) ? 1 : 0
            case 4, 5, 6: value = 0                         // mvendorid, marchid, mimpid
            default:
                v.pointee.gpr.10 = UInt64(bitPattern: -2)
                v.pointee.pc += 4
                v.pointee.fast_calls &+= 1
                return true
            }
        } else if (eid == time && fid == 0) || eid == legacySetTimer {
            rv_write_vstimecmp(v.pointee.gpr.10)
        } else {
            return false
        }
        v.pointee.gpr.10 = 0
        if eid != legacySetTimer { v.pointee.gpr.11 = UInt64(bitPattern: value) }
        v.pointee.pc += 4
        v.pointee.fast_calls &+= 1
        return true
    }

    /// Decodes any other SBI call into a portable call (Decoders.swift).
    static func decode(_ v: UnsafeMutablePointer<rv_vcpu_t>) -> GuestCall {
        v.pointee.legacy_call = SBIExtension.isLegacy(v.pointee.gpr.17) ? 1 : 0
        return SBIExtension.decode(eid: v.pointee.gpr.17, fid: v.pointee.gpr.16,
                                   a0: v.pointee.gpr.10, a1: v.pointee.gpr.11, a2: v.pointee.gpr.12)
    }
}

/// Called from the guest trap (switch.S) before anything else: SBI BASE and
/// TIME calls, and loads and stores to the guest's emulated NS16550, are
/// answered here and the guest resumed at once; 0 sends the trap on to the
/// scheduler loop.
@_cdecl("rumkv_guest_fastpath")
func rumkvGuestFastpath(_ v: UnsafeMutablePointer<rv_vcpu_t>) -> Int {
    switch v.pointee.scause {
    case 10: return SBI.fastPath(v) ? 1 : 0
    case 21, 23: return uartFastPath(v) ? 1 : 0
    default: return 0
    }
}

/// A guest-page fault on the guest's UART window (htval still holds the
/// faulting guest-physical address >> 2: no trap came since): the trapped load or store is decoded (HLVX, the guest's translation
/// is still loaded) and answered under the lock (GuestUART.fastAccess).
/// Not inlined: the SBI path above must not pay for this one's registers.
@inline(never)
func uartFastPath(_ v: UnsafeMutablePointer<rv_vcpu_t>) -> Bool {
    guard let w = GuestUART<RISCV64>.window(of: v) else { return false }
    let gpa = rv_read_htval() << 2 | (v.pointee.stval & 3)
    guard gpa >= w.base, gpa - w.base < RUM_VUART_SIZE,
          let a = GuestInstruction.loadStore(v, at: GuestPhysicalAddress(gpa)) else { return false }
    // A contended lock sleeps in lockWait, which keeps the slice deadline in stimecmp.
    guard let value = GuestUART<RISCV64>.fastAccess(slot: w.slot, a) else { return false }
    RISCV64.vcpuCompleteMMIO(v, a, value: value)
    return true
}
