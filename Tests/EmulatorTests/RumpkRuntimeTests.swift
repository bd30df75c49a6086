// RumpkRuntimeTests: Rumpk's fibers, ION rings and signed payloads under Rumkv on QEMU riscv64.
//
// The guests get payload stores from their configs: the demo payload
// `hello`, built and signed by the bundle writer, and payloads this test
// makes by hand in a temporary directory: `bad` (hello's signed image with
// one body byte flipped), `badelf` (hello with a segment moved outside the
// payload window, then properly signed) and `alien` (hello signed for
// aarch64). Each must be refused with its reason while hello still runs
// before and after them, again and again, and across a guest restart.

import Foundation
import XCTest
import RumkvBuild

final class RumpkRuntimeTests: XCTestCase {
    /// A verbose guest shows its fibers, runs hello twice through the ION rings; a quiet one prints only ready + payload output.
    func testFibersRunPayloadTwiceAndStayQuiet() throws {
        let (s, _) = try ConsoleSession.bootGuests("payloads")
        defer { s.terminate() }
        let log = try waitForBacklog(s, "runner", containing: "shell: 2 commands, 2 ran, 0 refused")
        for fiber in ["fiber 0 'heartbeat' started (class system)", "fiber 1 'exec' started (class system)",
                      "fiber 2 'shell' started (class interactive)", "fiber 3 'payload' started (class batch)"] {
            XCTAssertTrue(log.contains("rumpk[runner]: " + fiber), "\(fiber):\n\(log)")
        }
        XCTAssertTrue(log.contains("hello from payload 'hello' (run 1)\n"), log)
        XCTAssertTrue(log.contains("hello from payload 'hello' (run 2)\n"), log)
        XCTAssertTrue(log.contains("rumpk[runner]: exec 'hello' run 1 exited 0 (entry 0x0000000080100000"), log)
        XCTAssertTrue(log.contains("rumpk[runner]: exec 'hello' run 2 exited 0"), "run 2 ends through the exit service:\n\(log)")
        XCTAssertEqual(occurrences("rumpk[runner]: shell: 'hello' exited 0, id_lo 0x", in: log), 2, log)
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("runner"), 1, "the heartbeat fiber keeps running after the payloads")

        let quiet = try waitForBacklog(s, "quiet", containing: "hello from payload 'hello' (run 1)\n")
        let lines = guestLines(quiet)
        XCTAssertEqual(lines, ["rumpk[quiet]: ready (riscv64, abi \(abi), restarts 0)", "hello from payload 'hello' (run 1)"],
                       "silence: the ready line and the payload's own output only")

        // A restarted guest gets a fresh store and kernel: the runs count from 1 again.
        XCTAssertEqual(try s.command("restart runner"), "runner: restarted")
        let again = try waitForBacklog(s, "runner", containing: "rumpk[runner]: ready (riscv64, abi \(abi), restarts 1)") { log in
            occurrences("shell: 2 commands, 2 ran, 0 refused", in: log) == 2
        }
        let after = again.components(separatedBy: "[rumkv: new instance]").last ?? ""
        XCTAssertTrue(after.contains("hello from payload 'hello' (run 1)") && after.contains("(run 2)"), after)
    }

    /// Tampered, malformed and foreign payloads are refused with their reasons; hello runs around them.
    func testBadPayloadsAreRefusedWithTheirReasons() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumpk-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let payloads = try PayloadBuilder(root: TestImages.root)
        let elf = try Data(contentsOf: payloads.elf("hello", arch: .riscv64))

        var tampered = try payloads.sign(elf, arch: .riscv64)
        tampered[tampered.startIndex + 128 + 0x40] ^= 0x01          // one byte of the ELF body, after signing
        try tampered.write(to: dir.appendingPathComponent("bad.npl"))
        try payloads.sign(Self.movedOutOfWindow(elf), arch: .riscv64).write(to: dir.appendingPathComponent("badelf.npl"))
        try payloads.sign(elf, arch: .aarch64).write(to: dir.appendingPathComponent("alien.npl"))
        let config = dir.appendingPathComponent("refusals.toml")
        try """
            [partition]
            name = "refusals"
            arch = "riscv64"
            harts = 2

            [[guest]]
            name = "strict"
            image = "rumpk"
            memory = "4M"
            payloads = ["hello", "bad.npl", "badelf.npl", "alien.npl"]
            run = ["hello", "bad", "badelf", "alien", "hello"]
            """.write(to: config, atomically: true, encoding: .utf8)

        let s = try bootConfig(config)
        defer { s.terminate() }
        let log = try waitForBacklog(s, "strict", containing: "(run 2)\n")
        let lines = guestLines(log)
        XCTAssertEqual(lines, [
            "rumpk[strict]: ready (riscv64, abi \(abi), restarts 0)",
            "hello from payload 'hello' (run 1)",
            "rumpk: exec 'bad': bad signature",
            "rumpk: exec 'badelf': segment outside the payload window",
            "rumpk: exec 'alien': built for another architecture",
            "hello from payload 'hello' (run 2)",
        ])
        XCTAssertEqual(try s.row("strict").state, "running", "a refused payload does not hurt the guest")
    }

    // MARK: - Helpers

    /// Boots riscv64 with the guests of the config file at `url` and waits for the prompt.
    func bootConfig(_ url: URL) throws -> ConsoleSession {
        try requireEmulator(.riscv64)
        let images = try TestImages.images(.riscv64)
        var o = EmulatorOptions()
        o.smp = 2
        o.bundle = try Builder(root: TestImages.root).bundle(config: url, images: images, arch: .riscv64)
        let s = try ConsoleSession.boot(.riscv64, images, options: o)
        _ = try s.expect("rumkv> ", timeout: 60)
        return s
    }

    /// Polls `guest`'s backlog until it contains `text` (and `also` holds), or fails after `timeout`.
    func waitForBacklog(_ s: ConsoleSession, _ guest: String, containing text: String, timeout: TimeInterval = 30,
                        also: (String) -> Bool = { _ in true }) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            // The console's prompt can land in the middle of a guest line while we attach: drop it.
            let log = try s.backlog(guest).replacingOccurrences(of: "rumkv> ", with: "")
            if log.contains(text) && also(log) { return log }
            if Date() > deadline { throw BuildError("\(guest) never printed '\(text)'; backlog:\n\(log)") }
            usleep(500_000)
        }
    }

    /// The guest's own lines of a backlog: without the attach/detach markers and the console prompt.
    func guestLines(_ backlog: String) -> [String] {
        backlog.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("[") && !$0.hasPrefix("rumkv>") && !$0.isEmpty }
    }

    func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// `elf` with its first PT_LOAD's p_vaddr moved 2 MiB up, past the payload window.
    static func movedOutOfWindow(_ elf: Data) throws -> Data {
        var d = elf
        func le64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(d[d.startIndex + at + $1]) << (8 * $1) } }
        func put64(_ at: Int, _ v: UInt64) { for i in 0..<8 { d[d.startIndex + at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        let phoff = Int(le64(32))
        let phnum = Int(UInt16(d[d.startIndex + 56]) | UInt16(d[d.startIndex + 57]) << 8)
        for i in 0..<phnum where d[d.startIndex + phoff + 56 * i] == 1 {      // PT_LOAD
            put64(phoff + 56 * i + 16, le64(phoff + 56 * i + 16) + (2 << 20))
            return d
        }
        throw BuildError("hello.elf has no PT_LOAD")
    }
}
