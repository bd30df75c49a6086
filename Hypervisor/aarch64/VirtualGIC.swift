// VirtualGIC (aarch64): the GICv3 registers each VM sees, pure and host-tested.
//
// A distributor at 0x08000000 and one 128 KiB redistributor frame per vCPU
// from 0x080A0000 (frames for 8 vCPUs, the last marked Last), as on QEMU
// virt, trap-and-emulate (never mapped; GIC.swift and VCPU.swift feed it the
// ISV = 1 accesses): identification (TYPER, PIDR2, GICR_TYPER), GICD_CTLR,
// and the enables of the SPIs the VM's devices own and of its SGIs/PPIs;
// other registers read as zero and ignore writes (WAKER = 0: awake). Which
// SPIs are pending and enabled decides what VCPU.swift injects. Register
// offsets: GIC architecture spec IHI 0069, 12.9 (distributor), 12.10/12.11
// (redistributor RD and SGI frames). Tests: Tests/AArch64DecoderTests.

import RumkvCore

public enum VGICLayout {
    // Distributor and redistributor register offsets (shared with the physical GIC).
    public static let ctlr: UInt64 = 0x0000, typer: UInt64 = 0x0004, isenabler: UInt64 = 0x0100, icenabler: UInt64 = 0x0180
    public static let igroupr: UInt64 = 0x0080, ipriorityr: UInt64 = 0x0400, icactiver: UInt64 = 0x0380
    public static let irouter: UInt64 = 0x6000, pidr2: UInt64 = 0xFFE8
    public static let rdTyper: UInt64 = 0x0008, rdWaker: UInt64 = 0x0014, sgiFrame: UInt64 = 0x1_0000

    public static let vdist: UInt64 = 0x0800_0000
    public static let vdistSize: UInt64 = 0x1_0000
    public static let vredist: UInt64 = 0x080A_0000
    public static let vredistFrame: UInt64 = 0x2_0000
    public static let vcpuMax = 8
    public static let distWindow = GuestRegion(base: GuestPhysicalAddress(vdist), size: vdistSize)
    public static let redistWindow = GuestRegion(base: GuestPhysicalAddress(vredist), size: vredistFrame * UInt64(vcpuMax))
}

/// A VM's virtual distributor and redistributors (the registers Rumkv emulates).
public struct VirtualGIC {
    public init() {}
    public var ctlr: UInt32 = 0
    /// SPIs this VM's devices own, enabled by the guest, pending (bit n - 32).
    public var owned: UInt64 = 0
    public var enabled: UInt64 = 0
    public var pending: UInt64 = 0
    /// SGI/PPI enables per vCPU (redistributor SGI frame).
    public var privateEnabled: InlineArray<8, UInt32> = .init(repeating: 0)
    /// Redistributor frames the guest sees (the last one says Last).
    public let vcpus = VGICLayout.vcpuMax

    public static func bit(_ irq: UInt32) -> UInt64 { irq >= 32 && irq < 96 ? 1 << UInt64(irq - 32) : 0 }

    /// One access to the distributor (offset `off`).
    public mutating func distributor(_ off: UInt64, write: Bool, _ v: UInt64) -> UInt64 {
        switch off {
        case VGICLayout.ctlr:
            if write { ctlr = UInt32(truncatingIfNeeded: v) & 0x13 } else { return UInt64(ctlr | 1 << 6) }   // DS = 1
        case VGICLayout.typer:
            return write ? 0 : 2 | UInt64(min(vcpus, 8) - 1) << 5 | 9 << 19          // 96 INTIDs, 10 ID bits
        case VGICLayout.isenabler + 4, VGICLayout.isenabler + 8:
            let shift = (off - VGICLayout.isenabler - 4) * 32
            if write { enabled |= (v & 0xFFFF_FFFF) << shift & owned } else { return (enabled >> shift) & 0xFFFF_FFFF }
        case VGICLayout.icenabler + 4, VGICLayout.icenabler + 8:
            let shift = (off - VGICLayout.icenabler - 4) * 32
            if write { enabled &= ~((v & 0xFFFF_FFFF) << shift) } else { return (enabled >> shift) & 0xFFFF_FFFF }
        case VGICLayout.pidr2:
            return write ? 0 : 0x30                                               // GICv3
        default:
            break
        }
        return 0
    }

    /// One access to vCPU `vcpu`'s redistributor frames (offset `off` in them).
    public mutating func redistributor(_ vcpu: Int, _ off: UInt64, write: Bool, _ v: UInt64) -> UInt64 {
        guard vcpu >= 0, vcpu < VGICLayout.vcpuMax else { return 0 }
        switch off {
        case VGICLayout.rdTyper:
            return write ? 0 : UInt64(vcpu) << 32 | UInt64(vcpu) << 8 | (vcpu == vcpus - 1 ? 1 << 4 : 0)
        case VGICLayout.rdTyper + 4:
            return write ? 0 : UInt64(vcpu)
        case VGICLayout.pidr2:
            return write ? 0 : 0x30
        case VGICLayout.sgiFrame + VGICLayout.isenabler:
            if write { privateEnabled[vcpu] |= UInt32(truncatingIfNeeded: v) } else { return UInt64(privateEnabled[vcpu]) }
        case VGICLayout.sgiFrame + VGICLayout.icenabler:
            if write { privateEnabled[vcpu] &= ~UInt32(truncatingIfNeeded: v) } else { return UInt64(privateEnabled[vcpu]) }
        default:
            break                                                                   // WAKER = 0: awake
        }
        return 0
    }
}


/// One list register's value (ICH_LR<n>_EL2, IHI 0069 12.4.6): state in
/// [63:62] (pending 01, active 10, both 11), HW [61], group 1 [60], priority
/// [55:48], the physical INTID [41:32] when HW = 1, the virtual INTID [31:0].
public struct ListRegister: Equatable {
    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    public static let pending: UInt64 = 1 << 62, active: UInt64 = 1 << 63, hw: UInt64 = 1 << 61, group1: UInt64 = 1 << 60
    /// Every interrupt Rumkv injects has the priority it gives all physical ones (GIC.priority).
    public static let priority: UInt64 = 0xA0
    public var isEmpty: Bool { raw >> 62 == 0 }
    public var isPending: Bool { raw & ListRegister.pending != 0 }
    public var intid: UInt32 { UInt32(truncatingIfNeeded: raw & 0xFFFF_FFFF) }
    public var isHardware: Bool { raw & ListRegister.hw != 0 }
    public var physical: UInt32 { UInt32(truncatingIfNeeded: (raw >> 32) & 0x3FF) }
    /// A pending group-1 interrupt, linked to physical `physical` when given
    /// (the guest's deactivation then deactivates the physical interrupt).
    public static func make(_ intid: UInt32, physical: UInt32? = nil) -> ListRegister {
        var v = pending | group1 | priority << 48 | UInt64(intid)
        if let p = physical { v |= hw | UInt64(p & 0x3FF) << 32 }
        return ListRegister(raw: v)
    }
}

/// A vCPU's four list registers (QEMU and the GIC-500/600 have 4: ICH_VTR_EL2)
/// and how pending virtual interrupts go into them. More can pend than fit:
/// the rest stay in the caller's bitmaps, and `fill` says so, so the port
/// enables the underflow maintenance interrupt (ICH_HCR_EL2.UIE, PPI 25: at
/// most one list register still valid) and refills at the exit it causes.
public struct ListRegisters {
    public static let count = 4
    public var lr: InlineArray<4, UInt64>
    public init(_ lr: InlineArray<4, UInt64> = .init(repeating: 0)) { self.lr = lr }

    /// Puts `l` in a list register. An INTID is never in two registers (that is
    /// UNPREDICTABLE: IHI 0069, ICH_LR<n>_EL2): already pending there is
    /// enough; a software interrupt the guest is still handling (active) becomes
    /// active and pending. Otherwise the first free register; false if none.
    public mutating func queue(_ l: ListRegister) -> Bool {
        var free = -1
        for i in 0..<ListRegisters.count {
            let cur = ListRegister(raw: lr[i])
            if cur.isEmpty {
                if free < 0 { free = i }
            } else if cur.intid == l.intid {
                if cur.isPending { return true }
                // Active only. A hardware one cannot pend again before the guest
                // deactivates it (the physical interrupt is active meanwhile).
                guard !cur.isHardware else { return true }
                lr[i] |= ListRegister.pending
                return true
            }
        }
        guard free >= 0 else { return false }
        lr[free] = l.raw
        return true
    }

    /// Moves what fits of `privatePending` (bit n = SGI/PPI n) and `spiPending`
    /// (bit n = SPI 32 + n, linked to the same physical SPI), lowest INTID first,
    /// clearing the bits placed. True if some remain (ask for the underflow
    /// maintenance interrupt).
    public mutating func fill(privatePending: inout UInt64, spiPending: inout UInt64) -> Bool {
        privatePending = Self.move(privatePending) { queue(.make(UInt32($0))) }
        spiPending = Self.move(spiPending) { queue(.make(32 + UInt32($0), physical: 32 + UInt32($0))) }
        return privatePending | spiPending != 0
    }

    /// The bits of `bits` that `place` could not take.
    static func move(_ bits: UInt64, _ place: (Int) -> Bool) -> UInt64 {
        var rest = bits, scan = bits
        while scan != 0 {
            let n = scan.trailingZeroBitCount
            scan &= scan - 1
            if place(n) { rest &= ~(1 << UInt64(n)) }
        }
        return rest
    }

    /// Some register holds a pending interrupt (the guest has something to take).
    public var anyPending: Bool {
        var any = false
        for i in 0..<ListRegisters.count where ListRegister(raw: lr[i]).isPending { any = true }
        return any
    }
}
