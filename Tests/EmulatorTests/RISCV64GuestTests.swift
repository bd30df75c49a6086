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
    /// Three guests on two harts: all run, heartbeats advance, console attaches.
    func testGuestsRunAndHeartbeatsAdvance() throws {
        let (s, banner) = try ConsoleSession.bootGuests("verbose-three")
        defer { s.terminate() }
        XCTAssertTrue(banner.contains("guests: 3 in the boot bundle"), banner)
        XCTAssertTrue(banner.contains("alpha: started") && banner.contains("beta: started"), banner)
        XCTAssertFalse(banner.contains("gamma: started"), "gamma has autostart = false")
        XCTAssertEqual(try s.row("gamma").state, "stopped")
        XCTAssertEqual(try s.command("start gamma"), "gamma: started")

        let list = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(list.map(\.name), ["alpha", "beta", "gamma"])
        XCTAssertEqual(list.map(\.state), ["running", "running", "running"])
        XCTAssertEqual(list.map(\.cpus), ["0,1", "0,1", "0,1"])
        XCTAssertEqual(list.map(\.memory), ["4 MiB", "4 MiB", "4 MiB"])

        let first = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        let ready = try s.backlog("alpha")
        XCTAssertTrue(ready.contains("rumpk[alpha]: ready (riscv64, abi \(abi), restarts 0)"), ready)
        sleep(2)
        let second = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        for (a, b) in zip(first, second) { XCTAssertGreaterThan(b, a, "heartbeats advance: \(first) -> \(second)") }

        let info = try s.command("info beta")
        XCTAssertTrue(info.contains("guest 1 'beta': running"), info)
        XCTAssertTrue(info.contains("memory  gpa 0x80000000 size 4 MiB -> host"), info)
        XCTAssertTrue(info.contains("last fault: none"), info)
        let exits = ConsoleParser.exits(info)
        XCTAssertGreaterThan(exits["console"] ?? 0, 0, info)
        XCTAssertGreaterThan(exits["wfi"] ?? 0, 0, "an idle guest waits in wfi: \(info)")
        XCTAssertGreaterThan(exits["hypercall"] ?? 0, 0, "timer calls on the fast path are counted: \(info)")

        let stats = try s.command("stats")
        XCTAssertTrue(stats.contains("cpu 0") && stats.contains("cpu 1"), stats)
        try ConsoleBehaviour.checkShutdown(s)
    }

    /// start/stop/restart/pause/resume, wrong states and unknown guests.
    func testLifecycleCommandsAndErrors() throws {
        let (s, _) = try ConsoleSession.bootGuests("verbose-three")
        defer { s.terminate() }
        XCTAssertEqual(try s.command("start alpha"), "error: guest 'alpha' is already running")
        XCTAssertEqual(try s.command("resume alpha"), "error: guest 'alpha' is not paused")
        XCTAssertEqual(try s.command("stop nosuch"), "error: no guest 'nosuch' (see 'list')")
        XCTAssertEqual(try s.command("stop 7"), "error: no guest '7' (see 'list')")
        XCTAssertEqual(try s.command("stop"), "error: 'stop' needs one guest name or id")
        XCTAssertEqual(try s.command("list all"), "error: 'list' takes no arguments")
        XCTAssertEqual(try s.command("stop gamma"), "error: guest 'gamma' is already stopped")

        // pause: heartbeats stop advancing; resume: they go on.
        XCTAssertEqual(try s.command("pause alpha"), "alpha: paused")
        XCTAssertEqual(try s.row("alpha").state, "paused")
        XCTAssertEqual(try s.command("pause alpha"), "error: guest 'alpha' is not running")
        let p1 = try s.lastHeartbeat("alpha")
        sleep(1)
        XCTAssertEqual(try s.lastHeartbeat("alpha"), p1, "a paused guest does not run")
        XCTAssertEqual(try s.command("resume alpha"), "alpha: resumed")
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), p1)

        // stop frees the guest; start boots a fresh instance (zeroed memory, new image).
        XCTAssertEqual(try s.command("stop 1"), "beta: stopped")
        XCTAssertEqual(try s.row("beta").state, "stopped")
        XCTAssertEqual(try s.command("start beta"), "beta: started")
        XCTAssertEqual(try s.command("restart beta"), "beta: restarted")
        let row = try s.row("beta")
        XCTAssertEqual(row.state, "running")
        XCTAssertEqual(row.restarts, 1)
        let log = try s.backlog("beta")
        XCTAssertTrue(log.contains("[rumkv: new instance]"), "the backlog marks new instances:\n\(log)")
    }

    /// The hostile guest tries every attack; each is contained and reported,
    /// and the other guests keep running throughout.
    func testHostileGuestIsContained() throws {
        let (s, _) = try ConsoleSession.bootGuests("hostile")
        defer { s.terminate() }
        let before = try s.lastHeartbeat("alpha")
        let evil = try s.waitFor("evil", timeout: 30) { $0.restarts >= 6 }
        XCTAssertEqual(evil.state, "running", "the last instance spins forever, time-sliced")
        sleep(1)
        let log = try s.backlog("evil")
        XCTAssertTrue(log.contains("hostile: console write with pointers outside my RAM"), log)
        XCTAssertTrue(log.contains("bad pointers answered 5 5 5 (negated)"), "SBI_ERR_INVALID_ADDRESS for each bad buffer:\n\(log)")
        XCTAssertTrue(log.contains("unknown calls answered -2 -2"), "SBI_ERR_NOT_SUPPORTED:\n\(log)")
        XCTAssertTrue(log.contains("hostile: reading past my RAM"), log)
        XCTAssertTrue(log.contains("hostile: writing the hypervisor's read-only SysTable page"), log)
        XCTAssertTrue(log.contains("hostile: touching unassigned MMIO"), log)
        XCTAssertTrue(log.contains("hostile: executing an illegal instruction"), log)
        XCTAssertTrue(log.contains("rumpk: fatal trap, scause 0x0000000000000002"), "the guest's own handler saw the illegal instruction:\n\(log)")
        XCTAssertTrue(log.contains("hostile: spinning forever without yielding"), log)
        XCTAssertFalse(log.contains("NOT CONTAINED"), log)

        let info = try s.command("info evil")
        let exits = ConsoleParser.exits(info)
        XCTAssertEqual(exits["stage2"], 3, "three stage-2 faults (read, write, MMIO):\n\(info)")
        XCTAssertGreaterThan(exits["tick"] ?? 0, 10, "the spinning instance is preempted by the slice timer")
        XCTAssertTrue(info.contains("last fault: guest reported a crash"), info)

        // Sleeping forever in wfi is contained too: the guest just never runs again.
        let sleeper = try s.backlog("sleeper")
        XCTAssertTrue(sleeper.contains("waiting for an interrupt that never comes"), sleeper)
        XCTAssertEqual(try s.row("sleeper").state, "running")

        let after = try s.lastHeartbeat("alpha")
        XCTAssertGreaterThan(after, before + 2, "alpha kept running during the attacks")
        XCTAssertGreaterThan(try s.lastHeartbeat("beta"), 2)
        XCTAssertEqual(try s.row("alpha").restarts, 0)
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0"), "hypervisor console still answers")
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
