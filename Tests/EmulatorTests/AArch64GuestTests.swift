// AArch64GuestTests: the riscv64 guest scenarios on QEMU aarch64 (EL2, GICv3).
//
// The same partition configs as RISCV64GuestTests (retargeted by
// TestConfigs.url(_:arch:)) and the same console helpers; each test shares
// one boot across its checks to keep the aarch64 suite to about a minute.
// Only what differs by architecture differs here: PSCI's NOT_SUPPORTED (-1)
// for unknown calls, and the guest's EL1 vector reporting the undefined
// instruction by its ESR (EC 0, IL 1).

import Foundation
import XCTest
import RumkvBuild

final class AArch64GuestTests: XCTestCase {
    /// Three guests on two CPUs: all run, heartbeats advance, and every
    /// lifecycle command acts through the core, with its errors.
    func testGuestsRunHeartbeatsAndLifecycle() throws {
        let (s, banner) = try ConsoleSession.bootGuests("verbose-three", arch: .aarch64)
        defer { s.terminate() }
        XCTAssertTrue(banner.contains("Rumkv 0.1.0 (aarch64)"), banner)
        XCTAssertTrue(banner.contains("guests: 3 in the boot bundle"), banner)
        XCTAssertTrue(banner.contains("alpha: started") && banner.contains("beta: started"), banner)
        XCTAssertEqual(try s.row("gamma").state, "stopped")
        XCTAssertEqual(try s.command("start gamma"), "gamma: started")

        let list = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(list.map(\.name), ["alpha", "beta", "gamma"])
        XCTAssertEqual(list.map(\.state), ["running", "running", "running"])
        XCTAssertEqual(list.map(\.cpus), ["0,1", "0,1", "0,1"])

        let first = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        XCTAssertTrue(try s.backlog("alpha").contains("rumpk[alpha]: ready (aarch64, abi \(abi), restarts 0)"))
        sleep(2)
        let second = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        for (a, b) in zip(first, second) { XCTAssertGreaterThan(b, a, "heartbeats advance: \(first) -> \(second)") }

        let info = try s.command("info beta")
        XCTAssertTrue(info.contains("guest 1 'beta': running"), info)
        XCTAssertTrue(info.contains("memory  gpa 0x80000000 size 4 MiB -> host"), info)
        XCTAssertTrue(info.contains("last fault: none"), info)
        let exits = ConsoleParser.exits(info)
        XCTAssertGreaterThan(exits["console"] ?? 0, 0, "console output by HVC: \(info)")
        XCTAssertGreaterThan(exits["wfi"] ?? 0, 0, "an idle guest waits in a trapped wfi: \(info)")

        // Errors, then pause / resume.
        XCTAssertEqual(try s.command("start alpha"), "error: guest 'alpha' is already running")
        XCTAssertEqual(try s.command("resume alpha"), "error: guest 'alpha' is not paused")
        XCTAssertEqual(try s.command("stop nosuch"), "error: no guest 'nosuch' (see 'list')")
        XCTAssertEqual(try s.command("pause alpha"), "alpha: paused")
        let p1 = try s.lastHeartbeat("alpha")
        sleep(1)
        XCTAssertEqual(try s.lastHeartbeat("alpha"), p1, "a paused guest does not run")
        XCTAssertEqual(try s.command("resume alpha"), "alpha: resumed")
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), p1)

        // stop / start / restart: fresh instances with zeroed memory and a pristine image.
        let free = try s.freePages()
        XCTAssertEqual(try s.command("stop 1"), "beta: stopped")
        XCTAssertEqual(try s.row("beta").state, "stopped")
        XCTAssertEqual(try s.command("start beta"), "beta: started")
        for i in 0..<10 {
            XCTAssertEqual(try s.command("restart beta", timeout: 10), "beta: restarted", "cycle \(i)")
        }
        let row = try s.waitFor("beta") { $0.state == "running" }
        XCTAssertEqual(row.restarts, 10)
        XCTAssertEqual(try s.freePages().now, free.now, "restarts leave the free memory where it was")
        sleep(1)
        let log = try s.backlog("beta")
        XCTAssertTrue(log.contains("[rumkv: new instance]"), log)
        XCTAssertTrue(log.contains("rumpk[beta]: ready (aarch64, abi \(abi), restarts 10)"), log)
        try ConsoleBehaviour.checkShutdown(s)
    }

    /// The hostile guest tries every attack of the riscv64 scenario at EL1; each
    /// is contained and reported, and the other guests keep running.
    func testHostileGuestIsContained() throws {
        let (s, _) = try ConsoleSession.bootGuests("hostile", arch: .aarch64)
        defer { s.terminate() }
        let before = try s.lastHeartbeat("alpha")
        let evil = try s.waitFor("evil", timeout: 40) { $0.restarts >= 6 }
        XCTAssertEqual(evil.state, "running", "the last instance spins forever, time-sliced")
        sleep(1)
        let log = try s.backlog("evil")
        XCTAssertTrue(log.contains("bad pointers answered 5 5 5 (negated)"), "RUM_HC_ERR_ADDRESS for each bad buffer:\n\(log)")
        XCTAssertTrue(log.contains("unknown calls answered -1 -1"), "PSCI NOT_SUPPORTED:\n\(log)")
        XCTAssertTrue(log.contains("hostile: reading past my RAM"), log)
        XCTAssertTrue(log.contains("hostile: writing the hypervisor's read-only SysTable page"), log)
        XCTAssertTrue(log.contains("hostile: touching unassigned MMIO at 0x0000000009000000"), log)
        XCTAssertTrue(log.contains("rumpk: fatal trap, esr 0x0000000002000000"),
                      "the guest's own EL1 vector saw the undefined instruction:\n\(log)")
        XCTAssertTrue(log.contains("hostile: spinning forever without yielding"), log)
        XCTAssertFalse(log.contains("NOT CONTAINED"), log)

        let info = try s.command("info evil")
        let exits = ConsoleParser.exits(info)
        XCTAssertEqual(exits["stage2"], 3, "three stage-2 aborts (read, write, MMIO):\n\(info)")
        XCTAssertGreaterThan(exits["tick"] ?? 0, 10, "the spinning instance is preempted by CNTHP")
        XCTAssertTrue(info.contains("last fault: guest reported a crash"), info)

        XCTAssertTrue(try s.backlog("sleeper").contains("waiting for an interrupt that never comes"))
        XCTAssertEqual(try s.row("sleeper").state, "running")
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), before + 2, "alpha kept running during the attacks")
        XCTAssertGreaterThan(try s.lastHeartbeat("beta"), 2)
        XCTAssertEqual(try s.row("alpha").restarts, 0)
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0 arch aarch64"), "the hypervisor console still answers")
    }
}

extension AArch64GuestTests {
    /// A two-vCPU guest: its payload starts vCPU 1 with PSCI CPU_ON, wakes it
    /// with an SGI (a trapped ICC_SGI1R_EL1 write), sees it CPU_OFF itself,
    /// and gets PSCI's error codes; a one-vCPU guest runs beside it.
    func testMultiVCPUGuestThroughPSCIAndSGI() throws {
        let (s, _) = try ConsoleSession.bootGuests("smp", arch: .aarch64)
        defer { s.terminate() }
        XCTAssertEqual(try s.row("duo").vcpus, 2)
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        while !log.contains("smp: done") && Date() < deadline {
            sleep(1)
            log = try s.backlog("duo")
        }
        for line in ["smp: vcpu 1 status before start 1", "smp: cpu_on(1) 0", "smp: vcpu 1 running",
                     "smp: vcpu 1 reported mpidr aff0 1", "smp: cpu_on(1) again -4",
                     "smp: vcpu 1 got the IPI, stopping", "smp: vcpu 1 status after cpu_off 1",
                     "smp: cpu_on(7) -2", "smp: cpu_on(1, bad entry) -9",
                     "smp: psci features(cpu_on) 0", "smp: unknown psci call -1", "smp: done"] {
            XCTAssertTrue(log.contains(line), "missing '\(line)' in:\n\(log)")
        }
        XCTAssertGreaterThan(ConsoleParser.exits(try s.command("info duo"))["ipi/cpu"] ?? 0, 4)
        XCTAssertEqual(try s.row("duo").state, "running")
        XCTAssertGreaterThan(try s.lastHeartbeat("solo"), 0)
    }
}

extension AArch64GuestTests {
    /// Passthrough on aarch64: a virtio-blk disk (transport 8, INTID 56) whose
    /// owner reads it by polling and again by interrupt (SPIs injected through
    /// hardware list registers, one per request), a virtio-rng (transport 0,
    /// INTID 48) and a guest probing the disk it was not given: it is stopped
    /// by a stage-2 fault, the owners are unaffected.
    func testPassthroughInterruptsAndIsolation() throws {
        try requireEmulator(.aarch64)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumpk-a64-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = PassthroughTests.pattern(sectors: 24, seed: 0xA64)
        try image.write(to: dir.appendingPathComponent("disk.img"))
        let config = dir.appendingPathComponent("a64-passthrough.toml")
        try """
            [partition]
            name = "a64-passthrough"
            arch = "aarch64"
            harts = 2

            [[guest]]
            name = "disk"
            image = "rumpk"
            memory = "4M"

            [[guest]]
            name = "entropy"
            image = "rumpk"
            memory = "4M"

            [[guest]]
            name = "intruder"
            image = "rumpk"
            memory = "4M"
            restart = "never"
            payloads = ["devprobe"]

            [[device]]
            name = "blk0"
            mmio = 0x0a001000
            irq = 56
            guest = "disk"
            qemu = "virtio-blk"
            disk = "disk.img"

            [[device]]
            name = "rng0"
            mmio = 0x0a000000
            irq = 48
            guest = "entropy"
            qemu = "virtio-rng"
            """.write(to: config, atomically: true, encoding: .utf8)
        let images = try TestImages.images(.aarch64)
        let prepared = try Builder(root: TestImages.root).prepareBundle(config: config, images: images, arch: .aarch64)
        var o = EmulatorOptions()
        o.smp = 2
        o.memoryMiB = 2048          // DMA owners' RAM must lie above 0x80000000 + its size (GPA == HPA alias)
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments
        let s = try ConsoleSession.boot(.aarch64, images, options: o)
        defer { s.terminate() }
        _ = try s.expect("rumkv> ", timeout: 60)

        let expected = PassthroughTests.hex(PassthroughTests.fnv1a64(image.prefix(16 * 512)))
        let intruder = try s.waitFor("intruder", timeout: 30) { $0.state == "crashed" }
        XCTAssertEqual(intruder.restarts, 0)
        let probe = try s.backlog("intruder")
        XCTAssertTrue(probe.contains("devprobe: reading the virtio magic at 0x0a001000"), probe)
        XCTAssertFalse(probe.contains("NOT CONTAINED"), probe)
        let info = try s.command("info intruder")
        XCTAssertTrue(info.contains("last fault: stage-2 fault (read)") && info.contains("gpa 0x000a001000"), info)

        var disk = ""
        let deadline = Date().addingTimeInterval(20)
        while !disk.contains("virtio-blk: read") && Date() < deadline { sleep(1); disk = try s.backlog("disk") }
        sleep(2)    // the interrupt pass follows; a missing interrupt is reported after a second
        disk = try s.backlog("disk")
        XCTAssertTrue(disk.contains("rumpk[disk]: virtio-blk: read 16 sectors, fnv1a64 \(expected)\n"), disk)
        XCTAssertFalse(disk.contains("no interrupt came"), "every request's interrupt arrived:\n\(disk)")
        XCTAssertTrue(try s.backlog("entropy").contains("rumpk[entropy]: virtio-rng: 64 bytes, not all zero"))
        let devices = try s.command("devices")
        XCTAssertEqual(PassthroughTests.deviceRow(devices, "blk0")?.prefix(6), ["blk0", "0x000a001000", "0x001000", "56", "disk", "16"],
                       "one interrupt per request of the interrupt pass:\n\(devices)")
        XCTAssertEqual(PassthroughTests.deviceRow(devices, "rng0")?.prefix(5), ["rng0", "0x000a000000", "0x001000", "48", "entropy"], devices)
        XCTAssertEqual(try s.row("disk").state, "running", "the owner is unaffected")
        XCTAssertEqual(try s.row("entropy").state, "running")
    }
}

extension AArch64GuestTests {
    /// The two attacks only aarch64 has: a store pair to the virtual GIC (a
    /// data abort with ISV = 0, which no one can emulate: the guest is stopped
    /// with the fault recorded, as Bao, Jailhouse and KVM do) and a write to
    /// HCR_EL2 from EL1 (UNDEFINED there: the guest's own vector takes it).
    /// A well-behaved guest keeps running beside them.
    func testNoSyndromeAccessAndEL2RegisterAreContained() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumpk-a64h-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("a64-hostile.toml")
        try """
            [partition]
            name = "a64-hostile"
            arch = "aarch64"
            harts = 2

            [[guest]]
            name = "alpha"
            image = "rumpk"
            memory = "4M"
            verbose = true

            [[guest]]
            name = "nosyn"
            image = "rumpk"
            memory = "2M"
            restart = "never"
            test_payload = "no-syndrome-access"

            [[guest]]
            name = "el2"
            image = "rumpk"
            memory = "2M"
            restart = "never"
            test_payload = "el2-register"
            """.write(to: config, atomically: true, encoding: .utf8)
        try requireEmulator(.aarch64)
        let images = try TestImages.images(.aarch64)
        var o = EmulatorOptions()
        o.bundle = try Builder(root: TestImages.root).bundle(config: config, images: images, arch: .aarch64)
        let s = try ConsoleSession.boot(.aarch64, images, options: o)
        defer { s.terminate() }
        _ = try s.expect("rumkv> ", timeout: 60)

        _ = try s.waitFor("nosyn") { $0.state == "crashed" }
        let nosyn = try s.backlog("nosyn")
        XCTAssertTrue(nosyn.contains("hostile: storing a register pair to the interrupt controller (no syndrome)"), nosyn)
        XCTAssertFalse(nosyn.contains("NOT CONTAINED"), nosyn)
        let info = try s.command("info nosyn")
        XCTAssertTrue(info.contains("last fault: stage-2 fault (write)") && info.contains("gpa 0x0008000000"),
                      "the ISV = 0 abort is recorded, not emulated:\n\(info)")
        XCTAssertEqual(ConsoleParser.exits(info)["mmio"], 0, "nothing was emulated:\n\(info)")

        _ = try s.waitFor("el2") { $0.state == "crashed" }
        let el2 = try s.backlog("el2")
        XCTAssertTrue(el2.contains("hostile: writing a hypervisor system register"), el2)
        XCTAssertTrue(el2.contains("rumpk: fatal trap, esr 0x0000000002000000"), "UNDEFINED at EL1, taken by the guest:\n\(el2)")
        XCTAssertFalse(el2.contains("NOT CONTAINED"), el2)
        XCTAssertTrue(try s.command("info el2").contains("last fault: guest reported a crash"))

        let before = try s.lastHeartbeat("alpha")
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), before, "alpha runs on")
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0 arch aarch64"))
    }
}
