// Uart (x86_64): polled 16550 driver for COM1, the hypervisor console.
//
// COM1 sits at I/O port 0x3F8 on every PC (Bochs, QEMU, real boards).
// Register offsets per the 16550 data sheet: RBR/THR 0, IER 1, FCR 2, LCR 3,
// MCR 4, LSR 5; with LCR.DLAB set, 0 and 1 hold the baud divisor. Polling
// only: the console never takes an interrupt (MCR.OUT2 stays clear).

import ArchShims

enum Uart {
    static let base: UInt16 = 0x3F8

    static let lsrDataReady: UInt8 = 0x01
    static let lsrTHREmpty: UInt8 = 0x20
    static let lsrIdle: UInt8 = 0x60

    /// 115200 baud (divisor 1), 8N1, FIFOs on and cleared, DTR and RTS set.
    static func initialize() {
        x86_outb(base + 1, 0x00)
        x86_outb(base + 3, 0x80)
        x86_outb(base + 0, 0x01)
        x86_outb(base + 1, 0x00)
        x86_outb(base + 3, 0x03)
        x86_outb(base + 2, 0x07)
        x86_outb(base + 4, 0x03)
    }

    static func lsr() -> UInt8 { x86_inb(base + 5) }

    static func write(_ b: UInt8) {
        while lsr() & lsrTHREmpty == 0 { x86_pause() }
        x86_outb(base, b)
    }

    static func read() -> UInt8? {
        lsr() & lsrDataReady != 0 ? x86_inb(base) : nil
    }

    /// Waits until the transmitter has sent everything (before power-off).
    static func drain() {
        var spins = 0
        while lsr() & lsrIdle != lsrIdle && spins < 1_000_000 { spins += 1 }
    }
}
