// Arch (x86_64): the x86-64 port's `Architecture` conformance.
//
// Console on COM1, time from the TSC (calibrated against the PIT at boot),
// power-off through the emulators' ports: Bochs's "Shutdown" string on port
// 0x8900, then the ACPI PM1a control register QEMU's PIIX4/ICH9 firmware
// places at 0x604 (SLP_EN with SLP_TYP 0, S5 in QEMU's DSDT). A machine that
// ignores both is halted instead.

import ArchShims
import RumkvCore

public enum X86_64: Architecture {
    public static var name: StaticString { "x86_64" }

    public static func consoleWrite(_ byte: UInt8) { Uart.write(byte) }

    public static func consoleRead() -> UInt8? { Uart.read() }

    public static func relax() { x86_pause() }

    public static func counter() -> UInt64 { x86_rdtsc() }

    public static var counterFrequency: UInt64 { TimeStamp.hz }

    public static func powerOff() -> Never {
        Uart.drain()
        Virtualization.leave()
        let shutdown: StaticString = "Shutdown"
        shutdown.withUTF8Buffer { for b in $0 { x86_outb(0x8900, b) } }
        x86_outw(0x604, 0x2000)
        halt()
    }

    public static func halt() -> Never {
        while true {
            x86_cli()
            x86_hlt()
        }
    }

    /// `int3`: "#BP breakpoint (vector 3, ...)", distinct from the `ud2` that
    /// Swift's own runtime traps compile to.
    public static func provokeTrap() { x86_int3() }
}
