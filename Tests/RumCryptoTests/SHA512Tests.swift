// SHA512Tests: the streaming SHA-512 against libsodium's crypto_hash_sha512.
//
// One-shot digests cover every length 0...300 (all padding boundaries) and
// random lengths up to 20 KiB; streaming digests split the same input at
// random points, including empty updates.

import RumCrypto
import XCTest
import TestSupport

final class SHA512Tests: XCTestCase {
    func testKnownAnswers() {
        XCTAssertEqual(hexString(swiftSHA512([])),
                       "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        XCTAssertEqual(hexString(swiftSHA512(Array("abc".utf8))),
                       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    func testEveryShortLengthMatchesLibsodium() {
        var g = SplitMix64(seed: 0x5A5A_0001)
        for length in 0...300 {
            let message = g.bytes(length)
            XCTAssertEqual(swiftSHA512(message), Sodium.sha512(message), "length \(length)")
        }
    }

    func testRandomLengthsMatchLibsodium() {
        var g = SplitMix64(seed: 0x5A5A_0002)
        for i in 0..<300 {
            let message = g.bytes(g.int(0...20_000))
            XCTAssertEqual(swiftSHA512(message), Sodium.sha512(message), "case \(i) length \(message.count)")
        }
    }

    func testStreamingMatchesOneShot() {
        var g = SplitMix64(seed: 0x5A5A_0003)
        for i in 0..<300 {
            let message = g.bytes(g.int(0...2_000))
            var hasher = SHA512()
            var offset = 0
            while offset < message.count {
                let take = min(g.int(0...300), message.count - offset)
                message[offset..<offset + take].withUnsafeBytes { hasher.update($0) }
                offset += take
            }
            var out = [UInt8](repeating: 0, count: 64)
            out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
            XCTAssertEqual(out, Sodium.sha512(message), "case \(i) length \(message.count)")
            // finalize resets: the hasher is ready for a new message.
            var again = [UInt8](repeating: 0, count: 64)
            again.withUnsafeMutableBytes { hasher.finalize(into: $0) }
            XCTAssertEqual(again, Sodium.sha512([]))
        }
    }
}
