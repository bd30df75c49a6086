// Scalar: integers modulo the group order L = 2^252 + 27742317777372353535851937790883648493.
//
// Verification only needs three things from scalars: a canonicity test for
// the signature's S (RFC 8032 section 5.1.7 step 1 rejects S >= L), the
// reduction of a 512-bit SHA-512 digest modulo L (step 2), and bit access for
// scalar multiplication. The reduction is plain binary long division: slow in
// theory (512 shift-and-subtract steps) but a small fraction of a verify.

struct Scalar {
    /// Little-endian 64-bit words of a value below 2^256.
    var w0: UInt64
    var w1: UInt64
    var w2: UInt64
    var w3: UInt64

    static var order: Scalar {
        Scalar(w0: 0x5812_631A_5CF5_D3ED, w1: 0x14DE_F9DE_A2F7_9CD6, w2: 0, w3: 0x1000_0000_0000_0000)
    }

    /// True when self < L, i.e. the encoding is canonical.
    var isCanonical: Bool {
        let l = Scalar.order
        if w3 != l.w3 { return w3 < l.w3 }
        if w2 != l.w2 { return w2 < l.w2 }
        if w1 != l.w1 { return w1 < l.w1 }
        return w0 < l.w0
    }

    /// Bit i (0 = least significant) for i in 0..<256.
    @inline(__always)
    func bit(_ i: Int) -> UInt64 {
        let word: UInt64
        switch i >> 6 {
        case 0: word = w0
        case 1: word = w1
        case 2: word = w2
        default: word = w3
        }
        return (word >> UInt64(i & 63)) & 1
    }

    /// Reduces a 512-bit little-endian number (eight words, least significant
    /// first) modulo L.
    static func reduce(wide words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> Scalar {
        var r = Scalar(w0: 0, w1: 0, w2: 0, w3: 0)
        r.shiftInWord(words.7)
        r.shiftInWord(words.6)
        r.shiftInWord(words.5)
        r.shiftInWord(words.4)
        r.shiftInWord(words.3)
        r.shiftInWord(words.2)
        r.shiftInWord(words.1)
        r.shiftInWord(words.0)
        return r
    }

    /// r = (r * 2^64 + word) mod L, one bit at a time from the top. With
    /// r < L < 2^253, 2r + 1 < 2^254 never overflows four words.
    private mutating func shiftInWord(_ word: UInt64) {
        var i = 63
        while i >= 0 {
            w3 = w3 << 1 | w2 >> 63
            w2 = w2 << 1 | w1 >> 63
            w1 = w1 << 1 | w0 >> 63
            w0 = w0 << 1 | (word >> UInt64(i)) & 1
            if !isCanonical {
                subtractOrder()
            }
            i -= 1
        }
    }

    private mutating func subtractOrder() {
        let l = Scalar.order
        let s0 = w0.subtractingReportingOverflow(l.w0)
        let s1 = w1.subtractingReportingOverflow(l.w1)
        let s1b = s1.partialValue.subtractingReportingOverflow(s0.overflow ? 1 : 0)
        let s2 = w2.subtractingReportingOverflow(l.w2)
        let s2b = s2.partialValue.subtractingReportingOverflow(s1.overflow || s1b.overflow ? 1 : 0)
        let s3 = w3 &- l.w3 &- (s2.overflow || s2b.overflow ? 1 : 0)
        w0 = s0.partialValue
        w1 = s1b.partialValue
        w2 = s2b.partialValue
        w3 = s3
    }
}
