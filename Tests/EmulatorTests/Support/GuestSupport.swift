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
}
