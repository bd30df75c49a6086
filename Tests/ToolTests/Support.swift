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

/// A minimal ELF64 executable for `machine` with one PT_LOAD of `payload` bytes.
func minimalELF(machine: UInt16 = 0xF3, payload: Int = 16, fileSizeClaim: UInt64? = nil,
                phnum: UInt16 = 1, type: UInt16 = 2, elfClass: UInt8 = 2) -> Data {
    var b = [UInt8](repeating: 0, count: 64 + 56 + payload)
    func put(_ v: UInt64, _ at: Int, _ n: Int) { for i in 0..<n { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    b[0] = 0x7F; b[1] = 0x45; b[2] = 0x4C; b[3] = 0x46; b[4] = elfClass; b[5] = 1; b[6] = 1
    put(UInt64(type), 16, 2); put(UInt64(machine), 18, 2); put(1, 20, 4)
    put(0x8000_0000, 24, 8); put(64, 32, 8)                  // entry, phoff
    put(64, 52, 2); put(56, 54, 2); put(UInt64(phnum), 56, 2)
    put(1, 64, 4); put(5, 68, 4); put(120, 72, 8)             // PT_LOAD R+X at file offset 120
    put(0x8000_0000, 80, 8); put(0x8000_0000, 88, 8)          // vaddr, paddr
    put(fileSizeClaim ?? UInt64(payload), 96, 8); put(UInt64(payload), 104, 8)
    return Data(b)
}
