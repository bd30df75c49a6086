// Interrupts (riscv64): the physical PLIC and each guest's virtual PLIC.
//
// Physical: each passed-through device interrupt is routed to one hart's
// S-mode context (contexts found from the PLIC's interrupts-extended in the
// DTB): the hart the core asks for, the first one the owner runs on, so a
// pinned owner takes its interrupts with no IPI. A hart's context is used only
// once that hart runs Rumkv: OpenSBI clears a hart's S-context enables when
// HSM starts it, after the autostart guests routed theirs. Until then the
// source goes to the boot hart and moves when the hart comes up. A claimed
// source stays masked until its owner completes it in its virtual PLIC. The
// core decides who gets a claimed source (Machine.deliver).
// Virtual: each guest's VM state holds a PLIC seen at 0x0C000000
// (trap-and-emulate) with context n = vCPU n, priorities, pending, enables,
// threshold and claim/complete (SiFive PLIC layout), restricted to the
// sources its devices own. hvip.VSEIP of a vCPU is set while its context has
// a claimable source. Design note: docs/design/005-interrupt-routing.md.

import ArchShims
import RumkvCore
import RumABI

struct VirtualPLIC {
    var priority: InlineArray<64, UInt8> = .init(repeating: 0)
    var pending: UInt64 = 0
    var inService: UInt64 = 0
    var enable: InlineArray<8, UInt64> = .init(repeating: 0)
    var threshold: InlineArray<8, UInt8> = .init(repeating: 0)
    /// Sources this guest's devices own.
    var owned: UInt64 = 0

    /// Highest-priority source context `c` may claim now (0 if none).
    func best(_ c: Int) -> UInt64 {
        guard c >= 0, c < 8 else { return 0 }           // contexts exist for vCPUs 0..7 only
        let candidates = pending & enable[c] & owned
        var id: UInt64 = 0
        var top: UInt8 = threshold[c]
        var bits = candidates
        while bits != 0 {
            let i = UInt64(bits.trailingZeroBitCount)
            bits &= bits - 1
            if priority[Int(i)] > top { top = priority[Int(i)]; id = i }
        }
        return id
    }
}

enum PLIC {
    nonisolated(unsafe) static var base: UInt64 = 0
    /// S-mode context of hart index i.
    nonisolated(unsafe) static var sContext: InlineArray<8, UInt64> = .init(repeating: 0)
    /// The boot hart's index: it takes the sources whose hart is not up yet.
    nonisolated(unsafe) static var bootHart = 0
    /// Harts whose S context Rumkv set up (OpenSBI will not clear it again).
    nonisolated(unsafe) static var ready: UInt64 = 0
    /// The hart each routed source should interrupt, -1 when not routed.
    nonisolated(unsafe) static var affinity: InlineArray<64, Int8> = .init(repeating: -1)

    static let vbase: UInt64 = 0x0C00_0000
    static let vsize: UInt64 = 0x0060_0000

    /// Finds the PLIC and its S-mode contexts in the device tree; runs on the boot hart.
    static func discover(_ dt: DeviceTree, bootHart h: Int) {
        bootHart = h & 7
        ready = 1 << UInt64(bootHart)
        _ = try? dt.walk { node in
            guard dt.property(node, "compatible")?.containsString("riscv,plic0") ?? false,
                  let reg = dt.property(node, "reg"), let b = reg.number(at: 0, cells: node.addressCells),
                  let ie = dt.property(node, "interrupts-extended") else { return true }
            base = b
            var hart = 0
            var ctx = 0
            while (ctx * 2 + 1) * 4 < ie.length, hart < 8 {
                if ie.cell(ctx * 2 + 1) == 9 { sContext[hart] = UInt64(ctx); hart += 1 }
                ctx += 1
            }
            return false
        }
    }

    static func enableWord(_ ctx: UInt64, _ irq: UInt32) -> UInt64 { base + 0x2000 + 0x80 * ctx + UInt64(irq / 32) * 4 }
    static func claimRegister(_ ctx: UInt64) -> UInt64 { base + 0x20_0004 + 0x1000 * ctx }

    /// The hart whose context source `irq` uses now.
    static func hart(_ irq: UInt32) -> Int {
        let h = Int(affinity[Int(irq)])
        return h >= 0 && ready & (1 << UInt64(h)) != 0 ? h : bootHart
    }

    static func isEnabled(_ irq: UInt32, hart h: Int) -> Bool {
        rv_mmio_read32(enableWord(sContext[h], irq)) & (UInt32(1) << (irq % 32)) != 0
    }

    static func setEnabled(_ irq: UInt32, _ on: Bool, hart h: Int) {
        let w = enableWord(sContext[h], irq)
        let bit = UInt32(1) << (irq % 32)
        let old = rv_mmio_read32(w)
        rv_mmio_write32(w, on ? old | bit : old & ~bit)
    }

    /// Unmasks or masks a routed source (lock held).
    static func setEnabled(_ irq: UInt32, _ on: Bool) {
        guard base != 0, irq > 0, irq < 64 else { return }
        setEnabled(irq, on, hart: hart(irq))
    }

    static func route(_ irq: UInt32, _ on: Bool, hart h: Int) {
        guard base != 0, irq > 0, irq < 64 else { return }
        if on {
            affinity[Int(irq)] = Int8(h >= 0 && h < 8 ? h : bootHart)
            rv_mmio_write32(base + 4 * UInt64(irq), 1)                               // priority
            rv_mmio_write32(base + 0x20_0000 + 0x1000 * sContext[hart(irq)], 0)      // threshold
            setEnabled(irq, true)
        } else {
            setEnabled(irq, false)
            rv_mmio_write32(base + 4 * UInt64(irq), 0)
            affinity[Int(irq)] = -1
        }
    }

    /// Hart `h` runs Rumkv now (after OpenSBI's start of it): the sources meant
    /// for it move from the boot hart to its context, masked or not as they were.
    static func hartReady(_ h: Int) {
        guard base != 0, h >= 0, h < 8, ready & (1 << UInt64(h)) == 0 else { return }
        rv_mmio_write32(base + 0x20_0000 + 0x1000 * sContext[h], 0)
        ready |= 1 << UInt64(h)
        for irq in UInt32(1)..<64 where Int(affinity[Int(irq)]) == h && h != bootHart {
            let on = isEnabled(irq, hart: bootHart)
            setEnabled(irq, false, hart: bootHart)
            setEnabled(irq, on, hart: h)
        }
    }

    /// Claims every pending source on this hart's context, masks it until its
    /// owner completes it, and hands it to the core. Lock held.
    static func claim(_ deliver: (UInt32) -> Void) {
        guard base != 0 else { return }
        let ctx = sContext[RISCV64.currentCPU() & 7]
        while true {
            let id = rv_mmio_read32(claimRegister(ctx))
            if id == 0 { return }
            setEnabled(id, false)
            rv_mmio_write32(claimRegister(ctx), id)
            if id < 64 { deliver(id) }
        }
    }

    /// The guest-physical window of every guest's virtual PLIC.
    static let window = GuestRegion(base: GuestPhysicalAddress(vbase), size: vsize)
}

extension RISCV64 {
    public static var interruptController: InterruptControllerInfo {
        InterruptControllerInfo(kind: RUM_IRQCHIP_PLIC, regions: (PLIC.window, .empty), regionCount: 1)
    }

    public static func routeInterrupt(_ irq: UInt32, enabled: Bool, cpu: Int) { PLIC.route(irq, enabled, hart: cpu) }

    public static func unmaskInterrupt(_ irq: UInt32) { PLIC.setEnabled(irq, true) }

    public static func claimInterrupts(_ deliver: (UInt32) -> Void) { PLIC.claim(deliver) }

    /// sip.SEIP: the PLIC asserts an external interrupt for this hart.
    public static func externalInterruptPending() -> Bool { rv_read_sip() & InterruptBits.sei.rawValue != 0 }

    public static func mmioRead32(_ address: HostPhysicalAddress) -> UInt32 { rv_mmio_read32(address.value) }
    public static func mmioWrite32(_ address: HostPhysicalAddress, _ value: UInt32) { rv_mmio_write32(address.value, value) }

    public static func vicReset(_ vm: UnsafeMutablePointer<RVVM>) { vm.pointee.plic = VirtualPLIC() }

    public static func vicAssign(_ vm: UnsafeMutablePointer<RVVM>, source: UInt32) {
        if source > 0 && source < 64 { vm.pointee.plic.owned |= 1 << UInt64(source) }
    }

    public static func vicRaise(_ vm: UnsafeMutablePointer<RVVM>, source: UInt32) {
        if source > 0 && source < 64 { vm.pointee.plic.pending |= 1 << UInt64(source) }
    }

    public static func vicAccess(_ vm: UnsafeMutablePointer<RVVM>, vcpu: Int, _ access: MMIOAccess) -> VICResult? {
        guard access.width == 4, PLIC.window.contains(access.address) else { return nil }
        return vm.pointee.plic.access(offset: access.address.value - PLIC.vbase, context: vcpu,
                                      write: access.write, data: access.value & 0xFFFF_FFFF)
    }
}

extension VirtualPLIC {
    /// One 32-bit register access at `offset` in the SiFive PLIC layout, by context `c`.
    /// Unimplemented registers read 0 and ignore writes, as on the real PLIC.
    mutating func access(offset off: UInt64, context c: Int, write: Bool, data: UInt64) -> VICResult {
        var result = VICResult()
        switch off {
        case 4..<0x100:                                     // source priorities 1..63
            let i = Int(off / 4)
            if write { if owned & (1 << UInt64(i)) != 0 { priority[i] = UInt8(min(data, 7)) } }
            else { result.value = UInt64(priority[i]) }
        case 0x1000, 0x1004:                                // pending (read-only)
            if !write { result.value = off == 0x1000 ? pending & 0xFFFF_FFFF : pending >> 32 }
        case 0x2000..<0x2400:                               // enables, context = (off - 0x2000) / 0x80
            let ctx = Int((off - 0x2000) / 0x80), word = (off - 0x2000) % 0x80
            guard ctx < 8, word < 8 else { break }
            let shift = UInt64(word * 8)
            if write {
                let mask = UInt64(0xFFFF_FFFF) << shift
                enable[ctx] = (enable[ctx] & ~mask) | ((data << shift) & owned)
            } else { result.value = (enable[ctx] >> shift) & 0xFFFF_FFFF }
        case 0x20_0000..<0x20_8000:                         // threshold / claim-complete per context
            let ctx = Int((off - 0x20_0000) / 0x1000), reg = (off - 0x20_0000) % 0x1000
            guard ctx < 8, ctx == c else { break }         // a vCPU uses only its own context
            if reg == 0 {
                if write { threshold[ctx] = UInt8(min(data, 7)) } else { result.value = UInt64(threshold[ctx]) }
            } else if reg == 4 {
                if write {
                    let bit = data > 0 && data < 64 ? UInt64(1) << data : 0
                    if inService & bit != 0 {
                        inService &= ~bit
                        result.event = .completed(UInt32(data))   // the device may interrupt again
                    }
                } else {
                    let id = best(ctx)
                    if id != 0 {
                        pending &= ~(1 << id); inService |= 1 << id
                        result.event = .claimed(UInt32(id))
                    }
                    result.value = id
                }
            }
        default:
            break
        }
        return result
    }
}
