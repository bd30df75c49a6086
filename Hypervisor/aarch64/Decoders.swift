// Decoders (aarch64): pure decoding of trapped guest state, testable on the host.
//
// Turning raw values into meaning without touching hardware: an ESR_EL2
// data-abort syndrome into an MMIO access, an HVC/SMC's registers (SMCCC,
// PSCI, Rumkv's vendor-hypervisor calls) into a portable `GuestCall`, the
// core's `CallResult` back into x0/x1, and stage-2 (VMSAv8-64, 4 KiB granule)
// descriptors. The port (VCPU.swift, Stage2.swift) feeds these from the vCPU;
// host tests (Tests/AArch64DecoderTests) feed them directly. No ArchShims here.

import RumkvCore
import RumABI

/// ESR_EL2 fields (Arm ARM D17.2.37, "ESR_EL2").
public struct Syndrome: Equatable {
    public var raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }

    /// Exception class [31:26].
    public var ec: UInt64 { (raw >> 26) & 0x3F }
    /// Instruction length [25]: 1 = 32-bit instruction.
    public var il: Bool { raw & (1 << 25) != 0 }
    public var iss: UInt64 { raw & 0x1FF_FFFF }

    public static let ecWFx: UInt64 = 0x01
    public static let ecHVC: UInt64 = 0x16
    public static let ecSMC: UInt64 = 0x17
    public static let ecSysReg: UInt64 = 0x18
    public static let ecInstructionAbortLower: UInt64 = 0x20
    public static let ecDataAbortLower: UInt64 = 0x24

    /// A data abort with a valid instruction syndrome (ISS.ISV = 1) as an
    /// access of the trapping instruction: SAS [23:22], SSE [21], SRT [20:16],
    /// WnR [6]. nil when ISV = 0 (writeback, pair or SIMD forms: no syndrome).
    public func dataAccess(ipa: UInt64, value: (UInt8) -> UInt64) -> MMIOAccess? {
        guard ec == Syndrome.ecDataAbortLower, raw & (1 << 24) != 0 else { return nil }
        let width = UInt8(1 << ((raw >> 22) & 3))
        let reg = UInt8((raw >> 16) & 0x1F)
        let write = raw & (1 << 6) != 0
        var v: UInt64 = 0
        if write { v = reg == 31 ? 0 : value(reg) }      // SRT 31 is xzr for loads and stores
        if write && width < 8 { v &= (1 << (UInt64(width) * 8)) - 1 }
        return MMIOAccess(address: GuestPhysicalAddress(ipa), width: width, write: write, value: v, register: reg,
                          signExtend: raw & (1 << 21) != 0, instructionLength: il ? 4 : 2)
    }

    /// True for a write access (WnR) in a data abort, whatever ISV says.
    public var isWrite: Bool { raw & (1 << 6) != 0 }

    /// WFI (TI = 0) as opposed to WFE (TI = 1), ISS [0].
    public var isWFI: Bool { raw & 1 == 0 }
}

/// A trapped MSR/MRS (EC 0x18): ISS Op0 [21:20], Op2 [19:17], Op1 [16:14],
/// CRn [13:10], Rt [9:5], CRm [4:1], Direction [0] (1 = read, MRS).
public struct SystemRegisterAccess: Equatable {
    public var op0, op1, crn, crm, op2: UInt8
    public var rt: UInt8
    public var read: Bool

    public init?(_ s: Syndrome) {
        guard s.ec == Syndrome.ecSysReg else { return nil }
        let iss = s.iss
        op0 = UInt8((iss >> 20) & 3); op2 = UInt8((iss >> 17) & 7); op1 = UInt8((iss >> 14) & 7)
        crn = UInt8((iss >> 10) & 0xF); rt = UInt8((iss >> 5) & 0x1F); crm = UInt8((iss >> 1) & 0xF)
        read = iss & 1 != 0
    }

    /// ICC_SGI1R_EL1 = S3_0_C12_C11_5 (GIC spec IHI 0069, 12.2.22).
    public var isSGI1R: Bool { op0 == 3 && op1 == 0 && crn == 12 && crm == 11 && op2 == 5 }
}

/// The vCPUs an ICC_SGI1R_EL1 value names, for a sender with index `sender`:
/// IRM [40] = every vCPU but the sender; otherwise TargetList [15:0] with
/// RS [47:44] selecting Aff0 = RS * 16 + bit, and Aff1..Aff3 zero (Rumkv gives
/// vCPU n the affinity 0.0.0.n). Anything else names nobody.
public func sgiTargets(_ value: UInt64, sender: Int) -> VCPUSet {
    if value & (1 << 40) != 0 {
        return VCPUSet(bits: sender >= 0 && sender < 64 ? ~(UInt64(1) << UInt64(sender)) : ~0)
    }
    guard value & 0x00FF_00FF_00FF_0000 == 0 else { return VCPUSet(bits: 0) }   // Aff3, Aff2, Aff1
    let rs = (value >> 44) & 0xF
    guard rs < 4 else { return VCPUSet(bits: 0) }
    return VCPUSet(bits: (value & 0xFFFF) << (rs * 16))
}

/// The faulting IPA of a stage-2 abort: HPFAR_EL2.FIPA [43:4] holds IPA[51:12],
/// FAR_EL2 the page offset (Arm ARM, HPFAR_EL2).
public func faultingIPA(hpfar: UInt64, far: UInt64) -> UInt64 {
    ((hpfar >> 4) & 0xFF_FFFF_FFFF) << 12 | (far & 0xFFF)
}

/// Sign-extends a loaded value of `width` bytes to 64 bits when `access` asks for it.
public func extendLoad(_ value: UInt64, _ access: MMIOAccess) -> UInt64 {
    let bits = UInt64(access.width) * 8
    guard bits < 64 else { return value }
    let v = value & ((1 << bits) - 1)
    guard access.signExtend, v & (1 << (bits - 1)) != 0 else { return v }
    return v | ~((1 << bits) - 1)
}

/// SMC Calling Convention (Arm DEN 0028) and PSCI 1.1 (Arm DEN 0022) as Rumkv
/// serves them over HVC (and trapped SMC).
public enum SMCCC {
    // PSCI function ids (SMC32 and SMC64 forms where both exist).
    public static let psciVersion: UInt32 = 0x8400_0000
    public static let cpuOff: UInt32 = 0x8400_0002
    public static let cpuOn32: UInt32 = 0x8400_0003, cpuOn64: UInt32 = 0xC400_0003
    public static let affinityInfo32: UInt32 = 0x8400_0004, affinityInfo64: UInt32 = 0xC400_0004
    public static let migrateInfoType: UInt32 = 0x8400_0006
    public static let systemOff: UInt32 = 0x8400_0008
    public static let systemReset: UInt32 = 0x8400_0009
    public static let psciFeatures: UInt32 = 0x8400_000A
    public static let smcccVersion: UInt32 = 0x8000_0000
    public static let archFeatures: UInt32 = 0x8000_0001

    /// PSCI 1.1 in VERSION's encoding (major << 16 | minor); SMCCC 1.1 likewise.
    public static let psci11: UInt64 = 0x1_0001
    public static let smccc11: UInt64 = 0x1_0001
    /// MIGRATE_INFO_TYPE: 2 = no Trusted OS to migrate.
    public static let noTrustedOS: UInt64 = 2

    /// Rumkv's own calls: SMC64 fast calls to owner 6, "vendor specific
    /// hypervisor service" (SMCCC 6.2, table 6-4); function = RUM_HC_*.
    public static let vendorBase: UInt32 = RUM_SMCCC_HV_BASE
    public static func vendor(_ n: UInt32) -> UInt32 { vendorBase | n }

    /// PSCI return codes (DEN 0022 5.2.2).
    public static let notSupported: Int64 = -1, invalidParameters: Int64 = -2, denied: Int64 = -3
    public static let alreadyOn: Int64 = -4, onPending: Int64 = -5, internalFailure: Int64 = -6
    public static let invalidAddress: Int64 = -9

    /// How a call's result goes back into the registers.
    public enum Convention: Equatable {
        /// PSCI/SMCCC: x0 = value, or a negative PSCI error.
        case psci
        /// Rumkv's vendor calls: x0 = RUM_HC_OK or RUM_HC_ERR_*, x1 = value.
        case rumkv
    }

    /// What the port does with a call: answer it in place, or hand it to the core.
    public enum Decoded: Equatable {
        /// Answered from constants, no state touched.
        case answer(UInt64, Convention)
        case call(GuestCall, Convention)
    }

    /// The vCPU index a PSCI target MPIDR names: Aff0, with Aff1..Aff3 zero
    /// (Rumkv gives vCPU n the VMPIDR Aff0 = n); nil otherwise.
    public static func vcpuIndex(mpidr: UInt64) -> UInt64? {
        mpidr & 0xFF_00FF_FF00 == 0 ? mpidr & 0xFF : nil
    }

    /// Decodes x0 (function id) and x1..x3.
    public static func decode(x0: UInt64, x1: UInt64, x2: UInt64, x3: UInt64) -> Decoded {
        // SMCCC: bits [63:32] of a function id in x0 must be zero for SMC64/HVC64 too.
        guard x0 >> 32 == 0 else { return .call(.unsupported, .psci) }
        let fid = UInt32(x0)
        if fid & 0xFFFF_0000 == vendorBase { return decodeVendor(fid & 0xFFFF, x1: x1, x2: x2) }
        switch fid {
        case psciVersion: return .answer(psci11, .psci)
        case smcccVersion: return .answer(smccc11, .psci)
        case migrateInfoType: return .answer(noTrustedOS, .psci)
        case psciFeatures: return .answer(features(x1), .psci)
        case archFeatures: return .answer(UInt64(bitPattern: notSupported), .psci)
        case cpuOff: return .call(.vcpuStop, .psci)
        case cpuOn32, cpuOn64:
            let t = fid == cpuOn32 ? x1 & 0xFFFF_FFFF : x1
            guard let v = vcpuIndex(mpidr: t) else { return .call(.vcpuStart(vcpu: UInt64.max, entry: GuestPhysicalAddress(x2), arg: x3), .psci) }
            let entry = fid == cpuOn32 ? x2 & 0xFFFF_FFFF : x2
            return .call(.vcpuStart(vcpu: v, entry: GuestPhysicalAddress(entry), arg: x3), .psci)
        case affinityInfo32, affinityInfo64:
            // Level (x2) 0 only: Rumkv guests have one cluster.
            guard x2 == 0, let v = vcpuIndex(mpidr: x1) else { return .call(.vcpuStatus(vcpu: UInt64.max), .psci) }
            return .call(.vcpuStatus(vcpu: v), .psci)
        case systemOff: return .call(.systemReset(.shutdown), .psci)
        case systemReset: return .call(.systemReset(.reboot), .psci)
        default: return .call(.unsupported, .psci)
        }
    }

    static func decodeVendor(_ n: UInt32, x1: UInt64, x2: UInt64) -> Decoded {
        switch n {
        case RUM_HC_VERSION: return .answer(UInt64(RUM_HC_ABI_VERSION), .rumkv)
        case RUM_HC_CONSOLE_WRITE: return .call(.consoleWrite(GuestPhysicalAddress(x1), length: x2), .rumkv)
        case RUM_HC_CONSOLE_READ: return .call(.consoleRead(GuestPhysicalAddress(x1), length: x2), .rumkv)
        case RUM_HC_YIELD: return .call(.yield, .rumkv)
        case RUM_HC_DOORBELL: return .call(.doorbell(x1), .rumkv)
        case RUM_HC_EXIT: return .call(.systemReset(x1 == 0 ? .shutdown : .crash), .rumkv)
        default: return .call(.unsupported, .rumkv)
        }
    }

    /// PSCI_FEATURES: 0 for a function Rumkv implements, NOT_SUPPORTED otherwise.
    public static func features(_ fid: UInt64) -> UInt64 {
        switch UInt32(truncatingIfNeeded: fid) {
        case psciVersion, cpuOff, cpuOn32, cpuOn64, affinityInfo32, affinityInfo64, migrateInfoType,
             systemOff, systemReset, psciFeatures, smcccVersion:
            return fid >> 32 == 0 ? 0 : UInt64(bitPattern: notSupported)
        default: return UInt64(bitPattern: notSupported)
        }
    }

    /// The registers a result goes into: x0, and x1 for Rumkv's calls.
    public static func registers(_ result: CallResult, _ convention: Convention) -> (x0: UInt64, x1: UInt64?) {
        switch convention {
        case .psci:
            switch result {
            case .success(let v): return (v, nil)
            case .failure(let e): return (UInt64(bitPattern: psciError(e)), nil)
            }
        case .rumkv:
            switch result {
            case .success(let v): return (UInt64(bitPattern: Int64(RUM_HC_OK)), v)
            case .failure(let e): return (UInt64(bitPattern: rumkvError(e)), 0)
            }
        }
    }

    public static func psciError(_ e: CallError) -> Int64 {
        switch e {
        case .failed: internalFailure
        case .notSupported: notSupported
        case .invalidParameter: invalidParameters
        case .invalidAddress: invalidAddress
        case .alreadyAvailable, .alreadyStarted: alreadyOn
        case .alreadyStopped: denied
        }
    }

    public static func rumkvError(_ e: CallError) -> Int64 {
        switch e {
        case .notSupported: Int64(RUM_HC_ERR_UNSUPPORTED)
        case .invalidAddress: Int64(RUM_HC_ERR_ADDRESS)
        case .failed, .invalidParameter, .alreadyAvailable, .alreadyStarted, .alreadyStopped: Int64(RUM_HC_ERR_INVALID)
        }
    }
}

/// Stage-2 translation table descriptors, VMSAv8-64 with a 4 KiB granule
/// (Arm ARM D8.3, "Translation table descriptor formats"; D8.5 for stage-2
/// attributes). 40-bit IPA starting at level 1 with two concatenated tables.
public enum Stage2Format {
    /// VTCR_EL2: T0SZ = 24 (40-bit IPA), SL0 = 1 (start at level 1), IRGN0 = ORGN0 = WB,
    /// SH0 = inner, TG0 = 4 KiB, PS = 40 bits, RES1 bit 31 (checked on QEMU 7.2: ports.md).
    public static let vtcr: UInt64 = 0x8002_3558
    /// Root: two concatenated level-1 tables, 8 KiB aligned.
    public static let rootPages = 2
    public static let ipaBits: UInt64 = 40

    public static let valid: UInt64 = 1 << 0
    public static let table: UInt64 = 1 << 1          // level 0-2: next-level table; level 3: page
    public static let memAttrNormalWB: UInt64 = 0xF << 2
    public static let memAttrDevice: UInt64 = 0x1 << 2    // Device-nGnRE
    public static let s2apRead: UInt64 = 1 << 6
    public static let s2apWrite: UInt64 = 1 << 7
    public static let shInner: UInt64 = 3 << 8
    public static let accessFlag: UInt64 = 1 << 10
    public static let executeNever: UInt64 = 1 << 54
    public static let addressMask: UInt64 = 0x0000_FFFF_FFFF_F000

    /// Indices of `ipa` in the root (level 1, 1024 entries), level 2 and level 3 tables.
    public static func indices(_ ipa: UInt64) -> (root: UInt64, level2: UInt64, level3: UInt64) {
        ((ipa >> 30) & 0x3FF, (ipa >> 21) & 0x1FF, (ipa >> 12) & 0x1FF)
    }

    public static func tableDescriptor(_ pa: UInt64) -> UInt64 { (pa & addressMask) | table | valid }

    /// A leaf's attribute bits: normal memory is inner-shareable write-back and
    /// executable if writable (guest RAM); read-only pages (the SysTable and
    /// device table) are data, never executable; devices are Device-nGnRE and
    /// never executable.
    public static func leafAttributes(device: Bool, writable: Bool) -> UInt64 {
        (device ? memAttrDevice : memAttrNormalWB | shInner) | (device || !writable ? executeNever : 0)
            | accessFlag | s2apRead | (writable ? s2apWrite : 0)
    }

    /// A 2 MiB block at level 2 (bit 1 clear) or a 4 KiB page at level 3 (bit 1 set).
    public static func leaf(_ pa: UInt64, _ attributes: UInt64, page: Bool) -> UInt64 {
        (pa & addressMask) | attributes | (page ? table : 0) | valid
    }

    public static func target(_ descriptor: UInt64) -> UInt64 { descriptor & addressMask }

    /// VTTBR_EL2: root address with the VMID in [55:48] (8-bit VMIDs).
    public static func vttbr(root: UInt64, vmid: UInt16) -> UInt64 { root | UInt64(vmid & 0xFF) << 48 }
}
