// X86_64BootTests: Rumkv on Bochs (VMX with EPT) from the GRUB ISO.
//
// Bochs is slow, so the class boots it three times (1-3 s to the prompt): SMP 2
// through the whole console contract and shutdown, a CPU model without VMX,
// and SMP 1 with a boot bundle as the module through the fatal-trap path.
// QEMU cannot emulate VMX; it boots the same ISO once to show the refusal
// and that power-off ends QEMU too. Verdicts come from the transcript:
// Bochs exits 1 after a clean shutdown.

import Foundation
import XCTest
import RumkvBuild

final class X86_64BootTests: XCTestCase {
    func testBootsToConsoleAndRunsCommands() throws {
        var o = EmulatorOptions(); o.smp = 2
        let (s, banner) = try ConsoleSession.bootToPrompt(.x86_64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "x86_64", extensionName: "VMX", cpus: 2)
        XCTAssertTrue(banner.contains("(VMX root, EPT, unrestricted guest, VMCS revision "), banner)
        try ConsoleBehaviour.checkCommands(s, arch: "x86_64", cpus: 2)
        let mem = try s.command("mem")
        XCTAssertTrue(mem.contains("0x000000200000-"), "hypervisor image at 2 MiB:\n\(mem)")
        XCTAssertTrue(mem.contains("0x000000000000-0x000000100000  firmware"), "the BIOS's first MiB is reserved:\n\(mem)")
        XCTAssertTrue(mem.contains("boot module"), "the Rumpk module GRUB loaded is reserved:\n\(mem)")
        XCTAssertTrue(mem.contains("0x000000100000-0x00000fff0000  ram"), "RAM from the multiboot2 memory map:\n\(mem)")
        try ConsoleBehaviour.checkShutdown(s)
    }

    func testRefusesWithoutVMX() throws {
        try requireEmulator(.x86_64)
        var o = EmulatorOptions(); o.withoutVirtualization = true; o.smp = 1
        let s = try ConsoleSession.boot(.x86_64, try TestImages.images(.x86_64), options: o)
        defer { s.terminate() }
        let text = try s.expect("rumkv: powering off", timeout: 60)
        XCTAssertTrue(text.contains("rumkv: cannot run: the CPU has no VMX (CPUID.1:ECX.VMX = 0)"), text)
        XCTAssertFalse(text.contains("rumkv> "), "no console without VMX")
        XCTAssertTrue(s.waitForExit(timeout: 20), "Bochs powers off instead of hanging")
    }

    /// One CPU, a boot bundle as the multiboot2 module (a per-run ISO), then the trap path.
    func testBundleModuleAndUnexpectedTrap() throws {
        let bundle = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-x86-bundle-\(UUID().uuidString).bin")
        try Data(repeating: 0x5A, count: 64 << 10).write(to: bundle)
        defer { try? FileManager.default.removeItem(at: bundle) }
        var o = EmulatorOptions(); o.smp = 1; o.bundle = bundle
        let (s, banner) = try ConsoleSession.bootToPrompt(.x86_64, options: o)
        defer { s.terminate() }
        ConsoleBehaviour.checkBanner(banner, arch: "x86_64", extensionName: "VMX", cpus: 1)
        let mem = try s.command("mem")
        XCTAssertTrue(mem.contains("boot module 64 KiB"), "the bundle GRUB loaded is reserved:\n\(mem)")
        try ConsoleBehaviour.checkTrap(s, expectCause: "#BP breakpoint (vector 3, error code 0x0000000000000000)")
        XCTAssertTrue(s.transcript.contains("  rip 0x00000000002"), "RIP inside the image:\n\(s.transcript)")
        XCTAssertTrue(s.transcript.contains("cr2 0x"), s.transcript)
        XCTAssertTrue(s.transcript.contains("r15 0x"), "all registers are dumped")
    }

    /// QEMU's TCG has no VMX: the ISO boots there and must refuse and power off.
    func testQEMURefusesAndPowersOff() throws {
        guard let qemu = which("qemu-system-x86_64") else { throw XCTSkip("qemu-system-x86_64 is not installed") }
        let iso = try XCTUnwrap(try TestImages.images(.x86_64).bootMedium)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: qemu)
        p.arguments = ["-cpu", "qemu64", "-m", "256M", "-cdrom", iso.path, "-no-reboot",
                       "-display", "none", "-serial", "stdio", "-monitor", "none"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        let exited = !p.isRunning
        if !exited { p.terminate() }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("rumkv: cannot run: the CPU has no VMX"), text)
        XCTAssertTrue(exited, "QEMU exits through the ACPI power-off:\n\(text)")
    }

    func testGuestImageBuilds() throws {
        let images = try TestImages.images(.x86_64)
        let data = try Data(contentsOf: images.guest)
        XCTAssertEqual(Array(data.prefix(4)), [0x7F, 0x45, 0x4C, 0x46], "Rumpk image is an ELF")
        XCTAssertEqual(data[4], 2, "ELFCLASS64")
        XCTAssertEqual(data[18], 62, "EM_X86_64")
    }
}
