// Ed25519DifferentialTests: the Swift verifier against libsodium's, case by case.
//
// Every case asserts Ed25519.verify == (crypto_sign_verify_detached == 0).
// Random cases cover honest signatures and single corruptions of each input;
// crafted cases add torsion components to keys and nonces (where cofactorless
// and cofactored checks part ways) and every small-order or non-canonical
// encoding as R and A, which random bytes essentially never hit.

import CSodium
@testable import RumCrypto
import XCTest
import TestSupport

final class Ed25519DifferentialTests: XCTestCase {
    /// L, little-endian.
    static let order = bytes(hex: "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

    /// The eight points of order dividing 8, each with every 32-byte encoding
    /// that decodes to it (sign-bit and y + p aliases included).
    static let torsion: [[[UInt8]]] = {
        func enc(_ hex: String, sign: Bool) -> [UInt8] {
            var b = bytes(hex: hex)
            if sign { b[31] |= 0x80 }
            return b
        }
        let zero = String(repeating: "0", count: 64)
        let one = "01" + String(repeating: "0", count: 62)
        let pMinus1 = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        let p = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        let pPlus1 = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        let y8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
        let y8n = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
        return [
            [enc(one, sign: false), enc(one, sign: true), enc(pPlus1, sign: false), enc(pPlus1, sign: true)],
            [enc(pMinus1, sign: false), enc(pMinus1, sign: true)],
            [enc(zero, sign: false), enc(p, sign: false)],
            [enc(zero, sign: true), enc(p, sign: true)],
            [enc(y8, sign: false)], [enc(y8, sign: true)],
            [enc(y8n, sign: false)], [enc(y8n, sign: true)],
        ]
    }()

    var accepted = 0
    var rejected = 0

    func check(_ signature: [UInt8], _ message: [UInt8], _ publicKey: [UInt8], _ label: @autoclosure () -> String) {
        let expected = Sodium.verify(signature: signature, message: message, publicKey: publicKey)
        let actual = swiftVerify(signature: signature, message: message, publicKey: publicKey)
        if expected { accepted += 1 } else { rejected += 1 }
        if expected != actual {
            XCTFail("\(label()): libsodium \(expected), Swift \(actual); pk \(hexString(publicKey)) sig \(hexString(signature)) msg \(hexString(message))")
        }
    }

    static func addScalars(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var carry = 0
        for i in 0..<32 {
            let s = Int(a[i]) + Int(b[i]) + carry
            out[i] = UInt8(s & 0xFF)
            carry = s >> 8
        }
        return out
    }

    /// Random corruptions of honest signatures (8,000 cases).
    func testRandomSignaturesAndCorruptions() {
        var g = SplitMix64(seed: 0x5EED_0001)
        let kinds = 16
        for i in 0..<8_000 {
            let pair = i % 16 == 0 ? Sodium.keypair() : Sodium.seedKeypair(g.bytes(32))
            var message = g.bytes(g.int(0...(i % 10 == 0 ? 1_000 : 160)))
            var signature = Sodium.sign(message, secretKey: pair.secretKey)
            var pk = pair.publicKey
            let kind = i % kinds
            switch kind {
            case 0: break
            case 1: signature[g.int(0...63)] ^= 1 << UInt8(g.int(0...7))
            case 2: signature[g.int(0...31)] ^= 1 << UInt8(g.int(0...7))
            case 3: signature[g.int(32...63)] ^= 1 << UInt8(g.int(0...7))
            case 4:
                if message.isEmpty { message = [0] } else { message[g.int(0...message.count - 1)] ^= 1 << UInt8(g.int(0...7)) }
            case 5: pk[g.int(0...31)] ^= 1 << UInt8(g.int(0...7))
            case 6: // S + L: the same scalar, non-canonically encoded.
                signature.replaceSubrange(32..<64, with: Self.addScalars(Array(signature[32...]), Self.order))
            case 7: // random S below 2^253: about half are >= L
                var s = g.bytes(32); s[31] &= 0x1F
                signature.replaceSubrange(32..<64, with: s)
            case 8: signature.replaceSubrange(0..<32, with: g.bytes(32))
            case 9: pk = g.bytes(32)
            case 10: pk = Sodium.seedKeypair(g.bytes(32)).publicKey
            case 11: signature[31] ^= 0x80               // sign bit of R
            case 12: pk[31] ^= 0x80                      // sign bit of A
            case 13: if message.isEmpty { message = [1] } else { message.removeLast() }
            case 14:
                if g.int(0...1) == 0 { signature = [UInt8](repeating: 0, count: 64) } else { pk = [UInt8](repeating: 0, count: 32) }
            default: // a small-order encoding as R or as A
                let enc = Self.torsion[g.int(0...7)].randomElement(using: &g)!
                if g.int(0...1) == 0 { signature.replaceSubrange(0..<32, with: enc) } else { pk = enc }
            }
            check(signature, message, pk, "random case \(i) kind \(kind)")
        }
        print("random cases: libsodium accepted \(accepted), rejected \(rejected)")
        XCTAssertGreaterThanOrEqual(accepted, 500)
        XCTAssertGreaterThan(rejected, 5_000)
    }

    /// A = aB + T_A, R = rB + T_R, S = r + k*a: the cofactorless equation holds
    /// exactly when T_R = -k*T_A. Also a = 0 or r = 0 (small-order A or R,
    /// through every alias encoding), and S + L (2,000 cases).
    func testCraftedTorsionCases() {
        var g = SplitMix64(seed: 0x5EED_0002)
        func randomScalar() -> [UInt8] {
            var wide = g.bytes(64)
            var s = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_reduce(&s, &wide)
            return s
        }
        func timesBase(_ s: [UInt8]) -> [UInt8] {
            var q = [UInt8](repeating: 0, count: 32)
            XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&q, s), 0)
            return q
        }
        func add(_ p: [UInt8], _ q: [UInt8]) -> [UInt8] {
            var r = [UInt8](repeating: 0, count: 32)
            XCTAssertEqual(crypto_core_ed25519_add(&r, p, q), 0, "add \(hexString(p)) + \(hexString(q))")
            return r
        }
        let zero = [UInt8](repeating: 0, count: 32)
        for i in 0..<2_000 {
            let tA = Self.torsion[g.int(0...7)], tR = Self.torsion[g.int(0...7)]
            let a = g.int(0...9) == 0 ? zero : randomScalar()
            let r = g.int(0...9) == 0 ? zero : randomScalar()
            let pk = a == zero ? tA.randomElement(using: &g)! : add(timesBase(a), tA[0])
            let rPoint = r == zero ? tR.randomElement(using: &g)! : add(timesBase(r), tR[0])
            let message = g.bytes(g.int(0...64))
            var digest = Sodium.sha512(rPoint + pk + message)
            var k = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_reduce(&k, &digest)
            var ka = [UInt8](repeating: 0, count: 32), s = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_mul(&ka, k, a)
            crypto_core_ed25519_scalar_add(&s, r, ka)
            if g.int(0...15) == 0 { s = Self.addScalars(s, Self.order) }
            check(rPoint + s, message, pk, "crafted case \(i)")
        }
        print("crafted torsion cases: libsodium accepted \(accepted), rejected \(rejected)")
        XCTAssertGreaterThan(accepted, 100)
    }

    /// Every pairing of special encodings as R and A with boundary values of S.
    func testSpecialEncodingGrid() {
        var g = SplitMix64(seed: 0x5EED_0003)
        var specials = Self.torsion.flatMap { $0 }
        // y = p + 2 ... p + 18 (the other non-canonical values) and y = 2 ... 18.
        for delta in 2...18 {
            var high = bytes(hex: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
            high[0] = 0xED + UInt8(delta)
            var low = [UInt8](repeating: 0, count: 32)
            low[0] = UInt8(delta)
            for sign in [false, true] {
                var h = high, l = low
                if sign { h[31] |= 0x80; l[31] |= 0x80 }
                specials.append(h)
                specials.append(l)
            }
        }
        let base = bytes(hex: "5866666666666666666666666666666666666666666666666666666666666666")
        specials.append(base)
        var lMinus1 = Self.order; lMinus1[0] -= 1
        var lPlus1 = Self.order; lPlus1[0] += 1
        let scalars: [[UInt8]] = [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31),
                                  lMinus1, Self.order, lPlus1, [UInt8](repeating: 0xFF, count: 32)]
        let message = g.bytes(19)
        for r in specials {
            for a in specials {
                for s in scalars + [{ var x = g.bytes(32); x[31] &= 0x0F; return x }()] {
                    check(r + s, message, a, "grid R \(hexString(r)) A \(hexString(a))")
                }
            }
        }
        print("special grid: \(specials.count) encodings, libsodium accepted \(accepted), rejected \(rejected)")
    }
}
