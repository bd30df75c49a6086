// BundleTests: config + images -> bundle -> parse gives back the same guests and bytes.
//
// Images are small fake files (raw binaries are taken as they are); ELF
// handling is checked with a stand-in objcopy script and, when the Swift
// toolchain is present, against real llvm-objcopy output.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class BundleTests: XCTestCase {
    func write(_ data: Data, _ path: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url
    }

    func testRoundTrip() throws {
        let dir = try temporaryDirectory(self)
        let a = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) })
        let b = Data([0x42])
        let r = Data(repeating: 0x5A, count: 4096)
        _ = try write(a, "a.bin", in: dir)
        _ = try write(b, "sub/b.img", in: dir)
        let rumpk = try write(r, "build/rumpk.bin", in: dir)
        let config = try parseConfig(partitionHead
            + "[[guest]]\nname = \"a\"\nimage = \"a.bin\"\nmemory = \"4M\"\nvcpus = 2\nharts = [0]\nverbose = true\nrestart = \"never\"\n"
            + "[[guest]]\nname = \"b\"\nimage = \"sub/b.img\"\nmemory = \"2M\"\nharts = [0]\nautostart = false\ntest_payload = \"spin-forever\"\n"
            + "[[guest]]\nname = \"rt\"\nimage = \"rumpk\"\nmemory = \"1G\"\nharts = [1]\npinned = true\nrestart = \"always\"\n")
        let data = try BundleWriter.make(config, configDirectory: dir, rumpkImage: rumpk, objcopy: "/nonexistent")
        let (h, guests) = try BundleWriter.parse(data)

        XCTAssertEqual(h.magic, RUM_BUNDLE_MAGIC)
        XCTAssertEqual(h.revision, UInt16(RUM_ABI_REVISION))
        XCTAssertEqual(h.header_size, 32)
        XCTAssertEqual(h.guest_entry_size, 120)
        XCTAssertEqual(h.guest_count, 3)
        XCTAssertEqual(Int(h.total_size), data.count)
        XCTAssertEqual(data.count % 4096, 0)
        XCTAssertEqual(guests.map(\.image_offset), [0x1000, 0x3000, 0x4000])
        XCTAssertEqual(h.total_size, 0x5000)
        for (g, image) in zip(guests, [a, b, r]) {
            XCTAssertEqual(g.image_offset % 4096, 0)
            XCTAssertEqual(Int(g.image_size), image.count)
            XCTAssertEqual(data[Int(g.image_offset)..<Int(g.image_offset) + image.count], image, "image bytes are copied exactly")
        }
        XCTAssertTrue(data[(32 + 3 * 120)..<0x1000].allSatisfy { $0 == 0 }, "padding after the entries is zero")
        XCTAssertTrue(data[(0x1000 + 5000)..<0x3000].allSatisfy { $0 == 0 }, "padding between images is zero")

        XCTAssertEqual(guests.map { BundleWriter.name(of: $0) }, ["a", "b", "rt"])
        XCTAssertEqual(guests.map(\.memory_size), [4 << 20, 2 << 20, 1 << 30])
        XCTAssertEqual(guests.map(\.cpu_mask), [0b01, 0b01, 0b10])
        XCTAssertEqual(guests.map(\.vcpus), [2, 1, 1])
        XCTAssertEqual(guests.map(\.flags), [RUM_GUEST_F_AUTOSTART | RUM_GUEST_F_VERBOSE, RUM_GUEST_F_TEST,
                                             RUM_GUEST_F_AUTOSTART | RUM_GUEST_F_PINNED])
        XCTAssertEqual(guests.map(\.restart_policy), [RUM_RESTART_NEVER, RUM_RESTART_ON_CRASH, RUM_RESTART_ALWAYS])
        XCTAssertEqual(guests.map(\.payload), [0, 6, 0])
        XCTAssertTrue(guests.allSatisfy { $0.reserved == 0 && $0.store_offset == 0 && $0.store_size == 0 })
        // The entry bytes are the C struct's bytes.
        XCTAssertEqual(data[32..<152], withUnsafeBytes(of: guests[0]) { Data($0) })
    }

    func testExampleConfigsMakeValidBundles() throws {
        let dir = try temporaryDirectory(self)
        let rumpk = try write(Data(repeating: 0x13, count: 300), "rumpk.bin", in: dir)
        for name in ["three-guests", "pinned"] {
            let url = repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/\(name).toml")
            let config = try PartitionConfig.load(url)
            let data = try BundleWriter.make(config, configDirectory: url.deletingLastPathComponent(),
                                             rumpkImage: rumpk, objcopy: "/nonexistent")
            let (h, guests) = try BundleWriter.parse(data)
            XCTAssertEqual(Int(h.guest_count), 3, name)
            XCTAssertEqual(guests.map { BundleWriter.name(of: $0) }, config.guests.map(\.name))
        }
    }

    /// A 64-byte stand-in ELF header for `machine` (enough for the magic and e_machine checks).
    func testELFImagesGoThroughObjcopyOnce() throws {
        let dir = try temporaryDirectory(self)
        let elf = try write(minimalELF(machine: 0xF3), "rumpk.elf", in: dir)
        let log = dir.appendingPathComponent("objcopy.log")
        let script = try write(Data("#!/bin/sh\necho \"$@\" >> '\(log.path)'\nprintf FLAT-IMAGE > \"$4\"\n".utf8), "objcopy", in: dir)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let config = try parseConfig(partitionHead + guest("a") + guest("b"))
        let data = try BundleWriter.make(config, configDirectory: dir, rumpkImage: elf, objcopy: script.path)
        let (_, guests) = try BundleWriter.parse(data)
        for g in guests {
            XCTAssertEqual(data[Int(g.image_offset)..<Int(g.image_offset + g.image_size)], Data("FLAT-IMAGE".utf8))
        }
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(calls.count, 1, "the shared rumpk image is converted once")
        XCTAssertTrue(calls[0].hasPrefix("-O binary \(elf.path) "))
    }

    func testELFForAnotherMachineIsRejected() throws {
        let dir = try temporaryDirectory(self)
        let elf = try write(minimalELF(machine: 0x3E), "x86.elf", in: dir)
        let config = try parseConfig(partitionHead + guest("a"))
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir, rumpkImage: elf, objcopy: "/bin/true")) {
            XCTAssertEqual("\($0)", "p.toml:7: guest 'a': field 'image': \(elf.path) is an ELF file for machine 62, not for riscv64 (e_machine 243)")
        }
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir,
                                                   rumpkImage: try write(minimalELF(machine: 0xF3), "rv.elf", in: dir),
                                                   objcopy: "/nonexistent/llvm-objcopy")) {
            XCTAssertTrue("\($0)".hasSuffix("flattening it needs llvm-objcopy, not found at /nonexistent/llvm-objcopy"), "\($0)")
        }
    }

    func testRealObjcopyOutputIsEmbeddedByteForByte() throws {
        guard let tc = try? Toolchain.locate(), FileManager.default.isExecutableFile(atPath: tc.tool("llvm-objcopy")) else {
            throw XCTSkip("no Swift toolchain with llvm-objcopy")
        }
        let dir = try temporaryDirectory(self)
        let asm = try write(Data("""
            .section .text
            .globl _start
            _start: .word 0x11223344, 0x55667788
            .section .data
            .word 0xdeadbeef
            """.utf8), "g.s", in: dir)
        let elf = dir.appendingPathComponent("g.elf"), flat = dir.appendingPathComponent("g.flat")
        try RumkvBuild.run(tc.tool("clang"), ["--target=riscv64-none-elf", "-nostdlib", "-fuse-ld=lld", "-Wl,-Ttext=0x80000000",
                                   asm.path, "-o", elf.path])
        try RumkvBuild.run(tc.tool("llvm-objcopy"), ["-O", "binary", elf.path, flat.path])
        let config = try parseConfig(partitionHead + guest("a"))
        let data = try BundleWriter.make(config, configDirectory: dir, rumpkImage: elf, objcopy: tc.tool("llvm-objcopy"))
        let g = try BundleWriter.parse(data).guests[0]
        let expected = try Data(contentsOf: flat)
        XCTAssertFalse(expected.starts(with: [0x7F, 0x45, 0x4C, 0x46]))
        XCTAssertEqual(data[Int(g.image_offset)..<Int(g.image_offset + g.image_size)], expected)
    }

    func testImageProblemsNameTheGuestAndField() throws {
        let dir = try temporaryDirectory(self)
        let config = try parseConfig(partitionHead + "[[guest]]\nname = \"a\"\nimage = \"a.bin\"\nmemory = \"2M\"\n")
        let none = dir.appendingPathComponent("none")
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir, rumpkImage: none, objcopy: "")) {
            XCTAssertTrue("\($0)".hasPrefix("p.toml:7: guest 'a': field 'image': cannot read \(dir.path)/a.bin"), "\($0)")
        }
        _ = try write(Data(), "a.bin", in: dir)
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir, rumpkImage: none, objcopy: "")) {
            XCTAssertEqual("\($0)", "p.toml:7: guest 'a': field 'image': \(dir.path)/a.bin is empty")
        }
        _ = try write(Data(count: (2 << 20) + 1), "a.bin", in: dir)
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir, rumpkImage: none, objcopy: "")) {
            XCTAssertEqual("\($0)", "p.toml:7: guest 'a': field 'image': the image is 2097153 bytes, more than the guest's memory (2 MiB)")
        }
    }
}
