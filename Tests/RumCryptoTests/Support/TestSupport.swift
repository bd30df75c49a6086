// TestSupport: hex helpers and thin libsodium wrappers.
//
// Every randomized test draws from the shared `SplitMix64` (Tests/TestSupport)
// with a fixed seed, so a failure names a case that reproduces on every run. libsodium is the oracle:
// the wrappers return Swift arrays and Bools so tests read as comparisons.

import CSodium
import RumCrypto
import XCTest

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0, "odd hex length")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: preconditionFailure("bad hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// libsodium, initialised once.
enum Sodium {
    static let ready: Bool = sodium_init() >= 0

    static func seedKeypair(_ seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8]) {
        precondition(ready && seed.count == 32)
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        return (pk, sk)
    }

    static func keypair() -> (publicKey: [UInt8], secretKey: [UInt8]) {
        precondition(ready)
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_keypair(&pk, &sk)
        return (pk, sk)
    }

    static func sign(_ message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        precondition(ready)
        var sig = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count), secretKey)
        return sig
    }

    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        precondition(ready && signature.count == 64 && publicKey.count == 32)
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    static func sha512(_ message: [UInt8]) -> [UInt8] {
        precondition(ready)
        var out = [UInt8](repeating: 0, count: 64)
        _ = crypto_hash_sha512(&out, message, UInt64(message.count))
        return out
    }
}

/// The Swift verifier on arrays.
func swiftVerify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
    publicKey.withUnsafeBytes { pk in
        signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in
                Ed25519.verify(publicKey: pk, signature: sig, message: msg)
            }
        }
    }
}

func swiftSHA512(_ message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 64)
    message.withUnsafeBytes { input in
        out.withUnsafeMutableBytes { SHA512.hash(input, into: $0) }
    }
    return out
}
