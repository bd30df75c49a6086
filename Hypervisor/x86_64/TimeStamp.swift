// TimeStamp (x86_64): the TSC as the hypervisor's counter, and its rate.
//
// The TSC rate is measured once at boot against channel 2 of the 8254 PIT,
// whose input clock is 1.193182 MHz on every PC: mode 0 counts down from the
// value written and raises OUT2 (port 0x61 bit 5) at zero, with the gate
// (port 0x61 bit 0) held high and the speaker (bit 1) off. Emulators tick
// both from the same virtual clock, so the rate matches what a guest sees.

import ArchShims

enum TimeStamp {
    /// Used if the PIT never answers (no legacy PIT on the machine).
    static let fallbackHz: UInt64 = 1_000_000_000

    nonisolated(unsafe) static var hz: UInt64 = fallbackHz

    /// Counts TSC ticks over 10 ms of PIT time (11932 input clocks).
    static func calibrate() {
        let portB = x86_inb(0x61)
        x86_outb(0x61, (portB & ~0x02) | 0x01)
        x86_outb(0x43, 0xB0)                    // channel 2, lobyte/hibyte, mode 0, binary
        x86_outb(0x42, 0x9C)                    // 11932 = 0x2E9C
        x86_outb(0x42, 0x2E)
        let start = x86_rdtsc()
        var spins = 0
        while x86_inb(0x61) & 0x20 == 0 && spins < 10_000_000 { spins += 1 }
        let end = x86_rdtsc()
        x86_outb(0x61, portB)
        if spins < 10_000_000 && end > start { hz = (end - start) * 100 }
    }
}
