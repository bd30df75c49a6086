// PayloadTests: payload ids, and the demo payload as the kernel's loader sees it.
//
// The id is SipHash-2-4-128 under the guest's sip id XOR "rumpk:pa"/"yload-id"
// (checked against libsodium's crypto_shorthash_siphashx24). The demo payload
// `hello`, built by RumkvBuild for each architecture, must pass RumLoader with
// the full payload window, so what the builder signs is what Rumpk will run.

import CSodium
import Foundation
import XCTest
import RumCrypto
import RumLoader
import RumkvBuild

final class PayloadTests: XCTestCase {
    func testPayloadIDIsSipHash128UnderTheDomainSeparatedKey() {
        let name = Array("hello".utf8)
        for (lo, hi) in [(UInt64(0), UInt64(0)), (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210)] {
            let id = name.withUnsafeBytes { PayloadID.of($0, key: PayloadID.key(sipLow: lo, sipHigh: hi)) }
            var key = [UInt8](repeating: 0, count: 16)
            withUnsafeBytes(of: (lo ^ 0x6170_3A6B_706D_7572).littleEndian) { key.replaceSubrange(0..<8, with: $0) }
            withUnsafeBytes(of: (hi ^ 0x6469_2D64_616F_6C79).littleEndian) { key.replaceSubrange(8..<16, with: $0) }
            var out = [UInt8](repeating: 0, count: 16)
            XCTAssertEqual(crypto_shorthash_siphashx24(&out, name, UInt64(name.count), key), 0)
            let expectLow = out[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let expectHigh = out[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            XCTAssertEqual(id.low, expectLow)
            XCTAssertEqual(id.high, expectHigh)
        }
        XCTAssertEqual(Array("rumpk:pa".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }, PayloadID.domain0)
        XCTAssertEqual(Array("yload-id".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }, PayloadID.domain1)
    }

    func testDemoPayloadPassesTheLoaderOnEveryArchitecture() throws {
        let root = Builder.findRoot(from: URL(fileURLWithPath: #filePath))!
        let payloads: PayloadBuilder
        do { payloads = try PayloadBuilder(root: root) } catch { throw XCTSkip("no toolchain: \(error)") }
        for arch in Arch.allCases {
            let elf = [UInt8](try Data(contentsOf: payloads.elf("hello", arch: arch)))
            let image = try elf.withUnsafeBytes {
                try ELF.parse($0, machine: ELF.machine(nplArch: arch.nplByte), window: 0x8010_0000 ..< 0x8020_0000)
            }
            XCTAssertEqual(image.entry & 0xFFFF_FFFF_FFF0_0000, 0x8010_0000, "\(arch): entry in the window")
            XCTAssertGreaterThanOrEqual(image.segmentCount, 2, "\(arch): code and read-only data at least")
            let npl = try payloads.sign(Data(elf), arch: arch)
            XCTAssertEqual(npl.count, 128 + elf.count)
            XCTAssertEqual(npl[npl.startIndex + 5], arch.nplByte)
            XCTAssertEqual(npl[npl.startIndex + 6], 1, "flag ELF")
        }
    }
}
