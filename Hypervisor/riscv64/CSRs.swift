// CSRs (riscv64): the bit sets of the hypervisor CSRs Rumkv writes.
//
// Named bits instead of shifts (RISC-V Privileged Spec v1.12: 8.2.1 hstatus,
// 4.1.1 sstatus, 8.2.3-8.2.5 hvip/hip/hie, 4.1.3 sip/sie, 8.2.2 hedeleg).
// Pure values: this file is also compiled into the host-tested decoder target.

/// hstatus bits Rumkv sets or clears on guest entry.
public struct HStatus: OptionSet {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Supervisor previous virtualization mode: sret enters VS-mode.
    public static let spv = HStatus(rawValue: 1 << 7)
    /// Supervisor previous virtual privilege (for HLV/HSV from HS-mode).
    public static let spvp = HStatus(rawValue: 1 << 8)
    /// Timeout wait: wfi in VS-mode raises a virtual-instruction exception.
    public static let vtw = HStatus(rawValue: 1 << 21)
}

/// sstatus bits.
public struct SStatus: OptionSet {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Supervisor previous privilege: sret returns to S (VS when SPV is set).
    public static let spp = SStatus(rawValue: 1 << 8)
}

/// Interrupt bits of sip/sie, hvip/hideleg (the VS* bits are one position up).
public struct InterruptBits: OptionSet {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let ssi = InterruptBits(rawValue: 1 << 1)
    public static let vssi = InterruptBits(rawValue: 1 << 2)
    public static let sti = InterruptBits(rawValue: 1 << 5)
    public static let vsti = InterruptBits(rawValue: 1 << 6)
    public static let sei = InterruptBits(rawValue: 1 << 9)
    public static let vsei = InterruptBits(rawValue: 1 << 10)
}

/// Exceptions delegated to the guest (hedeleg): it handles them itself in VS-mode.
public struct ExceptionBits: OptionSet {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let misalignedFetch = ExceptionBits(rawValue: 1 << 0)
    public static let illegalInstruction = ExceptionBits(rawValue: 1 << 2)
    public static let breakpoint = ExceptionBits(rawValue: 1 << 3)
    public static let misalignedLoad = ExceptionBits(rawValue: 1 << 4)
    public static let misalignedStore = ExceptionBits(rawValue: 1 << 6)
    public static let userEcall = ExceptionBits(rawValue: 1 << 8)
    public static let fetchPageFault = ExceptionBits(rawValue: 1 << 12)
    public static let loadPageFault = ExceptionBits(rawValue: 1 << 13)
    public static let storePageFault = ExceptionBits(rawValue: 1 << 15)

    /// What a VS-mode guest handles itself.
    public static let guestOwned: ExceptionBits = [.misalignedFetch, .illegalInstruction, .breakpoint, .misalignedLoad,
                                                   .misalignedStore, .userEcall, .fetchPageFault, .loadPageFault,
                                                   .storePageFault]
}
