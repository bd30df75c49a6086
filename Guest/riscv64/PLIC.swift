// PLIC (riscv64): Rumpk's driver for the virtual PLIC Rumkv gives it.
//
// SiFive PLIC layout, context n = vCPU n (Rumpk takes interrupts on vCPU 0):
// source priorities at +4*irq, context 0's enable words at +0x2000, its
// threshold at +0x200000 and claim/complete at +0x200004. The base comes from
// the device table (RUM_IRQCHIP_PLIC, region 0); nothing else in Rumpk knows
// these registers.

import ArchShims
import RumABI

enum GuestPLIC {
    nonisolated(unsafe) static var base: UInt64 = 0

    static func priority(_ irq: UInt32) -> UInt64 { base + 4 * UInt64(irq) }
    static func enable(_ irq: UInt32) -> UInt64 { base + 0x2000 + UInt64(irq / 32) * 4 }
    static var threshold: UInt64 { base + 0x20_0000 }
    static var claim: UInt64 { base + 0x20_0004 }
}

extension GuestRISCV64 {
    public static func interruptControllerStart(_ chip: IRQChip) -> Bool {
        guard chip.kind == RUM_IRQCHIP_PLIC, chip.region_count >= 1, chip.regions.0.base != 0 else { return false }
        GuestPLIC.base = chip.regions.0.base
        write32(GuestPLIC.threshold, 0)
        return true
    }

    public static func interruptSource(_ irq: UInt32, enabled: Bool) {
        guard GuestPLIC.base != 0, irq > 0, irq < 1024 else { return }
        let word = GuestPLIC.enable(irq), bit = UInt32(1) << (irq % 32)
        if enabled { write32(GuestPLIC.priority(irq), 1) }
        write32(word, enabled ? read32(word) | bit : read32(word) & ~bit)
    }

    public static func interruptClaim() -> UInt32 { GuestPLIC.base == 0 ? 0 : read32(GuestPLIC.claim) }

    public static func interruptComplete(_ irq: UInt32) { write32(GuestPLIC.claim, irq) }
}
