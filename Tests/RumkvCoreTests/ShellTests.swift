// ShellTests: the rumkv> commands print exactly these lines on a fake console.
//
// `Shell<FakeArch>.execute` runs one line against a hand-built Platform; the
// console bytes are compared whole, CR LF line endings included. `shutdown` is
// only run with a stray argument (refused before it could power off).

import XCTest
import RumkvCore

final class ShellTests: XCTestCase {
    func run(_ line: String, _ platform: Platform = Platform()) -> String {
        FakeArch.capture {
            Array(line.utf8).withUnsafeBufferPointer { Shell<FakeArch>.execute($0, platform) }
        }
    }

    func lines(_ ls: String...) -> String { ls.map { $0 + "\r\n" }.joined() }

    /// RUM_ABI_REVISION from Shared/include/rumabi.h, the ABI's one home.
    func abiRevision() throws -> String {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Shared/include/rumabi.h")
        let text = try String(contentsOf: header, encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("#define RUM_ABI_REVISION") })
        return String(line.split(separator: " ").last!.filter(\.isNumber))
    }

    func testHelp() {
        XCTAssertEqual(run("help"), lines(
            "commands:",
            "  help       this list",
            "  version    hypervisor version, architecture and ABI revision",
            "  cpus       CPUs found and the boot CPU",
            "  mem        memory map: RAM, hypervisor image, reserved, free",
            "  shutdown   power the machine off",
            "keys: Backspace erases, Ctrl-U clears the line, Ctrl-C cancels it"))
    }

    func testVersion() throws {
        XCTAssertEqual(run("version"), lines("Rumkv \(RumkvVersion.string) arch fake abi \(try abiRevision())"))
        XCTAssertEqual(run("  version  "), run("version"))
    }

    func testCPUs() {
        var p = Platform()
        for id: UInt64 in [0, 1, 0x8000_0001] { p.addCPU(id) }
        p.bootCPU = 1
        XCTAssertEqual(run("cpus", p), lines(
            "cpus: 3 (boot cpu 1)",
            "  cpu 0  id 0x00000000",
            "  cpu 1  id 0x00000001  boot",
            "  cpu 2  id 0x80000001"))
    }

    func testManyCPUs() {
        var p = Platform()
        for id in 0..<UInt64(Platform.cpuIDCapacity + 2) { p.addCPU(id) }
        let out = run("cpus", p)
        XCTAssertTrue(out.hasPrefix("cpus: 18 (boot cpu 0)\r\n  cpu 0  id 0x00000000  boot\r\n"), out)
        XCTAssertTrue(out.hasSuffix("  cpu 15  id 0x0000000f\r\n  ... and 2 more\r\n"), out)
    }

    func testMem() {
        var p = Platform()
        p.memory.addRAM(PhysicalRange(base: 0x8000_0000, size: 256 << 20))
        p.memory.reserve(PhysicalRange(base: 0x8000_0000, size: 0x4_0000), .firmware)
        p.memory.reserve(PhysicalRange(base: 0x8020_0000, size: 0x20_0000), .hypervisor)
        XCTAssertEqual(run("mem", p), lines(
            "ram:      256 MiB in 1 range",
            "  0x000080000000-0x000090000000  ram         256 MiB",
            "  0x000080000000-0x000080040000  firmware    256 KiB",
            "  0x000080200000-0x000080400000  hypervisor  2 MiB",
            "  0x000080040000-0x000080200000  free        1.7 MiB",
            "  0x000080400000-0x000090000000  free        252 MiB",
            "free:     253.7 MiB"))
    }

    func testMemWithTwoRangesAndDroppedEntries() {
        var p = Platform()
        p.memory.addRAM(PhysicalRange(base: 0x4000_0000, size: 1 << 30))
        p.memory.addRAM(PhysicalRange(base: 0x1_0000_0000, size: 1 << 30))
        p.memory.addRAM(PhysicalRange(base: 0x4000_0000, size: 0x1000))      // overlaps: refused
        p.memory.reserve(PhysicalRange(base: 0, size: 0), .other)           // empty: refused
        XCTAssertEqual(run("mem", p), lines(
            "ram:      2 GiB in 2 ranges",
            "  0x000040000000-0x000080000000  ram         1 GiB",
            "  0x000100000000-0x000140000000  ram         1 GiB",
            "  0x000040000000-0x000080000000  free        1 GiB",
            "  0x000100000000-0x000140000000  free        1 GiB",
            "free:     2 GiB",
            "warning: 2 firmware ranges did not fit the table"))
    }

    func testUnknownCommand() {
        XCTAssertEqual(run("frobnicate"), lines("error: unknown command 'frobnicate' (type 'help' for the list)"))
        XCTAssertEqual(run("fo\u{1B}[2Jo now"), lines("error: unknown command 'fo?[2Jo' (type 'help' for the list)"),
                       "terminal escapes in input are not replayed")
        XCTAssertEqual(run("HELP"), lines("error: unknown command 'HELP' (type 'help' for the list)"))
    }

    func testArgumentsRefused() {
        for command in ["help", "version", "cpus", "mem", "shutdown"] {
            XCTAssertEqual(run("\(command) now"), lines("error: '\(command)' takes no arguments"), command)
        }
        XCTAssertEqual(run("mem a b c d e f g h i j k"), lines("error: 'mem' takes no arguments"))
    }

    func testBlankLinesPrintNothing() {
        XCTAssertEqual(run(""), "")
        XCTAssertEqual(run("     "), "")
    }
}
