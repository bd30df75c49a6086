// AArch64BootTests: Rumkv on QEMU aarch64 virt at EL2 with GICv3.
//
// QEMU loads rumkv.bin as an arm64 Linux image (its Image header, see
// Boot/aarch64/entry.S) at 0x40200000, places the DTB (and the boot bundle as
// the initrd) and enters at EL2 with x0 = the DTB; without
// virtualization=on it enters at EL1 and Rumkv must refuse, not hang.

import Foundation
import XCTest
import RumkvBuild

final class AArch64BootTests: XCTestCase {
    func testBootsToConsoleAndRunsCommands() throws {
        var o = EmulatorOptions(); o.smp = 2
        let (s, banner) = try ConsoleSession.bootToPrompt(.aarch64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "aarch64", extensionName: "EL2", cpus: 2)
        XCTAssertTrue(banner.contains("stage-2 via VTTBR_EL2, GICv3, VMID bits 16"), banner)
        try ConsoleBehaviour.checkCommands(s, arch: "aarch64", cpus: 2)
        let mem = try s.command("mem")
        XCTAssertTrue(mem.contains("0x000040000000-0x000050000000  ram         256 MiB"), mem)
        XCTAssertTrue(mem.range(of: #"0x000040200000-0x0000402[0-9a-f]{5}  hypervisor"#, options: .regularExpression) != nil,
                      "hypervisor image at 0x40200000:\n\(mem)")
        // rumkv.bin boots by the Linux arm64 protocol: QEMU puts the DTB after the
        // (absent) initrd, at RAM + min(RAM / 2, 128 MiB), and passes it in x0.
        XCTAssertTrue(mem.contains("0x000048000000-0x000048100000  device tree 1 MiB"), "QEMU's DTB from x0:\n\(mem)")
        try ConsoleBehaviour.checkShutdown(s)
    }

    func testFourCPUsAndMoreMemory() throws {
        var o = EmulatorOptions(); o.smp = 4; o.memoryMiB = 512
        let (s, banner) = try ConsoleSession.bootToPrompt(.aarch64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "aarch64", extensionName: "EL2", cpus: 4)
        XCTAssertTrue(banner.contains("memory: 512 MiB"), banner)
        let cpus = try s.command("cpus")
        XCTAssertTrue(cpus.contains("cpus: 4 (boot cpu 0)"), cpus)
        XCTAssertTrue(cpus.contains("  cpu 3  id 0x00000003"), "MPIDR affinities from the DTB:\n\(cpus)")
        XCTAssertEqual(cpus.components(separatedBy: "boot").count - 1, 2, "one boot CPU:\n\(cpus)")
    }

    func testRefusesWithoutEL2() throws {
        try requireEmulator(.aarch64)
        var o = EmulatorOptions(); o.withoutVirtualization = true
        let s = try ConsoleSession.boot(.aarch64, try TestImages.images(.aarch64), options: o)
        defer { s.terminate() }
        let text = try s.expect("rumkv: powering off", timeout: 30)
        XCTAssertTrue(text.contains("rumkv: cannot run: not entered at EL2 (CurrentEL = EL1): " +
                                    "start QEMU with -machine virt,virtualization=on"), text)
        XCTAssertFalse(text.contains("rumkv> "), "no console without EL2")
        XCTAssertTrue(s.waitForExit(timeout: 20), "PSCI SYSTEM_OFF over HVC powers the emulator off")
    }

    func testRefusesWithoutGICv3() throws {
        try requireEmulator(.aarch64)
        var o = EmulatorOptions(); o.extra = ["-machine", "gic-version=2"]
        let s = try ConsoleSession.boot(.aarch64, try TestImages.images(.aarch64), options: o)
        defer { s.terminate() }
        let text = try s.expect("rumkv: powering off", timeout: 30)
        XCTAssertTrue(text.contains("rumkv: cannot run: no GICv3 in the device tree"), text)
        XCTAssertTrue(s.waitForExit(timeout: 20), "the emulator powers off instead of hanging")
    }

    func testUnexpectedTrapPrintsRegistersAndHalts() throws {
        let (s, _) = try ConsoleSession.bootToPrompt(.aarch64)
        defer { s.terminate() }
        try ConsoleBehaviour.checkTrap(s, expectCause: "BRK instruction (ESR 0x00000000f2000052)")
        XCTAssertTrue(s.transcript.contains("  elr 0x00000000402"), s.transcript)
        XCTAssertTrue(s.transcript.contains("from current EL, SP_ELx"), s.transcript)
        XCTAssertTrue(s.transcript.contains("x30 0x"), "all registers are dumped")
    }

    func testGuestImageBuilds() throws {
        let images = try TestImages.images(.aarch64)
        let data = try Data(contentsOf: images.guest)
        XCTAssertEqual(Array(data.prefix(4)), [0x7F, 0x45, 0x4C, 0x46], "Rumpk image is an ELF")
        XCTAssertEqual(data[4], 2, "ELFCLASS64")
        XCTAssertEqual(data[18], 183, "EM_AARCH64")
    }
}
