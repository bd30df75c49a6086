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
        try GuestScenarios.runAndManage(.aarch64, restarts: 10, exits: ["console", "wfi"])
    }

    /// The same on the other CPU QEMU offers and the issue names: cortex-a57
    /// (44-bit PA, 8-bit VMIDs, no VHE, no PAuth) with four CPUs, one boot: the
    /// three guests spread over four CPUs, lifecycle, restarts, no leak.
    func testCortexA57WithFourCPUs() throws {
        try GuestScenarios.runAndManage(.aarch64, smp: 4, cpus: "0,1,2,3", cpu: "cortex-a57",
                                        bannerLines: ["cpus: 4", "VMID bits 8"], restarts: 4, exits: ["console", "wfi"])
    }

    /// The hostile guest tries every attack of the riscv64 scenario at EL1
    /// (PSCI NOT_SUPPORTED for unknown calls, the guest's own EL1 vector for
    /// the undefined instruction); each is contained and reported.
    func testHostileGuestIsContained() throws {
        try GuestScenarios.hostile(.aarch64, .init(unknownCall: "-1",
                                                   fatalTrap: "rumpk: fatal trap, esr 0x0000000002000000",
                                                   mmio: "0x0000000009000000"))
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
