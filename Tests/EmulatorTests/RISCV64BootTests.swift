// RISCV64BootTests: Rumkv on QEMU riscv64 virt with the H-extension.

import Foundation
import XCTest
import RumkvBuild

final class RISCV64BootTests: XCTestCase {
    func testBootsToConsoleAndRunsCommands() throws {
        var o = EmulatorOptions(); o.smp = 2
        let (s, banner) = try ConsoleSession.bootToPrompt(.riscv64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "riscv64", extensionName: "H-extension", cpus: 2)
        XCTAssertTrue(banner.contains("VMID bits 14"), banner)
        try ConsoleBehaviour.checkCommands(s, arch: "riscv64", cpus: 2)
        let mem = try s.command("mem")
        XCTAssertTrue(mem.contains("0x000080000000-0x000090000000  ram         256 MiB"), mem)
        XCTAssertTrue(mem.contains("0x000080200000-"), "hypervisor image at 0x80200000:\n\(mem)")
        XCTAssertTrue(mem.contains("firmware"), "OpenSBI's reserved region shows:\n\(mem)")
        try ConsoleBehaviour.checkShutdown(s)
    }

    func testFourHartsAndMoreMemory() throws {
        var o = EmulatorOptions(); o.smp = 4; o.memoryMiB = 512
        let (s, banner) = try ConsoleSession.bootToPrompt(.riscv64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "riscv64", extensionName: "H-extension", cpus: 4)
        XCTAssertTrue(banner.contains("memory: 512 MiB"), banner)
    }

    func testRefusesWithoutHExtension() throws {
        try requireEmulator(.riscv64)
        var o = EmulatorOptions(); o.withoutVirtualization = true
        let s = try ConsoleSession.boot(.riscv64, try TestImages.images(.riscv64), options: o)
        defer { s.terminate() }
        let text = try s.expect("rumkv: powering off", timeout: 30)
        XCTAssertTrue(text.contains("rumkv: cannot run: the CPU has no H-extension"), text)
        XCTAssertFalse(text.contains("rumkv> "), "no console without the extension")
        XCTAssertTrue(s.waitForExit(timeout: 20), "the emulator powers off instead of hanging")
    }

    func testUnexpectedTrapPrintsRegistersAndHalts() throws {
        let (s, _) = try ConsoleSession.bootToPrompt(.riscv64)
        defer { s.terminate() }
        try ConsoleBehaviour.checkTrap(s, expectCause: "breakpoint (scause 0x0000000000000003)")
        XCTAssertTrue(s.transcript.contains("  sepc 0x00000000802"), s.transcript)
        XCTAssertTrue(s.transcript.contains("x31 0x"), "all registers are dumped")
    }

    func testGuestImageBuilds() throws {
        let images = try TestImages.images(.riscv64)
        let data = try Data(contentsOf: images.guest)
        XCTAssertEqual(Array(data.prefix(4)), [0x7F, 0x45, 0x4C, 0x46], "Rumpk image is an ELF")
        XCTAssertEqual(data[18], 243, "EM_RISCV")
    }
}
