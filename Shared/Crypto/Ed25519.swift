// Ed25519: signature verification (RFC 8032 section 5.1.7), libsodium-exact.
//
// `verify` accepts exactly the signatures that libsodium 1.0.18's
// `crypto_sign_verify_detached` accepts. On top of RFC 8032 that means: S must
// be below L; R and A must not be one of the small-order encodings listed in
// `SmallOrderEncodings` (the check ignores the sign bit); A's y must be below
// p; and the group equation is the cofactorless [S]B = R + [k]A, decided by
// comparing the canonical encoding of [S]B - [k]A with the 32 bytes of R
// (so a non-canonical R never verifies). Mixed-order keys are not rejected,
// exactly like libsodium's default build. Nothing here allocates; the deepest
// call chain needs about 6 KiB of stack (embedded -Osize builds). One verify
// takes about 60 us on a current x86_64 host in a release build.

public enum Ed25519 {
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    /// Verifies `signature` (R || S, 64 bytes) over `message` with the
    /// 32-byte `publicKey`. Wrong buffer sizes verify as false.
    public static func verify(publicKey: UnsafeRawBufferPointer,
                              signature: UnsafeRawBufferPointer,
                              message: UnsafeRawBufferPointer) -> Bool {
        verify(publicKey: publicKey, signature: signature) { $0.update(message) }
    }

    /// Verifies a signature over the concatenation `parts.0 || parts.1`
    /// without building it (NPL signs a header followed by a body).
    public static func verify(publicKey: UnsafeRawBufferPointer,
                              signature: UnsafeRawBufferPointer,
                              parts: (UnsafeRawBufferPointer, UnsafeRawBufferPointer)) -> Bool {
        verify(publicKey: publicKey, signature: signature) { hasher in
            hasher.update(parts.0)
            hasher.update(parts.1)
        }
    }

    /// Verifies a signature over a message of any shape: `feedMessage` must
    /// pass the whole message, in order, to the hasher it is given.
    public static func verify(publicKey: UnsafeRawBufferPointer,
                              signature: UnsafeRawBufferPointer,
                              feedMessage: (inout SHA512) -> Void) -> Bool {
        guard publicKey.count == publicKeyByteCount, signature.count == signatureByteCount else {
            return false
        }
        let r = loadWords(signature, 0)
        let a = loadWords(publicKey, 0)
        let s = Scalar(w0: loadLE(signature, 32), w1: loadLE(signature, 40),
                       w2: loadLE(signature, 48), w3: loadLE(signature, 56))
        guard s.isCanonical,
              !SmallOrderEncodings.contains(r),
              SmallOrderEncodings.isCanonicalY(a),
              !SmallOrderEncodings.contains(a),
              let point = EdwardsPoint(encoded: a.0, a.1, a.2, a.3) else {
            return false
        }
        // k = SHA-512(R || A || M) mod L, the digest read little-endian.
        var hasher = SHA512()
        hasher.update(UnsafeRawBufferPointer(rebasing: signature[0..<32]))
        hasher.update(publicKey)
        feedMessage(&hasher)
        var digest: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
            = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digest) { hasher.finalize(into: $0) }
        let k = Scalar.reduce(wide: (UInt64(littleEndian: digest.0), UInt64(littleEndian: digest.1),
                                     UInt64(littleEndian: digest.2), UInt64(littleEndian: digest.3),
                                     UInt64(littleEndian: digest.4), UInt64(littleEndian: digest.5),
                                     UInt64(littleEndian: digest.6), UInt64(littleEndian: digest.7)))
        // [S]B - [k]A must encode to exactly the bytes of R.
        let check = EdwardsPoint.baseMultiplyAdd(s: s, k: k, p: point.negated).encodedWords()
        return check.0 == r.0 && check.1 == r.1 && check.2 == r.2 && check.3 == r.3
    }

    @inline(__always)
    static func loadLE(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    static func loadWords(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> (UInt64, UInt64, UInt64, UInt64) {
        (loadLE(bytes, offset), loadLE(bytes, offset + 8), loadLE(bytes, offset + 16), loadLE(bytes, offset + 24))
    }
}
