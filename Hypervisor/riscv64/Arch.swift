// Arch (riscv64): the RISC-V port's `Architecture` conformance.
//
// Console on the NS16550 UART found in the device tree (SBI legacy putchar
// before that), time from the `time` CSR, power-off through SBI SRST.

import ArchShims
import RumkvCore

public enum RISCV64: Architecture {
    public static var name: StaticString { "riscv64" }

    public static func consoleWrite(_ byte: UInt8) {
        if Uart.base != 0 { Uart.write(byte) } else { _ = rv_sbi_call(0x01, 0, UInt64(byte), 0, 0) }
    }

    public static func consoleRead() -> UInt8? { Uart.base != 0 ? Uart.read() : nil }

    public static func relax() { rv_pause() }

    public static func counter() -> UInt64 { rv_read_time() }

    public static var counterFrequency: UInt64 { timebaseHz }

    /// SBI System Reset extension (SBI v2.0 ch. 10): shutdown, no reason.
    public static func powerOff() -> Never {
        Uart.drain()
        _ = rv_sbi_call(0x5352_5354, 0, 0, 0, 0)
        halt()
    }

    public static func halt() -> Never {
        rv_clear_sie_bit()
        while true { rv_wfi() }
    }

    public static func provokeTrap() { rv_ebreak() }

    /// Timebase from /cpus/timebase-frequency (10 MHz on QEMU virt).
    nonisolated(unsafe) static var timebaseHz: UInt64 = 10_000_000
}
