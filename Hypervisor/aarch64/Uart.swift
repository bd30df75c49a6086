// Uart (aarch64): polled PL011 driver for the hypervisor console.
//
// Register offsets per the PrimeCell UART (PL011) Technical Reference Manual
// (Arm DDI 0183): DR at 0x000, FR at 0x018 with BUSY (bit 3), RXFE (bit 4),
// TXFF (bit 5) and TXFE (bit 7). The base comes from the device tree node
// compatible with "arm,pl011"; line settings are left as the firmware set them
// (QEMU needs none). Polling only: the console never takes an interrupt.

import ArchShims

enum Uart {
    /// QEMU virt's PL011, used only for what is printed before the device tree
    /// names the real UART (a refusal because there is no valid tree at all),
    /// like Linux's `earlycon=pl011,0x9000000`. Boot replaces it from the tree.
    static let earlyBase: UInt64 = 0x0900_0000
    nonisolated(unsafe) static var base: UInt64 = earlyBase

    static let dr: UInt64 = 0x000
    static let fr: UInt64 = 0x018
    static let frBusy: UInt32 = 1 << 3
    static let frRXFE: UInt32 = 1 << 4
    static let frTXFF: UInt32 = 1 << 5
    static let frTXFE: UInt32 = 1 << 7

    static func flags() -> UInt32 { a64_mmio_read32(base &+ fr) }

    /// Not inlined: every byte the console prints comes through here, and
    /// inlined into each `Out.str` loop (twice: CR and the byte) it was 28 KiB
    /// of the image.
    @inline(never)
    static func write(_ b: UInt8) {
        while flags() & frTXFF != 0 {}
        a64_mmio_write32(base &+ dr, UInt32(b))
    }

    static func read() -> UInt8? {
        flags() & frRXFE == 0 ? UInt8(truncatingIfNeeded: a64_mmio_read32(base &+ dr)) : nil
    }

    /// Waits until the transmitter has sent everything (before power-off).
    static func drain() {
        var spins = 0
        while flags() & (frBusy | frTXFE) != frTXFE && spins < 1_000_000 { spins += 1 }
    }
}
