// ConsoleBehaviour: console checks that every architecture must pass.
//
// Each architecture's test class calls these against its own booted image, so
// the three ports are held to the same console contract.

import Foundation
import XCTest
import RumkvBuild

enum ConsoleBehaviour {
    /// Banner names the architecture, the extension, CPU and memory counts.
    static func checkBanner(_ banner: String, arch: String, extensionName: String, cpus: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(banner.contains("Rumkv 0.1.0 (\(arch))"), "banner names the arch:\n\(banner)", file: file, line: line)
        XCTAssertTrue(banner.contains("virtualization: \(extensionName)"), "banner names the extension:\n\(banner)", file: file, line: line)
        XCTAssertTrue(banner.contains("cpus: \(cpus) "), "banner counts CPUs:\n\(banner)", file: file, line: line)
        XCTAssertTrue(banner.range(of: #"memory: \d+"#, options: .regularExpression) != nil, "banner gives memory:\n\(banner)", file: file, line: line)
    }

    /// help, version, cpus, mem, errors, backspace, overlong lines.
    static func checkCommands(_ s: ConsoleSession, arch: String, cpus: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let help = try s.command("help")
        for c in ["help", "version", "cpus", "mem", "shutdown"] {
            XCTAssertTrue(help.contains("  \(c) "), "help lists \(c):\n\(help)", file: file, line: line)
        }
        let version = try s.command("version")
        XCTAssertTrue(version.contains("Rumkv 0.1.0 arch \(arch) abi \(abi)"), version, file: file, line: line)

        let cpuList = try s.command("cpus")
        XCTAssertTrue(cpuList.contains("cpus: \(cpus) "), cpuList, file: file, line: line)
        XCTAssertEqual(cpuList.components(separatedBy: "\n").filter { $0.hasPrefix("  cpu ") }.count, cpus, cpuList, file: file, line: line)

        let mem = try s.command("mem")
        XCTAssertTrue(mem.contains("ram:"), mem, file: file, line: line)
        XCTAssertTrue(mem.contains("hypervisor"), "mem shows the hypervisor image:\n\(mem)", file: file, line: line)
        XCTAssertTrue(mem.contains("free:"), mem, file: file, line: line)

        XCTAssertEqual(try s.command("frobnicate"), "error: unknown command 'frobnicate' (type 'help' for the list)", file: file, line: line)
        XCTAssertEqual(try s.command("cpus now"), "error: 'cpus' takes no arguments", file: file, line: line)
        XCTAssertEqual(try s.command(""), "", file: file, line: line)

        // Backspace: "versiox" + BS + "n" runs `version`.
        let edited = try s.command("versiox\u{7f}n")
        XCTAssertTrue(edited.contains("Rumkv 0.1.0 arch"), "backspace edits the line:\n\(edited)", file: file, line: line)

        // An overlong line is rejected whole, and the console still works after it.
        let long = try s.command(String(repeating: "x", count: 200), timeout: 20)
        XCTAssertTrue(long.contains("error: line too long (at most 120 characters); line discarded"), long, file: file, line: line)
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0"), file: file, line: line)
    }

    /// `shutdown` powers the emulator off.
    static func checkShutdown(_ s: ConsoleSession, file: StaticString = #filePath, line: UInt = #line) throws {
        s.send("shutdown\r")
        try s.expect("rumkv: powering off", timeout: 10)
        XCTAssertTrue(s.waitForExit(timeout: 20), "emulator exits after shutdown", file: file, line: line)
    }

    /// The test-build `trap` command ends in a register dump and a halt.
    static func checkTrap(_ s: ConsoleSession, expectCause: String, file: StaticString = #filePath, line: UInt = #line) throws {
        s.send("trap\r")
        let dump = try s.expect("system halted", timeout: 15)
        XCTAssertTrue(dump.contains("rumkv: unexpected trap: \(expectCause)"), dump, file: file, line: line)
        XCTAssertTrue(s.waitForExit(timeout: 20), "emulator exits after the fatal trap", file: file, line: line)
    }
}
