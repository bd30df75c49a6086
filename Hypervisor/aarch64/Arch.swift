// Arch (aarch64): the Arm port's `Architecture` conformance.
//
// Console on the PL011 found in the device tree, time from the generic timer's
// physical counter (CNTPCT_EL0 at CNTFRQ_EL0 Hz), power-off through PSCI
// SYSTEM_OFF over the conduit the device tree's /psci node names.

import ArchShims
import RumkvCore

public enum AArch64: Architecture {
    public static var name: StaticString { "aarch64" }

    public static func consoleWrite(_ byte: UInt8) { Uart.write(byte) }

    public static func consoleRead() -> UInt8? { Uart.read() }

    public static func relax() { a64_yield() }

    public static func counter() -> UInt64 { a64_read_cntpct() }

    /// Set by firmware (62.5 MHz on QEMU 7.2 virt); readable at every EL.
    public static var counterFrequency: UInt64 { a64_read_cntfrq() }

    public static func powerOff() -> Never {
        Uart.drain()
        _ = PSCI.call(PSCI.systemOff)
        halt()
    }

    public static func halt() -> Never {
        a64_mask_interrupts()
        while true { a64_wfi() }
    }

    /// BRK #0x52: "BRK instruction (ESR 0x00000000f2000052)" in the dump.
    public static func provokeTrap() { a64_brk_test() }
}

/// Power State Coordination Interface (Arm DEN 0022), the only firmware call
/// the hypervisor makes. QEMU emulates it: via SMC when EL2 is present
/// (virtualization=on), via HVC when the CPU starts at EL1.
enum PSCI {
    enum Conduit { case smc, hvc }

    /// SYSTEM_OFF, PSCI 0.2+ function id (SMC32 fast call).
    static let systemOff: UInt64 = 0x8400_0008
    /// CPU_ON, SMC64: (target MPIDR, entry point, context id in x0 at entry).
    static let cpuOn: UInt64 = 0xC400_0003

    /// Chosen by Boot: from /psci "method", else by the EL we run at.
    nonisolated(unsafe) static var conduit: Conduit = .smc

    static func call(_ function: UInt64, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0) -> UInt64 {
        switch conduit {
        case .smc: a64_smc(function, a1, a2, a3)
        case .hvc: a64_hvc(function, a1, a2, a3)
        }
    }
}
