// Decoders (riscv64): pure decoding of trapped guest state, testable on the host.
//
// Turning raw values into meaning without touching hardware: a trapped
// load/store instruction into an MMIO access, an SBI call's registers into a
// portable `GuestCall`, and Sv39x4 page-table indices and entries. The port
// (MMIO.swift, SBI.swift, Stage2.swift) feeds these from the vCPU; host tests
// (Tests/RISCV64DecoderTests) feed them directly. No ArchShims import here.

import RumkvCore
import RumABI

/// A decoded load or store (RISC-V Unprivileged Spec, RV64I loads/stores and RVC).
public struct LoadStore: Equatable {
    public var write: Bool
    /// Bytes: 1, 2, 4 or 8.
    public var width: UInt64
    /// Register loaded into (write == false) or stored from.
    public var register: UInt64
    /// Sign-extend the loaded value.
    public var signed: Bool
    /// Instruction length: 2 (compressed) or 4.
    public var length: UInt64
}

public enum RISCVDecode {
    /// Decodes the load or store `insn` (16-bit forms in the low half when
    /// `insn & 3 != 3`); nil for anything else.
    public static func loadStore(_ insn: UInt32) -> LoadStore? {
        insn & 3 == 3 ? decode32(insn) : decode16(UInt16(truncatingIfNeeded: insn))
    }

    static func decode32(_ i: UInt32) -> LoadStore? {
        let f3 = (i >> 12) & 7
        switch i & 0x7F {
        case 0x03 where f3 != 7:                                                 // LB LH LW LD LBU LHU LWU
            return LoadStore(write: false, width: 1 << UInt64(f3 & 3), register: UInt64((i >> 7) & 31),
                              signed: f3 & 4 == 0, length: 4)
        case 0x23 where f3 < 4:                                                  // SB SH SW SD
            return LoadStore(write: true, width: 1 << UInt64(f3), register: UInt64((i >> 20) & 31),
                              signed: false, length: 4)
        default:
            return nil
        }
    }

    static func decode16(_ i: UInt16) -> LoadStore? {
        let rPrime = UInt64((i >> 2) & 7) + 8
        func access(_ write: Bool, _ width: UInt64, _ reg: UInt64) -> LoadStore {
            LoadStore(write: write, width: width, register: reg, signed: !write, length: 2)
        }
        switch (i & 3, i >> 13) {
        case (0, 2): return access(false, 4, rPrime)                    // C.LW
        case (0, 3): return access(false, 8, rPrime)                    // C.LD
        case (0, 6): return access(true, 4, rPrime)                     // C.SW
        case (0, 7): return access(true, 8, rPrime)                     // C.SD
        case (2, 2): return access(false, 4, UInt64((i >> 7) & 31))     // C.LWSP
        case (2, 3): return access(false, 8, UInt64((i >> 7) & 31))     // C.LDSP
        case (2, 6): return access(true, 4, UInt64((i >> 2) & 31))      // C.SWSP
        case (2, 7): return access(true, 8, UInt64((i >> 2) & 31))      // C.SDSP
        default: return nil
        }
    }
}

/// SBI v2.0 extension ids Rumkv implements for guests.
public enum SBIExtension {
    public static let base: UInt64 = 0x10
    public static let time: UInt64 = 0x5449_4D45
    public static let ipi: UInt64 = 0x73_5049
    public static let rfence: UInt64 = 0x5246_4E43
    public static let hsm: UInt64 = 0x48_534D
    public static let srst: UInt64 = 0x5352_5354
    public static let dbcn: UInt64 = 0x4442_434E
    public static let rumkv: UInt64 = UInt64(RUM_SBI_EXT_ID)
    public static let legacySetTimer: UInt64 = 0x00
    public static let legacyPutchar: UInt64 = 0x01
    public static let legacyGetchar: UInt64 = 0x02
    public static let legacyShutdown: UInt64 = 0x08

    /// SBI BASE answers that depend on no argument: spec version 2.0 (fid 0),
    /// Rumkv's implementation id "RUK" and version 1.0 (1, 2), no mvendorid,
    /// marchid or mimpid (4-6); nil for probe_extension (3, depends on a0) and
    /// unknown functions. switch.S answers these in place (fastcalls.h).
    public static func baseConstant(_ fid: UInt64) -> Int64? {
        switch fid {
        case 0: 0x0200_0000
        case 1: 0x52_554B
        case 2: 0x0001_0000
        case 4, 5, 6: 0
        default: nil
        }
    }

    public static func supported(_ eid: UInt64) -> Bool {
        switch eid {
        case base, time, ipi, rfence, hsm, srst, dbcn, rumkv, legacySetTimer, legacyPutchar,
             legacyGetchar, legacyShutdown: return true
        default: return false
        }
    }

    /// True for the legacy (v0.1) extensions, which return their result in a0 alone.
    public static func isLegacy(_ eid: UInt64) -> Bool { eid <= 0x0F }

    /// The vCPUs an SBI hart mask names: bit i of `mask` is hart `base + i`;
    /// `base` all-ones means every hart (SBI v2.0, 3.2). nil if the mask
    /// names a hart at or beyond 64, which no guest has.
    public static func targets(mask: UInt64, base: UInt64) -> VCPUSet? {
        if base == UInt64.max { return .all }
        if mask == 0 { return VCPUSet(bits: 0) }
        guard base < 64, mask >> (64 - base) == 0 || base == 0 else { return nil }
        return VCPUSet(bits: mask << base)
    }

    /// Decodes a call the core must act on (BASE and TIME are answered by the fast path).
    public static func decode(eid: UInt64, fid: UInt64, a0: UInt64, a1: UInt64, a2: UInt64) -> GuestCall {
        switch eid {
        case legacyPutchar: return .consolePutchar(UInt8(truncatingIfNeeded: a0))
        case legacyGetchar: return .consoleGetchar
        case legacyShutdown: return .systemReset(.shutdown)
        case ipi where fid == 0: return targets(mask: a0, base: a1).map { .sendIPI($0) } ?? .invalid
        case rfence where fid <= 6: return targets(mask: a0, base: a1).map { .remoteFence($0) } ?? .invalid
        case hsm:
            switch fid {
            case 0: return .vcpuStart(vcpu: a0, entry: GuestPhysicalAddress(a1), arg: a2)
            case 1: return .vcpuStop
            case 2: return .vcpuStatus(vcpu: a0)
            default: return .unsupported
            }
        case srst where fid == 0:
            // type: 0 shutdown, 1 cold reboot, 2 warm reboot, 0xF0000000+ vendor
            // (not supported), others reserved (invalid). reason: 0 none,
            // 1 system failure, 0xE0000000+ implementation or vendor specific,
            // others reserved (invalid). Both are 32-bit parameters.
            let type = UInt32(truncatingIfNeeded: a0), reason = UInt32(truncatingIfNeeded: a1)
            guard reason <= 1 || reason >= 0xE000_0000 else { return .invalid }
            switch type {
            case 0, 1, 2: break
            case 0xF000_0000...: return .unsupported
            default: return .invalid
            }
            if reason == 1 { return .systemReset(.crash) }
            return .systemReset(type == 0 ? .shutdown : .reboot)
        case dbcn:
            switch fid {
            case 0: return .consoleWrite(GuestPhysicalAddress(a1 | a2 << 32), length: a0)
            case 1: return .consoleRead(GuestPhysicalAddress(a1 | a2 << 32), length: a0)
            case 2: return .consolePutchar(UInt8(truncatingIfNeeded: a0))
            default: return .unsupported
            }
        case rumkv:
            switch UInt32(truncatingIfNeeded: fid) {
            case RUM_HC_CONSOLE_WRITE: return .consoleWrite(GuestPhysicalAddress(a0), length: a1)
            case RUM_HC_YIELD: return .yield
            case RUM_HC_DOORBELL: return .doorbell(a0)
            case RUM_HC_EXIT: return .systemReset(a0 == 0 ? .shutdown : .crash)
            default: return .unsupported
            }
        default:
            return .unsupported
        }
    }
}

/// SBI v2.0 error codes (3.2, table 1) for the core's `CallError`.
public enum SBIError {
    public static func code(_ e: CallError) -> Int64 {
        switch e {
        case .failed: -1
        case .notSupported: -2
        case .invalidParameter: -3
        case .invalidAddress: -5
        case .alreadyAvailable: -6
        case .alreadyStarted: -7
        case .alreadyStopped: -8
        }
    }

    /// (a0, a1) for a call's result: SBI calls return (error, value); the
    /// legacy extensions return the value (or -1 on failure) in a0 alone.
    public static func registers(_ r: CallResult, legacy: Bool) -> (a0: UInt64, a1: UInt64?) {
        switch (r, legacy) {
        case (.success(let v), false): (0, v)
        case (.failure(let e), false): (UInt64(bitPattern: code(e)), 0)
        case (.success(let v), true): (v, nil)
        case (.failure, true): (UInt64(bitPattern: -1), nil)
        }
    }
}

/// Trapped instructions the virtual-instruction exception reports.
public enum TrappedInstruction {
    public static let wfi: UInt32 = 0x1050_0073

    /// True if `insn`, read from guest memory at the trapping pc, is `wfi`.
    public static func isWFI(_ insn: UInt32) -> Bool { insn == wfi }
}

/// Sv39x4 guest-physical translation format (Privileged Spec v1.12, 8.5).
public enum Sv39x4 {
    public static let valid: UInt64 = 1, read: UInt64 = 2, write: UInt64 = 4, exec: UInt64 = 8
    public static let user: UInt64 = 16, accessed: UInt64 = 64, dirty: UInt64 = 128

    /// A page-table entry pointing at physical address `pa`.
    public static func pte(_ pa: UInt64, _ flags: UInt64) -> UInt64 { (pa >> 12) << 10 | flags }
    /// The physical address an entry points at.
    public static func target(_ pte: UInt64) -> UInt64 { (pte >> 10) << 12 }
    /// Root index (11 bits: the x4 root has 2048 entries), level-1 and level-0 indices.
    public static func indices(_ gpa: UInt64) -> (root: UInt64, level1: UInt64, level0: UInt64) {
        ((gpa >> 30) & 0x7FF, (gpa >> 21) & 0x1FF, (gpa >> 12) & 0x1FF)
    }
    /// hgatp for mode Sv39x4, `vmid` and a 16 KiB aligned root.
    public static func hgatp(root: UInt64, vmid: UInt16) -> UInt64 { 8 << 60 | UInt64(vmid) << 44 | root >> 12 }
}
