// SHA512: the streaming SHA-512 hash of FIPS 180-4 (RFC 6234).
//
// Feed any number of byte ranges with `update`, then `finalize` writes the
// 64-byte digest. The value is a plain struct of about 220 bytes (state, one
// partial block, counters) and never allocates, so it works in the hypervisor,
// the guest and host code alike. Ed25519 uses it for H(R || A || M).

public struct SHA512 {
    public static let digestByteCount = 64
    public static let blockByteCount = 128

    var state = SHA512State()
    /// The pending partial block, stored as raw message bytes.
    var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Bytes used in `pending` (0..<128).
    var pendingCount = 0
    /// Total bytes fed so far, modulo 2^64.
    var totalCount: UInt64 = 0

    public init() {}

    /// Absorbs `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        let count = bytes.count
        totalCount &+= UInt64(truncatingIfNeeded: count)
        if pendingCount > 0 {
            let take = min(SHA512.blockByteCount - pendingCount, count)
            appendPending(base, take)
            offset = take
            if pendingCount < SHA512.blockByteCount { return }
            compressPending()
        }
        while count - offset >= SHA512.blockByteCount {
            state.compress(base + offset)
            offset += SHA512.blockByteCount
        }
        if offset < count {
            appendPending(base + offset, count - offset)
        }
    }

    /// Pads the message (FIPS 180-4 section 5.1.2), writes the 64-byte digest
    /// to the start of `output` (which must hold at least 64 bytes) and resets
    /// the hasher to its initial state.
    public mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= SHA512.digestByteCount, "SHA512 output too small")
        let bitCountLow = totalCount << 3
        let bitCountHigh = totalCount >> 61
        var marker: UInt8 = 0x80
        withUnsafeBytes(of: &marker) { appendPending($0.baseAddress!, 1) }
        if pendingCount > SHA512.blockByteCount - 16 {
            zeroPendingTail()
            compressPending()
        }
        zeroPendingTail()
        pending.14 = bitCountHigh.bigEndian
        pending.15 = bitCountLow.bigEndian
        compressPending()
        let s = state
        output.storeBytes(of: s.h0.bigEndian, toByteOffset: 0, as: UInt64.self)
        output.storeBytes(of: s.h1.bigEndian, toByteOffset: 8, as: UInt64.self)
        output.storeBytes(of: s.h2.bigEndian, toByteOffset: 16, as: UInt64.self)
        output.storeBytes(of: s.h3.bigEndian, toByteOffset: 24, as: UInt64.self)
        output.storeBytes(of: s.h4.bigEndian, toByteOffset: 32, as: UInt64.self)
        output.storeBytes(of: s.h5.bigEndian, toByteOffset: 40, as: UInt64.self)
        output.storeBytes(of: s.h6.bigEndian, toByteOffset: 48, as: UInt64.self)
        output.storeBytes(of: s.h7.bigEndian, toByteOffset: 56, as: UInt64.self)
        self = SHA512()
    }

    /// One-shot digest of `bytes` into the first 64 bytes of `output`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        var hasher = SHA512()
        hasher.update(bytes)
        hasher.finalize(into: output)
    }

    private mutating func appendPending(_ source: UnsafeRawPointer, _ count: Int) {
        let at = pendingCount
        withUnsafeMutableBytes(of: &pending) { block in
            (block.baseAddress! + at).copyMemory(from: source, byteCount: count)
        }
        pendingCount = at + count
    }

    /// Zeroes the pending block from `pendingCount` to its end.
    private mutating func zeroPendingTail() {
        let at = pendingCount
        withUnsafeMutableBytes(of: &pending) { block in
            var i = at
            while i < SHA512.blockByteCount {
                block[i] = 0
                i += 1
            }
        }
        pendingCount = SHA512.blockByteCount
    }

    private mutating func compressPending() {
        let block = pending
        var s = state
        withUnsafeBytes(of: block) { s.compress($0.baseAddress!) }
        state = s
        pendingCount = 0
    }
}
