// PayloadStoreTests: the ustar payload store and its place in the bundle.
//
// The archive's header bytes are checked at their ustar offsets; a bundle
// with payloads puts each guest's store after its image, 4 KiB aligned, and
// `parse` refuses stores that are misplaced, overlap an image or reach into
// the payload window.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class PayloadStoreTests: XCTestCase {
    func testUstarHeaderBytes() throws {
        let archive = PayloadStore.ustar([.init(name: "hello.npl", data: Data(repeating: 7, count: 1000))])
        XCTAssertEqual(archive.count, 4096, "header, 1000 bytes padded to 1024, two zero blocks, padded to 4 KiB")
        let b = [UInt8](archive)
        XCTAssertEqual(String(decoding: b[0..<9], as: UTF8.self), "hello.npl")
        XCTAssertEqual(String(decoding: b[100..<107], as: UTF8.self), "0000644")
        XCTAssertEqual(String(decoding: b[124..<135], as: UTF8.self), "00000001750")    // 1000 in octal
        XCTAssertEqual(b[156], UInt8(ascii: "0"))
        XCTAssertEqual(Array(b[257..<265]), Array("ustar\u{0}00".utf8))
        var sum = 0
        for i in 0..<512 { sum += (148..<156).contains(i) ? 0x20 : Int(b[i]) }
        XCTAssertEqual(String(decoding: b[148..<154], as: UTF8.self), String(format: "%06o", sum))
        XCTAssertEqual(Array(b[154..<156]), [0, 0x20])
        XCTAssertTrue(b[512 + 1000 ..< 4096].allSatisfy { $0 == 0 })
        XCTAssertEqual(try PayloadStore.members(archive), [.init(name: "hello.npl", data: Data(repeating: 7, count: 1000))])
    }

    func testBundleCarriesEachGuestsStore() throws {
        let dir = try temporaryDirectory(self)
        let npl = Data((0..<300).map { UInt8(truncatingIfNeeded: $0) })
        try npl.write(to: dir.appendingPathComponent("x.npl"))
        let rumpk = dir.appendingPathComponent("rumpk.bin")
        try Data(repeating: 0x13, count: 5000).write(to: rumpk)
        let config = try parseConfig(partitionHead
            + guest("a", "payloads = [\"x.npl\"]\nrun = [\"x\", \"x\"]") + guest("b") + guest("c", "payloads = [\"x.npl\"]", memory: "\"2M\""))
        let data = try BundleWriter.make(config, configDirectory: dir, rumpkImage: rumpk, objcopy: "/nonexistent",
                                         payloads: try PayloadBuilder(root: repoRoot))
        let (_, guests) = try BundleWriter.parse(data)
        XCTAssertEqual(guests.map(\.image_offset), [0x1000, 0x4000, 0x6000])
        XCTAssertEqual(guests.map(\.store_offset), [0x3000, 0, 0x8000], "a store follows its guest's image")
        XCTAssertEqual(guests.map(\.store_size), [4096, 0, 4096])
        let store = data[0x3000 ..< 0x4000]
        XCTAssertEqual(try PayloadStore.members(Data(store)), [.init(name: "x.npl", data: npl),
                                                                .init(name: "autorun", data: Data("x\nx\n".utf8))])
        XCTAssertEqual(try PayloadStore.members(Data(data[0x8000 ..< 0x9000])).map(\.name), ["x.npl", "autorun"])
    }

    func testElfPayloadFilesAreSignedAndNplFilesKept() throws {
        let dir = try temporaryDirectory(self)
        let elf = Data([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 1, count: 60))
        try elf.write(to: dir.appendingPathComponent("tool.elf"))
        let payloads = try PayloadBuilder(root: repoRoot)
        var g = GuestConfig(name: "a", image: .rumpk, memory: 4 << 20)
        g.payloads = [PayloadRef(name: "tool", source: .file("tool.elf"))]
        g.run = []
        let store = try XCTUnwrap(try payloads.store(for: g, arch: .aarch64, configDirectory: dir))
        let members = try PayloadStore.members(store)
        XCTAssertEqual(members.map(\.name), ["tool.npl"], "an empty run list writes no autorun member")
        let image = [UInt8](members[0].data)
        XCTAssertEqual(Array(image[0..<4]), [0x7F, 0x4E, 0x50, 0x4C])
        XCTAssertEqual(image[5], UInt8(RUM_NPL_ARCH_ARM64))
        XCTAssertEqual(image[6], UInt8(RUM_NPL_F_ELF))
        XCTAssertEqual(Data(image[128...]), elf)
        XCTAssertFalse(image[8..<72].allSatisfy { $0 == 0 }, "signed")
    }

    func testStoreThatReachesThePayloadWindowIsRefused() throws {
        let dir = try temporaryDirectory(self)
        try Data(count: 1 << 20).write(to: dir.appendingPathComponent("big.npl"))
        let rumpk = dir.appendingPathComponent("rumpk.bin")
        try Data(repeating: 0x13, count: 100).write(to: rumpk)
        let config = try parseConfig(partitionHead + guest("a", "payloads = [\"big.npl\"]", memory: "\"2M\""))
        XCTAssertThrowsError(try BundleWriter.make(config, configDirectory: dir, rumpkImage: rumpk, objcopy: "/nonexistent",
                                                   payloads: try PayloadBuilder(root: repoRoot))) {
            XCTAssertTrue("\($0)".hasPrefix("p.toml:9: guest 'a': field 'payloads': the payload store is 1052672 bytes"), "\($0)")
        }
    }

    func testParseRefusesBadStores() throws {
        var a = GuestConfig(name: "a", image: .rumpk, memory: 4 << 20)
        a.harts = [0]
        let good = try BundleWriter.assemble([a, a.renamed("b")], [Data(count: 100), Data(count: 100)],
                                             stores: [Data(count: 4096), nil])
        XCTAssertNoThrow(try BundleWriter.parse(good))
        func entry(_ i: Int, _ field: Int) -> Int { 32 + 120 * i + field }
        func refused(_ d: Data, _ message: String, line: UInt = #line) {
            XCTAssertThrowsError(try BundleWriter.parse(d), line: line) { XCTAssertEqual("\($0)", message, line: line) }
        }
        var d = good; d.patch(entry(0, 0x38), UInt32(0x2100))
        refused(d, "guest 0 ('a'): payload store offset 0x2100 is not 4 KiB aligned")
        d = good; d.patch(entry(0, 0x38), UInt32(0x4000)); d.patch(entry(0, 0x3C), UInt32(0x2000))
        refused(d, "guest 0 ('a'): payload store 0x4000..0x6000 runs past the end of the bundle (16384 bytes)")
        d = good; d.patch(entry(0, 0x38), UInt32(0x3000))
        refused(d, "guest 0 ('a'): payload store overlaps the image of guest 1 ('b')")
        d = good; d.patch(entry(0, 0x3C), UInt32(0))
        refused(d, "guest 0 ('a'): payload store offset and size must both be zero or both be set")
        a.memory = 2 << 20
        let big = try BundleWriter.assemble([a], [Data(count: 100)], stores: [Data(count: 1 << 20)])
        refused(big, "guest 0 ('a'): payload store of 1048576 bytes reaches below RAM + 1 MiB (the payload window)")
    }
}

extension GuestConfig {
    func renamed(_ name: String) -> GuestConfig { var g = self; g.name = name; return g }
}
