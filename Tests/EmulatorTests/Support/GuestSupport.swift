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
    /// `harts`: the partition's hart count instead of the config's `harts = 2`.
    static func url(_ name: String, arch: Arch, harts: Int? = nil) throws -> URL {
        let original = url(name)
        guard arch != .riscv64 || harts != nil else { return original }
        let text = try String(contentsOf: original, encoding: .utf8)
        var retargeted = text.replacingOccurrences(of: "arch = \"riscv64\"", with: "arch = \"\(arch.rawValue)\"")
        if let h = harts {
            XCTAssertTrue(retargeted.contains("\nharts = 2\n"), "\(name) has a 'harts = 2' line to change")
            retargeted = retargeted.replacingOccurrences(of: "\nharts = 2\n", with: "\nharts = \(h)\n")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-configs-\(arch.rawValue)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let copy = dir.appendingPathComponent(harts.map { "\(name)-\($0)" } ?? name).appendingPathExtension("toml")
        try retargeted.write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }
}

extension ConsoleSession {
    /// Boots `arch` (riscv64 by default) with the guests (and QEMU devices) of config `name` and waits for the prompt.
    static func bootGuests(_ name: String, arch: Arch = .riscv64, smp: Int = 2, cpu: String? = nil, harts: Int? = nil,
                           extra: [String] = [], timeout: TimeInterval = 60) throws -> (ConsoleSession, String) {
        try requireEmulator(arch)
        let images = try TestImages.images(arch)
        var o = EmulatorOptions()
        o.smp = smp
        o.cpu = cpu
        let prepared = try Builder(root: TestImages.root).prepareBundle(config: TestConfigs.url(name, arch: arch, harts: harts),
                                                                        images: images, arch: arch)
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments + extra   // the config's QEMU devices, then the caller's
        let s = try ConsoleSession.boot(arch, images, options: o)
        let banner = try s.expect("rumkv> ", timeout: timeout)
        return (s, banner)
    }
}
