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

    /// The portable attack suite in VMX non-root plus the x86 port's 23
    /// cases: EPT faults for RAM's end, the SysTable, the device table and the
    /// channel window (read, write and fetch), exact errors for bad VMCALLs;
    /// VMX instructions and CR0/CR4 writes stop the guest with the exit
    /// recorded, page tables outside RAM end in an EPT violation at the walk,
    /// ports it does not own (Bochs's power-off port among them) stop it with
    /// the port recorded, MSRs outside the allow-list get #GP (the guest's own
    /// crash report), and the x86 vCPU/IPI calls refuse hostile arguments.
    func testAttackSuiteIsContained() throws {
        try GuestScenarios.attackSuite(.x86_64, minimumCases: 39, fatal: 28, expected: [
            "ram-end-execute: contained (stage-2 fault, execute at 0x0000000080400000)",
            "systable-store: contained (stage-2 fault, write at 0x000000007ffff000)",
            "channel-window: contained (stage-2 fault, read at 0x000000007f000000)",
            "hc-console-wrap: contained (answered -5)",
            "hc-doorbell-unowned: contained (answered -3)",
            "hc-unknown-function: contained (answered -2)",
            "vmxon: contained (virtual instruction at 0x000000000000001b)",
            "invept: contained (virtual instruction at 0x0000000000000032)",
            "cr3-outside-ram: contained (stage-2 fault",
            "bochs-shutdown-port: contained (fault 4 at 0x0000000000008900)",
            "com1-16-bit: contained (fault 4 at 0x00000000000003f8)",
            "rdmsr-vmx-basic: contained (its own crash report",
            "wrmsr-efer-lme-off: contained (its own crash report",
            "hc-vcpu-start-outside-ram: contained (answered -5)",
            "hc-send-ipi-beyond: contained (answered -3)",
        ])
    }

    /// A two-vCPU guest: its payload starts vCPU 1 with RUM_HC_VCPU_START,
    /// wakes it from hlt with RUM_HC_SEND_IPI (vector 0x22 through vCPU 1's own
    /// IDT), sees it stop itself, and gets the errors for a vCPU that is on,
    /// one that does not exist, an entry outside RAM and an IPI mask beyond the
    /// guest; a one-vCPU guest runs beside it.
    func testMultiVCPUGuestThroughVCPUStartAndIPI() throws {
        let (s, _) = try ConsoleSession.bootGuests("smp", arch: .x86_64)
        defer { s.terminate() }
        XCTAssertEqual(try s.row("duo").vcpus, 2)
        var log = ""
        let deadline = Date().addingTimeInterval(30)
        while !log.contains("smp: done") && Date() < deadline {
            sleep(1)
            log = try s.backlog("duo")
        }
        for line in ["smp: vcpu 1 status before start 1", "smp: vcpu_start(1) 0", "smp: vcpu 1 running",
                     "smp: vcpu 1 reported vcpu id 1", "smp: vcpu_start(1) again -6", "smp: send_ipi(vcpu 1) 0",
                     "smp: vcpu 1 got the IPI, stopping", "smp: vcpu 1 status after vcpu_stop 1",
                     "smp: vcpu_start(7) -3", "smp: vcpu_start(1, bad entry) -5", "smp: send_ipi(vcpu 5) -3",
                     "smp: done"] {
            XCTAssertTrue(log.contains(line), "missing '\(line)' in:\n\(log)")
        }
        XCTAssertGreaterThan(ConsoleParser.exits(try s.command("info duo"))["ipi/cpu"] ?? 0, 4)
        XCTAssertEqual(try s.row("duo").state, "running")
        XCTAssertGreaterThan(try s.lastHeartbeat("solo"), 0)
    }

    /// `rumkv run --console-socket` on x86_64: the Bochs serial bridge serves
    /// a Unix socket; `rumkv ctl` (the client, and the CLI with --json) drives
    /// the console through it, and `shutdown` ends the Bochs run cleanly.
    func testControlSocketThroughTheBochsBridge() throws {
        try requireEmulator(.x86_64)
        let images = try TestImages.images(.x86_64)
        var o = EmulatorOptions()
        let sock = NSTemporaryDirectory() + "rumkv-x86-test-\(getpid()).sock"
        o.consoleSocket = sock
        o.bundle = try Builder(root: TestImages.root).bundle(config: try TestConfigs.url("verbose-three", arch: .x86_64),
                                                             images: images, arch: .x86_64)
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int32 = -1
        Thread.detachNewThread {
            status = (try? Emulator.runInteractive(.x86_64, images, o)) ?? -2
            finished.signal()
        }
        defer { try? FileManager.default.removeItem(atPath: sock) }
        // The bridge serves one client at a time (a new one replaces the old): one after the other.
        do {
            var client: ControlClient? = nil
            for _ in 0..<60 where client == nil {
                client = try? ControlClient(socketPath: sock, timeout: 10)
                if client == nil { sleep(1) }
            }
            let c = try XCTUnwrap(client, "the console socket never appeared")
            var rows: [ConsoleParser.GuestRow] = []
            for _ in 0..<30 where rows.count < 3 {
                rows = ConsoleParser.guests((try? c.run("list", timeout: 20)) ?? "")
                if rows.count < 3 { sleep(1) }
            }
            XCTAssertEqual(rows.map(\.name), ["alpha", "beta", "gamma"])
            XCTAssertEqual(ConsoleParser.error(try c.run("start nosuch")), "no guest 'nosuch' (see 'list')")
        }
        let cli = TestImages.root.appendingPathComponent(".build/debug/rumkv")
        if FileManager.default.isExecutableFile(atPath: cli.path) {
            let p = Process(), out = Pipe()
            p.executableURL = cli
            p.arguments = ["ctl", "--socket", sock, "list", "--json"]
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            let text = String(decoding: data, as: UTF8.self)
            XCTAssertTrue(text.contains("\"name\" : \"beta\""), text)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: data), "valid JSON:\n\(text)")
        }
        let c = try ControlClient(socketPath: sock, timeout: 10)
        XCTAssertEqual(try c.run("stop alpha"), "alpha: stopped")
        XCTAssertEqual(ConsoleParser.guests(try c.run("list")).first?.state, "stopped")
        XCTAssertEqual(try c.run("shutdown"), "rumkv: powering off")
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "Bochs ended after shutdown")
        XCTAssertEqual(status, 0, "a clean power-off")
    }
}

extension RISCV64GuestTests {
    /// The pinned partition on x86_64 (its helper lives with the riscv64 one):
    /// rt owns CPU 1 (an AP started by INIT-SIPI-SIPI) and every exit CPU 1
    /// counts is rt's; alpha and beta share CPU 0.
    func testX86_64PinnedPartition() throws { try pinnedPartition(.x86_64) }
}
