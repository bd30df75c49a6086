// Support: helpers shared by the tool tests (configs from text, temp files, byte patches).
//
// Configs are parsed from inline text under the file name "p.toml" so that
// expected messages read exactly as a user would see them; files are written
// to a fresh temporary directory per test.

import Foundation
import XCTest
@testable import RumkvBuild

/// The repository root, found from this source file.
let repoRoot = Builder.findRoot(from: URL(fileURLWithPath: #filePath))!

/// A minimal valid [partition] header (2 harts) to put guests under.
let partitionHead = """
    [partition]
    name = "p"
    arch = "riscv64"
    harts = 2

    """

/// One guest table with the required fields and any `extra` lines.
func guest(_ name: String, _ extra: String = "", memory: String = "\"4M\"") -> String {
    "[[guest]]\nname = \"\(name)\"\nimage = \"rumpk\"\nmemory = \(memory)\n" + (extra.isEmpty ? "" : extra + "\n")
}

/// The messages `text` fails with, or [] if it is valid.
func configErrors(_ text: String, file: String = "p.toml") -> [String] {
    do { _ = try PartitionConfig.parse(text: text, fileName: file); return [] } catch let e as ConfigError {
        return e.messages
    } catch { return ["unexpected error \(error)"] }
}

func parseConfig(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> PartitionConfig {
    do { return try PartitionConfig.parse(text: text, fileName: "p.toml") } catch {
        XCTFail("config rejected: \(error)", file: file, line: line)
        throw error
    }
}

/// A fresh directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-tooltests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

extension Data {
    mutating func patch<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
    }
    func le<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(self[startIndex + offset + $1]) << (8 * $1) }
    }
}
