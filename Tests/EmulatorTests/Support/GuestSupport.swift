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
}

extension ConsoleSession {
    /// Boots riscv64 with the guests (and QEMU devices) of config `name` and waits for the prompt.
    static func bootGuests(_ name: String, smp: Int = 2, extra: [String] = [],
                           timeout: TimeInterval = 60) throws -> (ConsoleSession, String) {
        try requireEmulator(.riscv64)
        let images = try TestImages.images(.riscv64)
        var o = EmulatorOptions()
        o.smp = smp
        let prepared = try Builder(root: TestImages.root).prepareBundle(config: TestConfigs.url(name), images: images, arch: .riscv64)
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments + extra   // the config's QEMU devices, then the caller's
        let s = try ConsoleSession.boot(.riscv64, images, options: o)
        let banner = try s.expect("rumkv> ", timeout: timeout)
        return (s, banner)
    }
}
