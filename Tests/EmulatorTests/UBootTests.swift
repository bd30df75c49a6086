// UBootTests: a third-party guest nobody here wrote, Debian's S-mode U-Boot,
// under Rumkv on QEMU riscv64 beside two Rumpk guests.
//
// configs/qemu-riscv64-virt/u-boot.toml gives it QEMU virt's layout (boot =
// "linux": RAM at 0x80000000, the image at 0x80200000, a generated device tree
// in a1) and an emulated NS16550. The test reads its boot banner through
// `console uboot`, types `version` and `bdinfo` at its `=>` prompt and checks
// the answers against the config, detaches, and takes it through everything a
// Rumpk guest goes through: `restart`, its own `reset` (SBI SRST), a crash (a
// read of unmapped guest-physical 0: the stage-2 fault is recorded and the
// on-crash policy restarts it), `stop` and `start`, seeing the prompt again
// each time, while the Rumpk guests' heartbeats keep advancing. The U-Boot binary
// comes from the Debian package u-boot-qemu (tools/setup.sh installs it); if it
// is missing the test fails, unless RUMKV_ALLOW_MISSING_UBOOT=1 says this
// machine may skip it.

import Foundation
import RumkvBuild
import XCTest

final class UBootTests: XCTestCase {
    static let image = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"

    func requireUBoot() throws {
        guard !FileManager.default.fileExists(atPath: Self.image) else { return }
        let why = "\(Self.image) is missing: install the Debian package u-boot-qemu (bash tools/setup.sh)"
        if ProcessInfo.processInfo.environment["RUMKV_ALLOW_MISSING_UBOOT"] == "1" { throw XCTSkip(why) }
        XCTFail(why + " (set RUMKV_ALLOW_MISSING_UBOOT=1 to skip on a developer machine)")
        throw XCTSkip("failed: " + why)
    }

    /// Everything up to and including U-Boot's next `=>` prompt.
    func prompt(_ s: ConsoleSession, timeout: TimeInterval = 30) throws -> String {
        try s.expect("=> ", timeout: timeout).replacingOccurrences(of: "\r", with: "")
    }

    func testUBootReachesItsPromptAnswersVersionAndBdinfoAndSurvivesRestartResetCrashStop() throws {
        try requireUBoot()
        let (s, banner) = try ConsoleSession.bootGuests("u-boot")
        defer { s.terminate() }
        XCTAssertTrue(banner.contains("uboot: started"), banner)
        let rows = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(rows.map(\.name), ["uboot", "alpha", "beta"])
        XCTAssertEqual(rows.map(\.state), ["running", "running", "running"])
        XCTAssertEqual(rows.first?.memory, "64 MiB")

        // Its boot, from the backlog: the tree's ISA string, model and RAM, the UART as console.
        s.send("console uboot\r")
        let boot = try prompt(s, timeout: 60)
        XCTAssertTrue(boot.contains("U-Boot 20"), boot)
        XCTAssertTrue(boot.contains("CPU:   rv64imafdc_zicsr_zifencei_sstc"), "the ISA the device tree offers (F and D: U-Boot turns its FPU on and writes fcsr):\n\(boot)")
        XCTAssertTrue(boot.contains("Model: rumkv guest"), boot)
        XCTAssertTrue(boot.contains("DRAM:  64 MiB"), boot)
        XCTAssertTrue(boot.contains("Out:   serial@10000000"), "the emulated NS16550 is its console:\n\(boot)")

        s.send("version\r")
        let version = try prompt(s)
        XCTAssertTrue(version.contains("U-Boot 20"), version)
        XCTAssertTrue(version.contains("riscv64-linux-gnu-gcc"), "its toolchain line:\n\(version)")

        s.send("bdinfo\r")
        let bd = try prompt(s)
        XCTAssertTrue(bd.contains("DRAM bank   = 0x0000000000000000"), bd)
        XCTAssertTrue(bd.contains("-> start    = 0x0000000080000000"), "the RAM base the config gave:\n\(bd)")
        XCTAssertTrue(bd.contains("-> size     = 0x0000000004000000"), "64 MiB:\n\(bd)")
        XCTAssertTrue(bd.contains("memory[0]\t[0x80000000-0x83ffffff]"), bd)
        XCTAssertTrue(bd.contains("devicetree  = board"), "it runs on the tree it was handed in a1:\n\(bd)")

        s.send("\u{1D}")
        try s.expect("[detached]", timeout: 10)
        try s.expect("rumkv> ", timeout: 5)

        // Its prompt polls LSR: nearly every access is answered on the trap fast path.
        let info = try s.command("info uboot")
        let uart = try XCTUnwrap(info.components(separatedBy: "\n").first { $0.contains("ns16550 gpa 0x10000000") }, info)
        let numbers = uart.components(separatedBy: CharacterSet.decimalDigits.inverted).compactMap { Int($0) }.suffix(3)
        XCTAssertEqual(numbers.count, 3, uart)
        let (reads, writes, fast) = (numbers[numbers.startIndex], numbers[numbers.startIndex + 1], numbers[numbers.startIndex + 2])
        XCTAssertGreaterThan(reads, 1_000, "U-Boot polls its UART (about 36,000 LSR reads a second here): \(uart)")
        XCTAssertGreaterThan(writes, 500, "its output went through THR: \(uart)")
        XCTAssertGreaterThan(Double(fast), 0.99 * Double(reads + writes), "fast path: \(uart)")
        XCTAssertTrue(info.contains("boot linux: entry 0x80200000, a1 = device tree at 0x83e00000"), info)

        // Restart: a new instance with zeroed RAM and the pristine image reaches the prompt again.
        let beforeAlpha = try s.lastHeartbeat("alpha"), beforeBeta = try s.lastHeartbeat("beta")
        XCTAssertEqual(try s.command("restart uboot", timeout: 10), "uboot: restarted")
        s.send("console uboot\r")
        try s.expect("[rumkv: new instance]", timeout: 20)
        let again = try prompt(s, timeout: 60)
        XCTAssertTrue(again.contains("U-Boot 20"), again)
        // Its own `reset` (SBI SRST, cold reboot) restarts it too.
        s.send("reset\r")
        try s.expect("resetting ...", timeout: 10)
        try s.expect("[rumkv: new instance]", timeout: 20)
        _ = try prompt(s, timeout: 60)
        // A crash: reading guest-physical 0 (nothing is mapped there) is a stage-2 fault; the
        // fault is recorded and restart = "on-crash" brings up a new instance.
        s.send("md.b 0x0 1\r")
        try s.expect("[rumkv: new instance]", timeout: 20)
        _ = try prompt(s, timeout: 60)
        s.send("\u{1D}")
        try s.expect("rumkv> ", timeout: 10)
        let crashed = try s.command("info uboot")
        XCTAssertTrue(crashed.contains("last fault: stage-2 fault (read)"), crashed)
        XCTAssertTrue(crashed.contains(" gpa 0x0000000000\n") || crashed.hasSuffix(" gpa 0x0000000000"), "at guest-physical 0:\n\(crashed)")
        XCTAssertEqual(try s.row("uboot").restarts, 3, "restart, reset and crash")
        XCTAssertEqual(try s.row("uboot").state, "running")
        XCTAssertEqual(try s.command("stop uboot"), "uboot: stopped")
        XCTAssertEqual(try s.row("uboot").state, "stopped")
        XCTAssertEqual(try s.command("start uboot"), "uboot: started")
        s.send("console uboot\r")
        _ = try prompt(s, timeout: 60)
        s.send("\u{1D}")
        try s.expect("rumkv> ", timeout: 10)
        // The Rumpk guests ran on throughout.
        _ = try s.waitFor("alpha") { $0.state == "running" }
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), beforeAlpha, "alpha keeps beating")
        XCTAssertGreaterThan(try s.lastHeartbeat("beta"), beforeBeta, "beta keeps beating")
        XCTAssertGreaterThanOrEqual(beforeAlpha, 0, "alpha printed heartbeats")
        XCTAssertFalse(s.transcript.contains("unexpected trap"), s.transcript)
    }
}
