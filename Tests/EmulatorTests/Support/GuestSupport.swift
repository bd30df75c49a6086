// GuestSupport: booting Rumkv with a partition of guests, and reading them.
//
// Builds the bundle for a test config (Tests/EmulatorTests/configs) with the
// same code as `rumkv bundle`, boots it, and offers helpers that read a
// guest's console backlog and its `list` / `info` lines.

import Foundation
import XCTest
import RumkvBuild

enum TestConfigs {
    static func url(_ name: String) -> URL {
        let local = TestImages.root.appendingPathComponent("Tests/EmulatorTests/configs/\(name).toml")
        if FileManager.default.fileExists(atPath: local.path) { return local }
        return TestImages.root.appendingPathComponent("configs/qemu-riscv64-virt/\(name).toml")
    }

    /// Config `name` for `arch`: the riscv64 test configs describe partitions
    /// that are the same on every architecture but for their `arch` line, so
    /// for another architecture a copy with that line changed is written to a
    /// temporary directory (the test configs name no files relative to themselves).
    static func url(_ name: String, arch: Arch) throws -> URL {
        let original = url(name)
        guard arch != .riscv64 else { return original }
        let text = try String(contentsOf: original, encoding: .utf8)
        let retargeted = text.replacingOccurrences(of: "arch = \"riscv64\"", with: "arch = \"\(arch.rawValue)\"")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-configs-\(arch.rawValue)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let copy = dir.appendingPathComponent("\(name).toml")
        try retargeted.write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }
}

extension ConsoleSession {
    /// Boots `arch` (riscv64 by default) with the guests (and QEMU devices) of config `name` and waits for the prompt.
    static func bootGuests(_ name: String, arch: Arch = .riscv64, smp: Int = 2, extra: [String] = [],
                           timeout: TimeInterval = 60) throws -> (ConsoleSession, String) {
        try requireEmulator(arch)
        let images = try TestImages.images(arch)
        var o = EmulatorOptions()
        o.smp = smp
        let prepared = try Builder(root: TestImages.root).prepareBundle(config: TestConfigs.url(name, arch: arch),
                                                                        images: images, arch: arch)
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments + extra   // the config's QEMU devices, then the caller's
        let s = try ConsoleSession.boot(arch, images, options: o)
        let banner = try s.expect("rumkv> ", timeout: timeout)
        return (s, banner)
    }

    /// The guest's console backlog, read by attaching and detaching.
    func backlog(_ guest: String) throws -> String {
        send("console \(guest)\r")
        try expect("Ctrl-] returns to rumkv>]", timeout: 10)
        usleep(300_000)
        send("\u{1D}")
        let text = try expect("[detached]", timeout: 10)
        try expect("rumkv> ", timeout: 5)
        // "\r\n" is one Character in Swift: drop the CRs so lines split on "\n".
        return text.replacingOccurrences(of: "\r", with: "")
    }

    /// Highest heartbeat number in a guest's backlog, or -1 if none.
    func lastHeartbeat(_ guest: String) throws -> Int {
        let text = try backlog(guest)
        var best = -1
        for line in text.components(separatedBy: "\n") {
            if let r = line.range(of: "rumpk[\(guest)]: heartbeat ") {
                let digits = line[r.upperBound...].prefix { $0.isNumber }
                if let n = Int(digits) { best = max(best, n) }
            }
        }
        return best
    }

    /// The `list` row of `guest`.
    func row(_ guest: String) throws -> ConsoleParser.GuestRow {
        let rows = ConsoleParser.guests(try command("list"))
        guard let r = rows.first(where: { $0.name == guest }) else {
            throw BuildError("no row for \(guest) in list; transcript:\n\(transcript)")
        }
        return r
    }

    /// Polls `list` until `guest` satisfies `condition` or the timeout passes.
    func waitFor(_ guest: String, timeout: TimeInterval = 20, _ condition: (ConsoleParser.GuestRow) -> Bool) throws -> ConsoleParser.GuestRow {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try row(guest)
            if condition(r) { return r }
            if Date() > deadline { throw BuildError("timed out waiting on \(guest): last row \(r)") }
            usleep(300_000)
        }
    }

    /// Free pages reported by `stats` ("free memory ... (N pages; M at boot)").
    func freePages() throws -> (now: Int, boot: Int) {
        let s = try command("stats")
        guard let line = s.components(separatedBy: "\n").first(where: { $0.hasPrefix("free memory") }),
              let open = line.firstIndex(of: "(") else { throw BuildError("no free memory line in:\n\(s)") }
        let nums = line[open...].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard nums.count >= 2 else { throw BuildError("cannot parse \(line)") }
        return (nums[0], nums[1])
    }
}
