// Support: shared helpers for emulator tests.
//
// Images are built once per architecture and variant per test process (the
// build goes through the same RumkvBuild code as `rumkv build`). Each test
// boots a fresh emulator through ConsoleSession and waits for the prompt; all
// waits have deadlines so a hang fails the test with the transcript.

import Foundation
import XCTest
import RumkvBuild

enum TestImages {
    nonisolated(unsafe) static var cache: [String: Images] = [:]
    static let lock = NSLock()

    static var root: URL {
        Builder.findRoot(from: URL(fileURLWithPath: #filePath))!
    }

    /// Builds (once) and returns the images for `arch`.
    static func images(_ arch: Arch, _ variant: Variant = .test) throws -> Images {
        lock.lock(); defer { lock.unlock() }
        let key = "\(arch.rawValue)-\(variant.rawValue)"
        if let i = cache[key] { return i }
        let i = try Builder(root: root).build(arch, variant: variant)
        cache[key] = i
        return i
    }
}

/// Skips the test (with the reason) if the arch's emulator is not installed.
func requireEmulator(_ arch: Arch) throws {
    do { _ = try Emulator.locate(arch) } catch { throw XCTSkip("\(error)") }
}

extension ConsoleSession {
    /// Boots the test images for `arch` and waits for the first prompt.
    static func bootToPrompt(_ arch: Arch, options: EmulatorOptions = EmulatorOptions(),
                             timeout: TimeInterval = 60) throws -> (ConsoleSession, String) {
        try requireEmulator(arch)
        let s = try ConsoleSession.boot(arch, try TestImages.images(arch), options: options)
        let banner = try s.expect("rumkv> ", timeout: timeout)
        return (s, banner)
    }
}
