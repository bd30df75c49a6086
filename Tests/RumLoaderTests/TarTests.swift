// TarTests: the ustar reader walks good archives and refuses malformed headers.
//
// Archives come from RumkvBuild's PayloadStore.ustar (what bundles carry)
// and, as an independent writer, from the system's tar in ustar format;
// each refusal test corrupts one header field of a good archive.

import Foundation
import XCTest
import RumLoader
import RumkvBuild

final class TarTests: XCTestCase {
    let members: [PayloadStore.Member] = [
        .init(name: "hello.npl", data: Data((0..<700).map { UInt8(truncatingIfNeeded: $0) })),
        .init(name: "empty.npl", data: Data()),
        .init(name: "autorun", data: Data("hello\nhello\n".utf8)),
    ]

    func names(_ archive: [UInt8]) throws -> [(String, [UInt8])] {
        try archive.withUnsafeBytes { b in
            let tar = TarArchive(b)
            var out: [(String, [UInt8])] = []
            var cursor = 0
            while let m = try tar.next(&cursor) {
                out.append((String(decoding: tar.slice(m.name), as: UTF8.self), Array(tar.slice(m.data))))
            }
            return out
        }
    }

    func assertRefused(_ archive: [UInt8], _ expected: TarError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try names(archive), file: file, line: line) {
            XCTAssertEqual($0 as? TarError, expected, file: file, line: line)
        }
    }

    func testReadsWhatTheBundleWriterWrites() throws {
        let archive = [UInt8](PayloadStore.ustar(members))
        XCTAssertEqual(archive.count % 4096, 0)
        let read = try names(archive)
        XCTAssertEqual(read.map(\.0), ["hello.npl", "empty.npl", "autorun"])
        XCTAssertEqual(read.map { Data($0.1) }, members.map(\.data))
        XCTAssertEqual(try PayloadStore.members(Data(archive)), members, "the host-side reader agrees")
        try archive.withUnsafeBytes { b in
            let tar = TarArchive(b)
            let found = try "autorun".utf8.withContiguousStorageIfAvailable { try tar.find(UnsafeRawBufferPointer($0)) }
            XCTAssertEqual(found??.data.count, 12)
            XCTAssertNil(try Array("nothing".utf8).withUnsafeBytes { try tar.find($0) })
        }
    }

    func testEndsWithoutZeroBlocksAndOnAnEmptyArchive() throws {
        let archive = [UInt8](PayloadStore.ustar(members))
        let firstEnd = 512 + 1024                                   // header + 700 bytes padded
        XCTAssertEqual(try names(Array(archive.prefix(firstEnd))).map(\.0), ["hello.npl"])
        XCTAssertEqual(try names([]).count, 0)
        XCTAssertEqual(try names([UInt8](repeating: 0, count: 1024)).count, 0)
    }

    func testAgreesWithSystemTar() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") || FileManager.default.isExecutableFile(atPath: "/bin/tar") else {
            throw XCTSkip("no tar on this machine")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumloader-tar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for m in members { try m.data.write(to: dir.appendingPathComponent(m.name)) }
        // System tar reads ours...
        let ours = dir.appendingPathComponent("ours.tar")
        try PayloadStore.ustar(members).write(to: ours)
        let listed = try run("/usr/bin/env", ["tar", "-tf", ours.path])
        XCTAssertEqual(listed.split(separator: "\n").map(String.init), members.map(\.name))
        // ...and we read the system's.
        let theirs = dir.appendingPathComponent("theirs.tar")
        try run("/usr/bin/env", ["tar", "--format=ustar", "-cf", theirs.path, "-C", dir.path] + members.map(\.name))
        let read = try names([UInt8](Data(contentsOf: theirs)))
        XCTAssertEqual(read.map(\.0), members.map(\.name))
        XCTAssertEqual(read.map { Data($0.1) }, members.map(\.data))
    }

    func testMalformedHeaders() {
        let good = [UInt8](PayloadStore.ustar(members))
        func patched(_ at: Int, _ bytes: [UInt8], fixSum: Bool = true) -> [UInt8] {
            var c = good
            for (i, b) in bytes.enumerated() { c[at + i] = b }
            if fixSum { Self.fixChecksum(&c, header: at / 512 * 512) }
            return c
        }
        assertRefused(Array(good.prefix(300)), .truncatedHeader(offset: 0))
        assertRefused(patched(257, Array("gnu  ".utf8)), .badMagic(offset: 0))
        assertRefused(patched(0, [0x41], fixSum: false), .badChecksum(offset: 0))
        assertRefused(patched(148, Array("0x1234\0 ".utf8), fixSum: false), .badNumber(offset: 0))
        assertRefused(patched(124, Array("0000000009\0".utf8)), .badNumber(offset: 0))
        assertRefused(patched(124, [0x20, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), .badNumber(offset: 0))
        assertRefused(patched(124, Array("77777777777\0".utf8)), .sizePastEnd(offset: 0))       // 8 GiB
        assertRefused(patched(124, Array("00000010000\0".utf8)), .sizePastEnd(offset: 0))       // 4 KiB past a 4 KiB archive's data
        assertRefused(patched(0, [0]), .badName(offset: 0))
        assertRefused(patched(345, Array("dir".utf8)), .badName(offset: 0))
        assertRefused(patched(156, [UInt8(ascii: "2")]), .unsupportedType(offset: 0, type: UInt8(ascii: "2")))
        assertRefused(patched(156, [UInt8(ascii: "x")]), .unsupportedType(offset: 0, type: UInt8(ascii: "x")))
        // The second member (at 512 + 1024) is checked too.
        assertRefused(patched(1536 + 148, Array("1".utf8), fixSum: false), .badChecksum(offset: 1536))
        // A directory member is walked over.
        XCTAssertEqual(try names(patched(1536 + 156, [UInt8(ascii: "5")])).count, 3)
    }

    /// Recomputes the checksum of the header at `header`.
    static func fixChecksum(_ b: inout [UInt8], header: Int) {
        for i in 148..<156 { b[header + i] = 0x20 }
        let sum = b[header ..< header + 512].reduce(0) { $0 + Int($1) }
        let text = Array(String(sum, radix: 8).utf8)
        for i in 0..<6 { b[header + 148 + i] = i < 6 - text.count ? 0x30 : text[i - (6 - text.count)] }
        b[header + 154] = 0
        b[header + 155] = 0x20
    }

    @discardableResult
    func run(_ program: String, _ args: [String]) throws -> String { try RumkvBuild.run(program, args) }
}
