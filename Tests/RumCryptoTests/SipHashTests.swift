// SipHashTests: SipHash-2-4 (64- and 128-bit) against libsodium's crypto_shorthash.
//
// All message lengths 0...100 with several random keys each, plus the
// reference vector of the SipHash paper (Appendix A).

import CSodium
import RumCrypto
import XCTest
import TestSupport

final class SipHashTests: XCTestCase {
    func sodium64(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 8)
        _ = crypto_shorthash(&out, message, UInt64(message.count), key)
        return out
    }

    func sodium128(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        _ = crypto_shorthash_siphashx24(&out, message, UInt64(message.count), key)
        return out
    }

    func littleEndianBytes(_ words: UInt64...) -> [UInt8] {
        words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
    }

    func testPaperVector() {
        // Key 00 01 ... 0f, message 00 01 ... 0e: output a129ca6149be45e5.
        let key = Array(UInt8(0)...UInt8(15)), message = Array(UInt8(0)...UInt8(14))
        let h = key.withUnsafeBytes { k in message.withUnsafeBytes { SipHash24.hash(key: SipHashKey(bytes: k), bytes: $0) } }
        XCTAssertEqual(h, 0xA129_CA61_49BE_45E5)
    }

    func testAllLengthsMatchLibsodium() {
        XCTAssertTrue(Sodium.ready)
        var g = SplitMix64(seed: 0x51B_0001)
        for length in 0...100 {
            for _ in 0..<20 {
                let key = g.bytes(16), message = g.bytes(length)
                let (h64, h128) = key.withUnsafeBytes { k in
                    message.withUnsafeBytes { m in
                        (SipHash24.hash(key: SipHashKey(bytes: k), bytes: m),
                         SipHash24.hash128(key: SipHashKey(bytes: k), bytes: m))
                    }
                }
                XCTAssertEqual(littleEndianBytes(h64), sodium64(key, message), "64-bit, length \(length)")
                XCTAssertEqual(littleEndianBytes(h128.low, h128.high), sodium128(key, message), "128-bit, length \(length)")
            }
        }
    }

    func testWordKeyEqualsByteKey() {
        let key = SipHashKey(k0: 0x0706_0504_0302_0100, k1: 0x0F0E_0D0C_0B0A_0908)
        let bytesKey = Array(UInt8(0)...UInt8(15)).withUnsafeBytes { SipHashKey(bytes: $0) }
        XCTAssertEqual(key.k0, bytesKey.k0)
        XCTAssertEqual(key.k1, bytesKey.k1)
    }
}
