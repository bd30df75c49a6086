// GIC (aarch64): the physical GICv3 Rumkv uses, and each guest's virtual one.
//
// Physical (GIC architecture spec IHI 0069): the distributor and each CPU's
// redistributor are found from the device tree's "arm,gic-v3" node (reg[0] =
// GICD, reg[1] = the redistributor region, one 128 KiB frame per CPU matched
// by GICR_TYPER's affinity). All interrupts are group 1, priority 0xA0; the
// CPU interface runs with EOImode = 1, so an EOI only drops the running
// priority and deactivation is a separate write (ICC_DIR_EL1): the virtual
// timer's PPI 27 stays active after its priority drop until the guest
// deactivates it through a hardware list register (ports.md, measured).
// Interrupts Rumkv takes: SGI 0 (kick from another CPU), PPI 26 (CNTHP, the
// EL2 slice timer), PPI 27 (the running guest's virtual timer, injected),
// and the SPIs of passed-through devices (priority-dropped and injected with
// a hardware list register: the owner's deactivation deactivates them, so no
// masking is needed, as ports.md suggests).
//
// Virtual: each VM sees a distributor at 0x08000000 and one redistributor
// frame per vCPU from 0x080A0000, as on QEMU virt, trap-and-emulate (the
// windows are never mapped): identification, control, enables and the
// redistributor's wake handshake; other registers read as zero and ignore
// writes. The guest's CPU interface is the hardware's virtual one (ICV_*
// through the list registers, VCPU.swift).

import ArchShims
import RumkvCore
import RumABI

enum GIC {
    nonisolated(unsafe) static var distributor: UInt64 = 0
    nonisolated(unsafe) static var redistributors: UInt64 = 0
    nonisolated(unsafe) static var redistributorsSize: UInt64 = 0
    /// Each CPU's redistributor frame (RD_base; SGI_base = RD_base + 64 KiB).
    nonisolated(unsafe) static var frame: InlineArray<8, UInt64> = .init(repeating: 0)
    /// Device interrupts taken on each CPU while a guest ran, not yet handed to the core
    /// (bit n of word 2c + n / 64 = SPI n).
    nonisolated(unsafe) static var taken: InlineArray<16, UInt64> = .init(repeating: 0)

    static let kickSGI: UInt32 = 0
    static let maintenancePPI: UInt32 = 25
    static let hypervisorTimerPPI: UInt32 = 26
    static let virtualTimerPPI: UInt32 = 27
    static let spurious: UInt32 = 1020
    /// SPIs Rumkv can route: 32..<128.
    static let maxIRQ: UInt32 = 128

    static let priority = UInt32(ListRegister.priority)

    // Register offsets (IHI 0069, 12.9-12.11): VirtualGIC.swift.
    static let ctlr = VGICLayout.ctlr, isenabler = VGICLayout.isenabler, icenabler = VGICLayout.icenabler
    static let igroupr = VGICLayout.igroupr, ipriorityr = VGICLayout.ipriorityr, icactiver = VGICLayout.icactiver
    static let irouter = VGICLayout.irouter, rdTyper = VGICLayout.rdTyper, rdWaker = VGICLayout.rdWaker
    static let sgiFrame = VGICLayout.sgiFrame

    static func read(_ a: UInt64) -> UInt32 { a64_mmio_read32(a) }
    static func write(_ a: UInt64, _ v: UInt32) { a64_mmio_write32(a, v) }

    /// Finds the GIC in the device tree (boot CPU).
    static func discover(_ dt: DeviceTree) -> Bool {
        _ = try? dt.walk { node in
            guard dt.property(node, "compatible")?.containsString("arm,gic-v3") ?? false,
                  let reg = dt.property(node, "reg") else { return true }
            let cells = Int(node.addressCells + node.sizeCells)
            guard let d = reg.number(at: 0, cells: node.addressCells),
                  let r = reg.number(at: cells, cells: node.addressCells),
                  let rs = reg.number(at: cells + Int(node.addressCells), cells: node.sizeCells) else { return false }
            distributor = d; redistributors = r; redistributorsSize = rs
            return false
        }
        return distributor != 0 && redistributors != 0
    }

    /// The distributor, once: affinity routing on, group 1 enabled, every SPI
    /// group 1 and disabled (a device is enabled when it is routed).
    static func initDistributor() {
        let d = distributor
        write(d + ctlr, 0)
        waitForDistributor()
        for n in UInt64(1)..<UInt64(maxIRQ / 32) {
            write(d + icenabler + 4 * n, 0xFFFF_FFFF)
            write(d + igroupr + 4 * n, 0xFFFF_FFFF)
        }
        for n in UInt64(8)..<UInt64(maxIRQ / 4) { write(d + ipriorityr + 4 * n, priority * 0x0101_0101) }
        write(d + ctlr, 1 << 4 | 1 << 1)          // ARE, EnableGrp1 (single security state, DS = 1)
        waitForDistributor()
    }

    static func waitForDistributor() {
        var spins = 0
        while read(distributor + ctlr) & (1 << 31) != 0 && spins < 1_000_000 { spins += 1 }
    }

    /// This CPU's redistributor and CPU interface (every CPU, on itself).
    static func initCPU(_ cpu: Int, mpidr: UInt64) {
        var f = redistributors
        while f + 0x2_0000 <= redistributors + redistributorsSize {
            let t = a64_mmio_read64(f + rdTyper)
            if t >> 32 == ((mpidr >> 8) & 0xFF_0000) | (mpidr & 0xFFFF) { break }
            if t & (1 << 4) != 0 { f = 0; break }           // Last: no frame for this CPU
            f += 0x2_0000
        }
        guard f != 0, cpu < 8 else { return }
        frame[cpu] = f
        write(f + rdWaker, read(f + rdWaker) & ~UInt32(1 << 1))   // ProcessorSleep = 0
        var spins = 0
        while read(f + rdWaker) & (1 << 2) != 0 && spins < 1_000_000 { spins += 1 }
        let s = f + sgiFrame
        write(s + icenabler, 0xFFFF_FFFF)
        write(s + igroupr, 0xFFFF_FFFF)
        for n in UInt64(0)..<8 { write(s + ipriorityr + 4 * n, priority * 0x0101_0101) }
        write(s + isenabler, 1 << kickSGI | 1 << maintenancePPI | 1 << hypervisorTimerPPI | 1 << virtualTimerPPI)
        a64_write_icc_sre_el2(0xF)                    // SRE, DFB, DIB, Enable (EL1 may use ICC_SRE_EL1)
        a64_isb()
        a64_write_icc_pmr(0xFF)
        a64_write_icc_bpr1(0)
        a64_write_icc_ctlr_el1(1 << 1)                // EOImode: EOI drops priority, DIR deactivates
        a64_write_icc_igrpen1(1)
        a64_write_ich_hcr(1)                          // the virtual CPU interface on
        for i in 0..<4 { writeLR(i, 0) }
        a64_write_ich_ap1r0(0)
        a64_isb()
    }

    static func readLR(_ i: Int) -> UInt64 {
        switch i {
        case 0: a64_read_ich_lr0()
        case 1: a64_read_ich_lr1()
        case 2: a64_read_ich_lr2()
        default: a64_read_ich_lr3()
        }
    }

    static func writeLR(_ i: Int, _ v: UInt64) {
        switch i {
        case 0: a64_write_ich_lr0(v)
        case 1: a64_write_ich_lr1(v)
        case 2: a64_write_ich_lr2(v)
        default: a64_write_ich_lr3(v)
        }
    }

    /// Takes every interrupt pending at this CPU's interface. Returns true if the
    /// slice timer fired; the virtual timer goes to `timer` (the running vCPU's
    /// list register), device SPIs are masked and kept for `claim`.
    static func acknowledge(timer: (() -> Void)?) -> Bool {
        var tick = false
        let c = AArch64.currentCPU()
        while true {
            let id = UInt32(truncatingIfNeeded: a64_read_icc_iar1() & 0xFF_FFFF)
            if id >= spurious { return tick }
            a64_dsb()
            switch id {
            case hypervisorTimerPPI:
                a64_write_cnthp_ctl_el2(0); a64_isb()
                tick = true
            case virtualTimerPPI:
                if let t = timer {
                    a64_write_icc_eoir1(UInt64(id))   // priority drop; the guest deactivates it
                    t()
                    continue
                }
                // In idle no guest timer is armed (vcpuPut disables it): a stale one.
                break
            case 32..<maxIRQ:
                // A device: priority drop only. It stays active (it cannot fire
                // again) until its owner deactivates it through the hardware
                // list register it is injected with (VCPU.swift).
                a64_write_icc_eoir1(UInt64(id))
                a64_isb()
                taken[2 * (c & 7) + Int(id / 64)] |= 1 << UInt64(id % 64)
                continue
            default:
                break
            }
            a64_write_icc_eoir1(UInt64(id))
            a64_write_icc_dir(UInt64(id))
            a64_isb()
        }
    }

    /// Hands the device interrupts this CPU took to the core. Lock held.
    static func claim(_ deliver: (UInt32) -> Void) {
        // Called between exits with a vCPU loaded, or from idle: a virtual-timer
        // interrupt is the loaded vCPU's (its list registers are in the hardware).
        _ = acknowledge(timer: AArch64.injectTimer)
        let c = AArch64.currentCPU() & 7
        for w in 0..<2 {
            var bits = taken[2 * c + w]
            taken[2 * c + w] = 0
            while bits != 0 {
                let i = UInt32(bits.trailingZeroBitCount)
                bits &= bits - 1
                deliver(UInt32(w * 64) + i)
            }
        }
    }

    static func pendingTaken() -> Bool {
        let c = AArch64.currentCPU() & 7
        return taken[2 * c] | taken[2 * c + 1] != 0 || a64_read_icc_hppir1() & 0xFF_FFFF < UInt64(spurious)
    }

    static func setEnabled(_ irq: UInt32, _ on: Bool) {
        guard distributor != 0, irq >= 32, irq < maxIRQ else { return }
        write(distributor + (on ? isenabler : icenabler) + 4 * UInt64(irq / 32), 1 << (irq % 32))
    }

    static func route(_ irq: UInt32, _ on: Bool, cpu: Int) {
        guard distributor != 0, irq >= 32, irq < maxIRQ else { return }
        if on {
            let mpidr = AArch64.cpuIDs[cpu >= 0 && cpu < AArch64.cpuCount ? cpu : 0]
            a64_mmio_write64(distributor + irouter + 8 * UInt64(irq), mpidr & 0xFF_00FF_FFFF)
        }
        setEnabled(irq, on)
    }

    /// Clears an SPI's physical active state (a new owner instance starts with it inactive).
    static func deactivate(_ irq: UInt32) {
        guard distributor != 0, irq >= 32, irq < maxIRQ else { return }
        write(distributor + icactiver + 4 * UInt64(irq / 32), 1 << (irq % 32))
    }

    /// Clears PPI 27's physical active state on this CPU (the vCPU leaving it had it).
    static func deactivateVirtualTimer() {
        let f = frame[AArch64.currentCPU() & 7]
        if f != 0 { write(f + sgiFrame + icactiver, 1 << virtualTimerPPI) }
    }

    /// SGI 0 to CPU `cpu` (ICC_SGI1R_EL1: Aff3.Aff2.Aff1 and a one-bit target list).
    static func kick(_ cpu: Int) {
        guard cpu >= 0, cpu < AArch64.cpuCount else { return }
        let m = AArch64.cpuIDs[cpu]
        let aff1 = (m >> 8) & 0xFF, aff2 = (m >> 16) & 0xFF, aff3 = (m >> 32) & 0xFF
        guard m & 0xFF < 16 else { return }
        a64_dsb()
        a64_write_icc_sgi1r(aff3 << 48 | aff2 << 32 | UInt64(kickSGI) << 24 | aff1 << 16 | 1 << (m & 0xF))
        a64_isb()
    }
}

extension AArch64 {
    public static var interruptController: InterruptControllerInfo {
        InterruptControllerInfo(kind: RUM_IRQCHIP_GICV3, regions: (VGICLayout.distWindow, VGICLayout.redistWindow), regionCount: 2)
    }

    public static func routeInterrupt(_ irq: UInt32, enabled: Bool, cpu: Int) { GIC.route(irq, enabled, cpu: cpu) }

    public static func unmaskInterrupt(_ irq: UInt32) { GIC.setEnabled(irq, true) }

    public static func claimInterrupts(_ deliver: (UInt32) -> Void) { GIC.claim(deliver) }

    public static func externalInterruptPending() -> Bool { GIC.pendingTaken() }

    public static func mmioRead32(_ address: HostPhysicalAddress) -> UInt32 { a64_mmio_read32(address.value) }
    public static func mmioWrite32(_ address: HostPhysicalAddress, _ value: UInt32) { a64_mmio_write32(address.value, value) }

    public static func vicReset(_ vm: UnsafeMutablePointer<A64VM>) {
        vm.pointee.gic = VirtualGIC()
    }

    public static func vicAssign(_ vm: UnsafeMutablePointer<A64VM>, source: UInt32) {
        vm.pointee.gic.owned |= VirtualGIC.bit(source)
        if VirtualGIC.bit(source) != 0 { GIC.deactivate(source) }   // left active by a previous owner instance
    }

    public static func vicRaise(_ vm: UnsafeMutablePointer<A64VM>, source: UInt32) {
        vm.pointee.gic.pending |= VirtualGIC.bit(source) & vm.pointee.gic.owned
    }

    public static func vicAccess(_ vm: UnsafeMutablePointer<A64VM>, vcpu: Int, _ access: MMIOAccess) -> VICResult? {
        guard access.width == 4 || access.width == 8 else { return nil }
        let a = access.address
        if VGICLayout.distWindow.contains(a) {
            return VICResult(value: vm.pointee.gic.distributor(a.value - VGICLayout.vdist, write: access.write, access.value))
        }
        if VGICLayout.redistWindow.contains(a) {
            let off = a.value - VGICLayout.vredist
            let target = Int(off / VGICLayout.vredistFrame)
            return VICResult(value: vm.pointee.gic.redistributor(target, off % VGICLayout.vredistFrame,
                                                                 write: access.write, access.value))
        }
        return nil
    }
}
