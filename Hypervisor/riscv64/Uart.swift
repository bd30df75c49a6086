// Uart (riscv64): polled NS16550A driver for the hypervisor console.
//
// Register offsets per the 16550 data sheet (RBR/THR 0, LSR 5) with the
// device tree's reg-shift; QEMU virt uses reg-shift 0. Polling only: the
// console never takes an interrupt.

import ArchShims

enum Uart {
    nonisolated(unsafe) static var base: UInt64 = 0
    nonisolated(unsafe) static var shift: UInt64 = 0

    static let lsrDataReady: UInt8 = 0x01
    static let lsrTHREmpty: UInt8 = 0x20
    static let lsrIdle: UInt8 = 0x60

    static func lsr() -> UInt8 { rv_mmio_read8(base + (5 << shift)) }

    static func write(_ b: UInt8) {
        while lsr() & lsrTHREmpty == 0 {}
        rv_mmio_write8(base, b)
    }

    static func read() -> UInt8? {
        lsr() & lsrDataReady != 0 ? rv_mmio_read8(base) : nil
    }

    /// Waits until the transmitter has sent everything (before power-off).
    static func drain() {
        guard base != 0 else { return }
        var spins = 0
        while lsr() & lsrIdle != lsrIdle && spins < 1_000_000 { spins += 1 }
    }
}
