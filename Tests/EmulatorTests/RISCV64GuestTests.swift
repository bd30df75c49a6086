// RISCV64GuestTests: several isolated Rumpk guests under Rumkv on QEMU riscv64.
//
// Each test boots the real hypervisor and guest images with a partition
// config and checks what the console prints and what the guests do. The
// scenarios that read the same on every architecture are functions of the
// architecture (GuestScenarios), run for riscv64 and (testAArch64...) for
// aarch64; the other aarch64 scenarios are in AArch64GuestTests, the x86_64
// ones in X86_64GuestTests.

import Foundation
import XCTest
import RumkvBuild

final class RISCV64GuestTests: XCTestCase {
    /// Three guests on two harts: all run, heartbeats advance; info, stats, every
    /// lifecycle command and its errors; restarts leave the free memory unchanged.
    func testGuestsRunHeartbeatsLifecycleAndRestarts() throws {
        try GuestScenarios.runAndManage(.riscv64, restarts: 10, exits: ["console", "wfi", "hypercall"])
    }

    /// The hostile guest tries every attack; each is contained and reported
    /// (SBI_ERR_NOT_SUPPORTED for unknown calls, the guest's own scause 2 for
    /// the illegal instruction), and the other guests keep running throughout.
    func testHostileGuestIsContained() throws {
        try GuestScenarios.hostile(.riscv64, .init(unknownCall: "-2",
                                                   fatalTrap: "rumpk: fatal trap, scause 0x0000000000000002",
                                                   mmio: "0x0000000010000000"))
    }

    /// The attack suite (Guest/Kernel/Attacks.swift plus the riscv64 port's
    /// cases): at least 30 distinct attempts, each contained where it was made
    /// (a fatal one by the fault the next instance reads from its SysTable, a
    /// call by its exact error), while the other guests keep running.
    func testAttackSuiteIsContained() throws {
        try GuestScenarios.attackSuite(.riscv64, minimumCases: 30, fatal: 20, expected: [
            "power-off-device: contained (stage-2 fault, write at 0x0000000000100000)",
            "hlv-d: contained (virtual instruction at 0x000000006c05c573)",
            "ipi-beyond-guest: contained (answered -3)",
        ])
    }

    /// The same suite on aarch64 (the port's cases: QEMU virt's map, EL2/EL3
    /// registers, an ISV = 0 store pair, PSCI and SMCCC calls).
    func testAArch64AttackSuiteIsContained() throws {
        try GuestScenarios.attackSuite(.aarch64, minimumCases: 30, fatal: 30, expected: [
            "hypervisor-image: contained (stage-2 fault, read at 0x0000000040200000)",
            "gicd-store-pair: contained (stage-2 fault, write at 0x0000000008000000)",
            "mrs-scr-el3: contained (its own crash report",
            "psci-unknown-function: contained (answered -1)",
            "psci-version: contained (answered 65537)",
            "psci-migrate-info-type: contained (answered 2)",
        ])
    }

    /// restart = "never": a crashed guest stays crashed with its fault recorded.
    func testNeverRestartPolicyKeepsTheGuestDown() throws { try GuestScenarios.neverRestart(.riscv64) }
    /// The same on aarch64.
    func testAArch64NeverRestartPolicyKeepsTheGuestDown() throws { try GuestScenarios.neverRestart(.aarch64) }

    /// 100 restart cycles leave the free-memory count where it started.
    func testHundredRestartsLeakNoMemory() throws {
        let (s, _) = try ConsoleSession.bootGuests("verbose-three")
        defer { s.terminate() }
        let start = try s.freePages()
        for i in 0..<100 {
            let r = try s.command("restart \(["alpha", "beta"][i % 2])", timeout: 10)
            XCTAssertTrue(r.hasSuffix(": restarted"), "cycle \(i): \(r)")
        }
        XCTAssertEqual(try s.row("alpha").restarts, 50)
        XCTAssertEqual(try s.freePages().now, start.now, "free pages after 100 restarts")
        XCTAssertEqual(try s.row("alpha").state, "running")
    }

    /// A pinned guest owns its hart; the others share the remaining one.
    func testPinnedPartition() throws { try pinnedPartition(.riscv64) }
    /// The same on aarch64 (CPU 1 owned by rt).
    func testAArch64PinnedPartition() throws { try pinnedPartition(.aarch64) }

    func pinnedPartition(_ arch: Arch) throws {
        let (s, _) = try ConsoleSession.bootGuests("pinned", arch: arch)
        defer { s.terminate() }
        let rows = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(rows.first { $0.name == "rt" }?.cpus, "1*")
        XCTAssertEqual(rows.first { $0.name == "alpha" }?.cpus, "0")
        XCTAssertEqual(rows.first { $0.name == "beta" }?.cpus, "0")
        sleep(1)
        let reply = try s.command("stats")
        let stats = ConsoleParser.stats(reply)
        let cpu1 = try XCTUnwrap(stats.counts("cpu 1"), "no 'cpu 1' row in stats:\n\(reply)")
        let rt = try XCTUnwrap(stats.counts("rt"), "no 'rt' row in stats:\n\(reply)")
        let call = try XCTUnwrap(stats.columns.firstIndex(of: "hypercall"), "no hypercall column:\n\(reply)")
        XCTAssertGreaterThan(rt.reduce(0, +), 0, "rt ran:\n\(reply)")
        // Everything CPU 1 did was for rt: its exit counts equal rt's counts except
        // for hypercalls, which the fast path counts per guest only.
        var a = cpu1, b = rt
        a.remove(at: call); b.remove(at: call)
        XCTAssertEqual(a, b, "CPU 1 runs rt only:\n\(reply)")
    }

    /// `rumkv ctl` drives the console over a socket, with JSON output.
    func testControlSocket() throws { try controlSocket(.riscv64) }
    /// The same on aarch64.
    func testAArch64ControlSocket() throws { try controlSocket(.aarch64) }

    func controlSocket(_ arch: Arch) throws {
        try requireEmulator(arch)
        let images = try TestImages.images(arch)
        var o = EmulatorOptions()
        let sock = NSTemporaryDirectory() + "rumkv-test-\(getpid()).sock"
        o.consoleSocket = sock
        o.bundle = try Builder(root: TestImages.root).bundle(config: try TestConfigs.url("verbose-three", arch: arch), images: images, arch: arch)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Emulator.locate(arch))
        p.arguments = Emulator.qemuArguments(arch, images, o, interactive: false)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; try? FileManager.default.removeItem(atPath: sock) }
        let c = try ControlClient(socketPath: sock, timeout: 10)
        sleep(2)
        let rows = ConsoleParser.guests(try c.run("list", timeout: 20))
        XCTAssertEqual(rows.map(\.name), ["alpha", "beta", "gamma"])
        XCTAssertEqual(ConsoleParser.error(try c.run("start nosuch")), "no guest 'nosuch' (see 'list')")
        XCTAssertEqual(try c.run("stop alpha"), "alpha: stopped")
        XCTAssertEqual(ConsoleParser.guests(try c.run("list")).first?.state, "stopped")
        XCTAssertEqual(try c.run("shutdown"), "rumkv: powering off")
    }

    /// A tampered image and an unsigned one are refused; the other guests run.
    func testTamperedAndUnsignedImagesAreRefused() throws { try GuestScenarios.tamperedImages(.riscv64) }
    /// The same on aarch64.
    func testAArch64TamperedAndUnsignedImagesAreRefused() throws { try GuestScenarios.tamperedImages(.aarch64) }

    /// Every guest spins without yielding; the console still answers and
    /// guests can still be stopped and started, because slices are preemptive.
    func testConsoleRespondsWhileEveryGuestSpins() throws { try GuestScenarios.consoleWhileSpinning(.riscv64) }
    /// A two-vCPU guest: its payload starts vCPU 1 with SBI HSM, wakes it with
    /// an IPI, sees it stop, and gets the right HSM errors.
    func testMultiVCPUGuestThroughHSMAndIPI() throws {
        let (s, _) = try ConsoleSession.bootGuests("smp")
        defer { s.terminate() }
        XCTAssertEqual(try s.row("duo").vcpus, 2)
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        while !log.contains("smp: done") && Date() < deadline {
            sleep(1)
            log = try s.backlog("duo")
        }
        for line in ["smp: vcpu 1 status before start 1", "smp: hart_start(1) error 0", "smp: vcpu 1 running",
                     "smp: vcpu 1 reported hart id 1", "smp: hart_start(1) again error -6",
                     "smp: send_ipi(vcpu 1) error 0", "smp: vcpu 1 got the IPI, stopping",
                     "smp: vcpu 1 status after hart_stop 1", "smp: hart_start(7) error -3",
                     "smp: hart_start(1, bad entry) error -5", "smp: done"] {
            XCTAssertTrue(log.contains(line), "missing '\(line)' in:\n\(log)")
        }
        XCTAssertGreaterThan(ConsoleParser.exits(try s.command("info duo"))["ipi/cpu"] ?? 0, 4)
        XCTAssertEqual(try s.row("duo").state, "running")
        XCTAssertGreaterThan(try s.lastHeartbeat("solo"), 0)
    }

    /// Typed input reaches the attached guest, and Ctrl-] gives the console back.
    func testTypedInputReachesTheAttachedGuest() throws { try GuestScenarios.typedInput(.riscv64) }
    /// The same on aarch64 (RUM_HC_CONSOLE_READ over HVC).
    func testAArch64TypedInputReachesTheAttachedGuest() throws { try GuestScenarios.typedInput(.aarch64) }

}
