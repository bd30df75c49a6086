// NPLFuzzTests: seeded mutations of a signed image never get through.
//
// 20,000 mutants of a valid image (byte overwrites, bit flips, truncations,
// extensions, body_size rewrites). Every mutant that differs from the original
// must be rejected, since every byte is either signed or the signature; where
// the header is structurally valid, libsodium must agree that the signature
// fails. No mutant may crash the verifier.

import CRumABI
import RumNPL
import XCTest
import TestSupport

final class NPLFuzzTests: XCTestCase {
    func testMutationsAreRejected() {
        let signer = TestSigner(seed: 0xF022)
        var g = SplitMix64(seed: 0xF022_0001)
        let original = signer.image(flags: NPL.flagGuestImage, body: g.bytes(40))
        var counts = [String: Int]()
        for i in 0..<20_000 {
            var m = original
            switch i % 6 {
            case 0, 1: // overwrite 1...3 random bytes
                for _ in 0..<g.int(1...3) { m[g.int(0...m.count - 1)] = UInt8.random(in: 0...255, using: &g) }
            case 2: // flip one bit
                m[g.int(0...m.count - 1)] ^= 1 << UInt8(g.int(0...7))
            case 3: // truncate or extend
                if g.int(0...1) == 0 { m.removeLast(g.int(1...m.count)) } else { m += g.bytes(g.int(1...64)) }
            case 4: // rewrite body_size
                let sizes: [UInt64] = [0, 39, 41, 1 << 32, UInt64(Int.max) - 128, UInt64(Int.max), .max, g.next()]
                storeLE(sizes[g.int(0...sizes.count - 1)], into: &m, at: 0x48)
            default: // flip a bit in the signed header fields or the signature
                m[g.int(0...0x7F)] ^= 1 << UInt8(g.int(0...7))
            }
            let result = verifyNPL(m, keys: [signer.publicKey])
            switch result {
            case .success:
                XCTAssertEqual(m, original, "mutant \(i) accepted")
                counts["unchanged", default: 0] += 1
            case .failure(let error):
                XCTAssertNotEqual(m, original, "original rejected: \(error)")
                counts[String(describing: error).prefix { $0 != "(" }.description, default: 0] += 1
                if case .badSignature = error {
                    var message = m
                    for j in 0x08..<0x48 { message[j] = 0 }
                    XCTAssertFalse(Sodium.verify(signature: Array(m[0x08..<0x48]), message: message,
                                                 publicKey: signer.publicKey), "mutant \(i)")
                }
            }
        }
        print("NPL mutation outcomes: \(counts.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(counts["badSignature", default: 0], 5_000)
    }
}
