// X86_64GuestTests: the riscv64 guest scenarios on Bochs x86_64 (VMX, EPT).
//
// The same partition configs as RISCV64GuestTests (retargeted by
// TestConfigs.url(_:arch:)) and the same scenario code (GuestScenarios);
// Bochs is slow, so each scenario shares one boot across its checks. What
// differs on x86_64: an unknown VMCALL answers RUM_HC_ERR_UNSUPPORTED (-2), the guest's
// IDT reports the illegal instruction as #UD (vector 6), and the unassigned
// MMIO it touches is the I/O APIC.

import Foundation
import XCTest
import RumkvBuild

final class X86_64GuestTests: XCTestCase {
    /// Heartbeats, info/stats, every lifecycle command and its errors, and 20
    /// restarts that leave the free memory where it was; both CPUs ran guests
    /// (the AP was started by INIT-SIPI-SIPI) and the boot reports no CPU that
    /// did not start; idle guests arm RUM_HC_SET_TIMER and wait in hlt (timer
    /// and wfi exits), and alpha took the timer as injected vector 0x20.
    func testGuestsRunHeartbeatsLifecycleAndRestarts() throws {
        try GuestScenarios.runAndManage(.x86_64, restarts: 20, exits: ["console", "timer", "wfi"], busyCPUs: [0, 1],
                                        alphaLines: ["rumpk[alpha]: x86: first timer interrupt taken (vector 0x20)"])
    }

    /// Every attack of the riscv64 hostile scenario in VMX non-root: contained.
    func testHostileGuestIsContained() throws {
        try GuestScenarios.hostile(.x86_64, .init(unknownCall: "-2",
                                                  fatalTrap: "rumpk: fatal trap, vector 0x0000000000000006",
                                                  mmio: "0x00000000fec00000"))
    }

    func testNeverRestartPolicyKeepsTheGuestDown() throws { try GuestScenarios.neverRestart(.x86_64) }

    func testTamperedAndUnsignedImagesAreRefused() throws { try GuestScenarios.tamperedImages(.x86_64) }

    func testConsoleRespondsWhileEveryGuestSpins() throws { try GuestScenarios.consoleWhileSpinning(.x86_64) }

    /// RUM_HC_CONSOLE_READ over VMCALL.
    func testTypedInputReachesTheAttachedGuest() throws { try GuestScenarios.typedInput(.x86_64) }

    /// The portable attack suite in VMX non-root (the x86 port adds no cases
    /// yet): EPT faults for RAM's end, the SysTable, the device table and the
    /// channel window (read, write and fetch), exact errors for bad VMCALLs.
    func testAttackSuiteIsContained() throws {
        try GuestScenarios.attackSuite(.x86_64, minimumCases: 16, fatal: 9, expected: [
            "ram-end-execute: contained (stage-2 fault, execute at 0x0000000080400000)",
            "systable-store: contained (stage-2 fault, write at 0x000000007ffff000)",
            "channel-window: contained (stage-2 fault, read at 0x000000007f000000)",
            "hc-console-wrap: contained (answered -5)",
            "hc-doorbell-unowned: contained (answered -3)",
            "hc-unknown-function: contained (answered -2)",
        ])
    }
}
