// NPLTests: the NPL header verifier accepts good images and names each defect.
//
// One test per rejection reason, each asserting the exact NPLError, plus the
// layout of rum_npl_header_t and a header built from raw bytes.

import CRumABI
@testable import RumNPL
import XCTest

final class NPLTests: XCTestCase {
    let signer = TestSigner(seed: 0xA11CE)
    let other = TestSigner(seed: 0xB0B)
    let riscv = NPLArch.riscv64.rawValue
    var body: [UInt8] { (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }

    func expect(_ result: Result<NPLVerifiedImage, NPLError>, _ error: NPLError,
                file: StaticString = #filePath, line: UInt = #line) {
        switch result {
        case .success: XCTFail("accepted, expected \(error)", file: file, line: line)
        case .failure(let e): XCTAssertEqual(e, error, file: file, line: line)
        }
    }

    func testLayoutMatchesRumabiH() {
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.size, NPL.headerSize)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.magic), NPL.magicOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.version), NPL.versionOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.arch), NPL.archOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.flags), NPL.flagsOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.signature), NPL.signatureOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.body_size), NPL.bodySizeOffset)
        XCTAssertEqual(MemoryLayout<rum_npl_header_t>.offset(of: \.reserved), NPL.reservedOffset)
        XCTAssertEqual(MemoryLayout.size(ofValue: rum_npl_header_t().signature), NPL.signatureSize)
        XCTAssertEqual(MemoryLayout.size(ofValue: rum_npl_header_t().reserved), NPL.reservedSize)
        XCTAssertEqual(NPLArch.arm64.rawValue, 0xAA)
        XCTAssertEqual(NPLArch.x86_64.rawValue, 0xEE)
        XCTAssertEqual(NPLArch.riscv64.rawValue, 0x55)
        XCTAssertEqual(NPLArch.current, .x86_64)
    }

    func testHeaderBytes() {
        let image = signer.image(flags: NPL.flagGuestImage, body: [1, 2, 3])
        XCTAssertEqual(Array(image[0..<8]), [0x7F, 0x4E, 0x50, 0x4C, 0x01, 0x55, 0x02, 0x00])
        XCTAssertEqual(Array(image[0x48..<0x50]), [3, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(image[0x50..<0x80]), [UInt8](repeating: 0, count: 48))
        XCTAssertEqual(Array(image[0x80...]), [1, 2, 3])
        // The same header written byte by byte signs and verifies identically.
        var raw = [UInt8](repeating: 0, count: 128) + [1, 2, 3]
        raw.replaceSubrange(0..<8, with: [0x7F, 0x4E, 0x50, 0x4C, 0x01, 0x55, 0x02, 0x00])
        storeLE(UInt64(3), into: &raw, at: 0x48)
        XCTAssertEqual(signer.resign(raw), image)
    }

    func testGoodImageIsAccepted() throws {
        let image = signer.image(body: body)
        let result = try verifyNPL(image, keys: [signer.publicKey]).get()
        XCTAssertEqual(result.body, 128 ..< 128 + body.count)
        XCTAssertEqual(result.keyIndex, 0)
        XCTAssertEqual(result.arch, riscv)
        XCTAssertEqual(result.flags, NPL.flagELF)
        // The second of three trusted keys.
        let third = TestSigner(seed: 3)
        XCTAssertEqual(try verifyNPL(image, keys: [other.publicKey, signer.publicKey, third.publicKey]).get().keyIndex, 1)
        // Empty body, every arch, both flags.
        for arch in [NPLArch.arm64, .x86_64, .riscv64] {
            let empty = signer.image(arch: arch.rawValue, flags: NPL.flagELF | NPL.flagGuestImage, body: [])
            XCTAssertEqual(try verifyNPL(empty, arch: arch.rawValue, keys: [signer.publicKey]).get().body, 128 ..< 128)
        }
    }

    func testTooShort() {
        expect(verifyNPL([], keys: [signer.publicKey]), .tooShort(count: 0))
        let image = signer.image(body: [])
        expect(verifyNPL(Array(image.prefix(127)), keys: [signer.publicKey]), .tooShort(count: 127))
    }

    func testBadMagic() {
        var image = signer.image(body: body)
        image[1] = UInt8(ascii: "M")
        expect(verifyNPL(image, keys: [signer.publicKey]), .badMagic(found: 0x4C50_4D7F))
        image = signer.resign(image)   // a valid signature does not help
        expect(verifyNPL(image, keys: [signer.publicKey]), .badMagic(found: 0x4C50_4D7F))
    }

    func testBadVersion() {
        for v: UInt8 in [0, 2, 0xFF] {
            var image = signer.image(body: body)
            image[4] = v
            expect(verifyNPL(signer.resign(image), keys: [signer.publicKey]), .badVersion(found: v))
        }
    }

    func testWrongArch() {
        let image = signer.image(arch: NPLArch.x86_64.rawValue, body: body)
        expect(verifyNPL(image, arch: riscv, keys: [signer.publicKey]), .wrongArch(found: 0xEE))
        expect(verifyNPL(image, arch: NPLArch.arm64.rawValue, keys: [signer.publicKey]), .wrongArch(found: 0xEE))
        // Relabelling the arch byte breaks the signature.
        var relabelled = image
        relabelled[5] = riscv
        expect(verifyNPL(relabelled, arch: riscv, keys: [signer.publicKey]), .badSignature)
    }

    func testUnknownFlags() {
        let image = signer.image(flags: 0x8001, body: body)
        expect(verifyNPL(image, keys: [signer.publicKey]), .unknownFlags(found: 0x8001))
    }

    func testReservedNotZero() {
        for offset in [0x50, 0x67, 0x7F] {
            var image = signer.image(body: body)
            image[offset] = 1
            expect(verifyNPL(signer.resign(image), keys: [signer.publicKey]), .reservedNotZero)
        }
    }

    func testSizeErrors() {
        let image = signer.image(body: body)
        let end = 128 + body.count
        expect(verifyNPL(Array(image.dropLast()), keys: [signer.publicKey]), .truncated(expected: end, found: end - 1))
        expect(verifyNPL(Array(image.prefix(128)), keys: [signer.publicKey]), .truncated(expected: end, found: 128))
        expect(verifyNPL(image + [0], keys: [signer.publicKey]), .trailingBytes(expected: end, found: end + 1))
        // Trailing bytes are ignored (and not part of the body) when allowed.
        let padded = image + [UInt8](repeating: 0xAB, count: 4096 - image.count % 4096)
        XCTAssertEqual(try verifyNPL(padded, keys: [signer.publicKey], sizePolicy: .allowTrailingBytes).get().body,
                       128 ..< end)
        // body_size values that overflow 128 + body_size, validly signed.
        for huge in [UInt64.max, UInt64(Int.max), UInt64(Int.max) - 127] {
            var bad = image
            storeLE(huge, into: &bad, at: 0x48)
            expect(verifyNPL(signer.resign(bad), keys: [signer.publicKey]), .bodySizeOverflow(bodySize: huge))
        }
        // The largest body_size that does not overflow is simply truncated.
        var largest = image
        storeLE(UInt64(Int.max) - 128, into: &largest, at: 0x48)
        expect(verifyNPL(signer.resign(largest), keys: [signer.publicKey]), .truncated(expected: Int.max, found: end))
        // A body_size shorter than the data: with .exact the rest is trailing.
        var short = image
        storeLE(UInt64(body.count - 1), into: &short, at: 0x48)
        expect(verifyNPL(signer.resign(short), keys: [signer.publicKey]), .trailingBytes(expected: end - 1, found: end))
    }

    func testBadSignature() {
        let image = signer.image(body: body)
        var tamperedBody = image
        tamperedBody[200] ^= 0x01
        expect(verifyNPL(tamperedBody, keys: [signer.publicKey]), .badSignature)
        var tamperedHeader = image
        tamperedHeader[6] = UInt8(NPL.flagGuestImage)   // flags: ELF -> guest image
        expect(verifyNPL(tamperedHeader, keys: [signer.publicKey]), .badSignature)
        var tamperedSignature = image
        tamperedSignature[0x30] ^= 0x80
        expect(verifyNPL(tamperedSignature, keys: [signer.publicKey]), .badSignature)
        expect(verifyNPL(image, keys: [other.publicKey]), .badSignature)
        expect(verifyNPL(image, keys: [other.publicKey, TestSigner(seed: 9).publicKey]), .badSignature)
        var zeroSignature = image
        for i in 0x08..<0x48 { zeroSignature[i] = 0 }
        expect(verifyNPL(zeroSignature, keys: [signer.publicKey]), .badSignature)
    }

    func testTrustedKeyListShape() {
        for count in [0, 31, 33, 65] {
            let bytes = [UInt8](repeating: 1, count: count)
            XCTAssertNil(bytes.withUnsafeBytes { NPLTrustedKeys(concatenated: $0) }, "\(count) bytes")
        }
        let two = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 1, count: 32)
        two.withUnsafeBytes { raw in
            let keys = NPLTrustedKeys(concatenated: raw)!
            XCTAssertEqual(keys.count, 2)
            XCTAssertEqual(Array(keys[1]), [UInt8](repeating: 1, count: 32))
        }
    }

    func testUnalignedImage() throws {
        // Images need not be aligned: verify from an odd offset.
        let image = signer.image(body: body)
        let shifted = [0] + image
        let result = try shifted.withUnsafeBytes { raw in
            try signer.publicKey.withUnsafeBytes { k in
                try NPL.verify(image: UnsafeRawBufferPointer(rebasing: raw[1...]), expectedArch: riscv,
                               trustedKeys: NPLTrustedKeys(concatenated: k)!)
            }
        }
        XCTAssertEqual(result.body, 128 ..< 128 + body.count)
    }
}
