// ConfigImageErrorTests: configs and image files that are hostile or broken
// get one clear message each, from `check-config` as from the bundle builder.

import Foundation
import XCTest
@testable import RumkvBuild

final class ConfigImageErrorTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A config with one guest whose image is the file `image.bin` holding `bytes`.
    private func config(image bytes: Data, memory: String = "2M") throws -> PartitionConfig {
        try bytes.write(to: dir.appendingPathComponent("image.bin"))
        return try parseConfig(partitionHead + "[[guest]]\nname = \"g\"\nimage = \"image.bin\"\nmemory = \"\(memory)\"\n")
    }

    private func problems(_ bytes: Data, memory: String = "2M") throws -> [String] {
        try config(image: bytes, memory: memory).imageFileProblems(configDirectory: dir)
    }

    private var path: String { dir.appendingPathComponent("image.bin").path }

    func testASoundELFAndAFlatImagePass() throws {
        XCTAssertEqual(try problems(minimalELF()), [])
        XCTAssertEqual(try problems(Data(repeating: 0x13, count: 4096)), [])
    }

    func testEmptyImageIsRefusedByCheckConfig() throws {
        XCTAssertEqual(try problems(Data()), ["p.toml:7: guest 'g': field 'image': \(path) is empty"])
    }

    func testTruncatedELFHeaderIsNamedAsSuch() throws {
        let head = minimalELF().prefix(24)
        XCTAssertEqual(try problems(head),
                       ["p.toml:7: guest 'g': field 'image': \(path) is a truncated ELF file: 24 bytes, shorter than the 64-byte ELF64 header"])
        // The bundle builder gives the same verdict, not "an ELF file for machine 25454".
        let c = try config(image: head)
        XCTAssertThrowsError(try BundleWriter.make(c, configDirectory: dir, rumpkImage: dir, objcopy: "/nonexistent")) { e in
            XCTAssertEqual("\(e)", "p.toml:7: guest 'g': field 'image': \(self.path) is a truncated ELF file: 24 bytes, shorter than the 64-byte ELF64 header")
        }
    }

    func testTruncatedELFBodyAndBadHeaders() throws {
        let full = minimalELF(payload: 64)
        XCTAssertEqual(try problems(full.prefix(100)).first?.hasSuffix("is a truncated ELF file: its program headers end past its 100 bytes"), true)
        XCTAssertEqual(try problems(full.prefix(150)).first?.hasSuffix("is a truncated ELF file: segment 0 needs bytes up to 184, the file has 150"), true)
        XCTAssertEqual(try problems(minimalELF(fileSizeClaim: UInt64.max)).first?.hasSuffix("segment 0 needs bytes up to beyond 2^64, the file has 136"), true,
                       "a length that wraps is refused, not read")
        XCTAssertEqual(try problems(minimalELF(machine: 0xB7)).first?.hasSuffix("is an ELF file for machine 183, not for riscv64 (e_machine 243)"), true)
        XCTAssertEqual(try problems(minimalELF(phnum: 0)).first?.hasSuffix("without a usable program header table (e_phnum 0, e_phentsize 56)"), true)
        XCTAssertEqual(try problems(minimalELF(type: 3)).first?.hasSuffix("is an ELF file of type 3, not an executable (ET_EXEC)"), true)
        XCTAssertEqual(try problems(minimalELF(elfClass: 1)).first?.hasSuffix("is a 32-bit ELF file (guest images are ELF64)"), true)
    }

    func testImagesLargerThanTheGuestsMemory() throws {
        XCTAssertEqual(try problems(Data(count: (2 << 20) + 1)),
                       ["p.toml:7: guest 'g': field 'image': \(path) is 2097153 bytes, more than the guest's memory (2 MiB)"])
        XCTAssertEqual(try problems(minimalELF(payload: 3 << 20)).first?.hasSuffix("is an ELF file that loads 3145728 bytes, more than the guest's memory (2 MiB)"), true)
    }

    func testADirectoryIsNotAnImage() throws {
        let c = try parseConfig(partitionHead + "[[guest]]\nname = \"g\"\nimage = \".\"\nmemory = \"2M\"\n")
        XCTAssertEqual(c.imageFileProblems(configDirectory: dir).first?.hasSuffix("is a directory, not an image file"), true)
    }

    func testAConfigThatIsNotUTF8NamesTheLine() throws {
        var bytes = Data((partitionHead + "[[guest]]\nname = \"g").utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: Array("\"\nimage = \"rumpk\"\nmemory = \"2M\"\n".utf8))
        XCTAssertThrowsError(try PartitionConfig.parse(data: bytes, fileName: "p.toml")) { e in
            XCTAssertEqual((e as? ConfigError)?.messages, ["p.toml:6: byte 0xFF at column 10 is not UTF-8 (a config is UTF-8 text)"])
        }
        let url = dir.appendingPathComponent("bad.toml")
        try bytes.write(to: url)
        XCTAssertThrowsError(try PartitionConfig.load(url)) { e in
            XCTAssertEqual((e as? ConfigError)?.messages.first?.hasSuffix(":6: byte 0xFF at column 10 is not UTF-8 (a config is UTF-8 text)"), true, "\(e)")
        }
    }

    func testHugeValuesGiveShortMessages() {
        let huge = String(repeating: "a", count: 10 << 20)
        let errors = configErrors(partitionHead + "[[guest]]\nname = \"\(huge)\"\nimage = \"rumpk\"\nmemory = \"2M\"\n")
        XCTAssertEqual(errors, ["p.toml:6: guest #1: field 'name': a string of 10485760 bytes is longer than the 4096 a config value may have"])
        let long = String(repeating: "b", count: 4000)
        let e2 = configErrors(partitionHead + "[[guest]]\nname = \"\(long)\"\nimage = \"rumpk\"\nmemory = \"2M\"\n")
        XCTAssertEqual(e2.count, 1, "\(e2.map(\.count))")
        XCTAssertLessThan(e2.joined().utf8.count, 300, e2.joined())
        let e3 = configErrors(partitionHead + "[[guest]]\nname = \"g\"\nimage = \"rumpk\"\nmemory = \(long)\n")
        XCTAssertEqual(e3.count, 1, "\(e3.map(\.count))")
        XCTAssertLessThan(e3.joined().utf8.count, 300, e3.joined())
    }
}
