// SipHash24: SipHash-2-4 with 64- and 128-bit output (Aumasson, Bernstein 2012).
//
// Keyed hashing for provenance ids and hash tables. The 64-bit form matches
// libsodium's `crypto_shorthash` (crypto_shorthash_siphash24) and the 128-bit
// form `crypto_shorthash_siphashx24`: 16-byte key read as two little-endian
// words, output words written little-endian (so `low` holds output bytes
// 0..<8). Two compression rounds per 8-byte word, four finalization rounds.

public struct SipHashKey {
    public var k0: UInt64
    public var k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// Reads the key from 16 bytes (libsodium's key layout).
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 16, "SipHash key needs 16 bytes")
        k0 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        k1 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
}

public enum SipHash24 {
    /// SipHash-2-4, 64-bit output (`crypto_shorthash`).
    public static func hash(key: SipHashKey, bytes: UnsafeRawBufferPointer) -> UInt64 {
        var s = SipState(key: key, wide: false)
        s.absorb(bytes)
        s.v2 ^= 0xFF
        s.rounds(4)
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3
    }

    /// SipHash-2-4, 128-bit output (`crypto_shorthash_siphashx24`).
    public static func hash128(key: SipHashKey, bytes: UnsafeRawBufferPointer) -> (low: UInt64, high: UInt64) {
        var s = SipState(key: key, wide: true)
        s.absorb(bytes)
        s.v2 ^= 0xEE
        s.rounds(4)
        let low = s.v0 ^ s.v1 ^ s.v2 ^ s.v3
        s.v1 ^= 0xDD
        s.rounds(4)
        return (low, s.v0 ^ s.v1 ^ s.v2 ^ s.v3)
    }
}

/// The four-word SipHash state.
struct SipState {
    var v0: UInt64
    var v1: UInt64
    var v2: UInt64
    var v3: UInt64

    init(key: SipHashKey, wide: Bool) {
        // "somepseudorandomlygeneratedbytes" as four big-endian words.
        v0 = key.k0 ^ 0x736F_6D65_7073_6575
        v1 = key.k1 ^ 0x646F_7261_6E64_6F6D
        v2 = key.k0 ^ 0x6C79_6765_6E65_7261
        v3 = key.k1 ^ 0x7465_6462_7974_6573
        if wide {
            v1 ^= 0xEE
        }
    }

    @inline(__always)
    mutating func rounds(_ n: Int) {
        var i = 0
        while i < n {
            v0 &+= v1; v1 = v1 << 13 | v1 >> 51; v1 ^= v0; v0 = v0 << 32 | v0 >> 32
            v2 &+= v3; v3 = v3 << 16 | v3 >> 48; v3 ^= v2
            v0 &+= v3; v3 = v3 << 21 | v3 >> 43; v3 ^= v0
            v2 &+= v1; v1 = v1 << 17 | v1 >> 47; v1 ^= v2; v2 = v2 << 32 | v2 >> 32
            i += 1
        }
    }

    @inline(__always)
    mutating func compress(_ m: UInt64) {
        v3 ^= m
        rounds(2)
        v0 ^= m
    }

    /// Processes the message, including the final word that carries the
    /// length modulo 256 in its top byte.
    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        var offset = 0
        while count - offset >= 8 {
            compress(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        var shift: UInt64 = 0
        while offset < count {
            last |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        compress(last)
    }
}
