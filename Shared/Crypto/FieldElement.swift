// FieldElement: integers modulo p = 2^255 - 19 in five 51-bit limbs.
//
// A value is l0 + l1*2^51 + l2*2^102 + l3*2^153 + l4*2^204. Limbs are kept
// loosely reduced: results of `*`, `squared()`, `-` and `carried()` have every
// limb below 2^51 + 2^13 ("reduced"); `+` of two reduced values stays below
// 2^53 and is only fed to multiplications or used as the right-hand side of a
// subtraction. Multiplication accepts limbs up to 2^54 (the 128-bit column
// sums then stay below 2^115 and the final wrap-around carry times 19 fits in
// 64 bits). Only `canonicalWords()` produces the unique representative in
// [0, p), which equality, sign and zero tests use (RFC 8032 section 5.1.1).

struct FieldElement {
    var l0: UInt64
    var l1: UInt64
    var l2: UInt64
    var l3: UInt64
    var l4: UInt64

    static let mask: UInt64 = (1 << 51) - 1

    @inline(__always)
    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ l4: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
        self.l4 = l4
    }

    static var zero: FieldElement { FieldElement(0, 0, 0, 0, 0) }
    static var one: FieldElement { FieldElement(1, 0, 0, 0, 0) }

    /// Loads a 255-bit little-endian integer given as four 64-bit words; bit
    /// 255 (the sign bit of a point encoding) is ignored. Values in [p, 2^255)
    /// are accepted unreduced: arithmetic treats them modulo p.
    init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        let m = FieldElement.mask
        self.init(w0 & m,
                  (w0 >> 51 | w1 << 13) & m,
                  (w1 >> 38 | w2 << 26) & m,
                  (w2 >> 25 | w3 << 39) & m,
                  (w3 >> 12) & m)
    }

    /// One pass of carry propagation, folding the carry out of limb 4 back
    /// into limb 0 (2^255 = 19 mod p). Input limbs must be below 2^62.
    @inline(__always)
    func carried() -> FieldElement {
        let m = FieldElement.mask
        var r = self
        r.l1 &+= r.l0 >> 51; r.l0 &= m
        r.l2 &+= r.l1 >> 51; r.l1 &= m
        r.l3 &+= r.l2 >> 51; r.l2 &= m
        r.l4 &+= r.l3 >> 51; r.l3 &= m
        r.l0 &+= (r.l4 >> 51) &* 19; r.l4 &= m
        r.l1 &+= r.l0 >> 51; r.l0 &= m
        return r
    }

    /// Sum of two reduced elements, not carried (limbs below 2^53).
    @inline(__always)
    static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        FieldElement(a.l0 &+ b.l0, a.l1 &+ b.l1, a.l2 &+ b.l2, a.l3 &+ b.l3, a.l4 &+ b.l4)
    }

    /// Difference a - b, computed as a + 4p - b and carried. `b` may be a
    /// reduced value or an uncarried sum of two reduced values.
    @inline(__always)
    static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        // 4p in radix 2^51: limb 0 is 4 * (2^51 - 19), the others 4 * (2^51 - 1).
        let fourP0: UInt64 = 0x1F_FFFF_FFFF_FFB4
        let fourPi: UInt64 = 0x1F_FFFF_FFFF_FFFC
        return FieldElement(a.l0 &+ fourP0 &- b.l0,
                            a.l1 &+ fourPi &- b.l1,
                            a.l2 &+ fourPi &- b.l2,
                            a.l3 &+ fourPi &- b.l3,
                            a.l4 &+ fourPi &- b.l4).carried()
    }

    @inline(__always)
    static prefix func - (a: FieldElement) -> FieldElement {
        FieldElement.zero - a
    }

    /// Product modulo p. Limbs of both inputs must be below 2^54.
    static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let b1 = b.l1 &* 19, b2 = b.l2 &* 19, b3 = b.l3 &* 19, b4 = b.l4 &* 19
        var t0 = WideColumn(a.l0, b.l0)
        t0.add(a.l1, b4); t0.add(a.l2, b3); t0.add(a.l3, b2); t0.add(a.l4, b1)
        var t1 = WideColumn(a.l0, b.l1)
        t1.add(a.l1, b.l0); t1.add(a.l2, b4); t1.add(a.l3, b3); t1.add(a.l4, b2)
        var t2 = WideColumn(a.l0, b.l2)
        t2.add(a.l1, b.l1); t2.add(a.l2, b.l0); t2.add(a.l3, b4); t2.add(a.l4, b3)
        var t3 = WideColumn(a.l0, b.l3)
        t3.add(a.l1, b.l2); t3.add(a.l2, b.l1); t3.add(a.l3, b.l0); t3.add(a.l4, b4)
        var t4 = WideColumn(a.l0, b.l4)
        t4.add(a.l1, b.l3); t4.add(a.l2, b.l2); t4.add(a.l3, b.l1); t4.add(a.l4, b.l0)
        return WideColumn.reduce(&t0, &t1, &t2, &t3, &t4)
    }

    /// Square modulo p; cheaper than `self * self` (15 products instead of 25).
    func squared() -> FieldElement {
        let d0 = l0 &* 2, d1 = l1 &* 2
        let l3x19 = l3 &* 19, l4x19 = l4 &* 19
        let l4x38 = l4 &* 38
        var t0 = WideColumn(l0, l0)
        t0.add(d1, l4x19); t0.add(l2 &* 2, l3x19)
        var t1 = WideColumn(d0, l1)
        t1.add(l2 &* 2, l4x19); t1.add(l3, l3x19)
        var t2 = WideColumn(d0, l2)
        t2.add(l1, l1); t2.add(l3, l4x38)
        var t3 = WideColumn(d0, l3)
        t3.add(d1, l2); t3.add(l4, l4x19)
        var t4 = WideColumn(d0, l4)
        t4.add(d1, l3); t4.add(l2, l2)
        return WideColumn.reduce(&t0, &t1, &t2, &t3, &t4)
    }

    /// `squared()` applied n times (n >= 1).
    func squared(times n: Int) -> FieldElement {
        var r = self.squared()
        var i = 1
        while i < n {
            r = r.squared()
            i += 1
        }
        return r
    }

    /// The unique representative in [0, p) as four little-endian 64-bit words
    /// (bit 255 clear): the byte encoding of RFC 8032 section 5.1.2 without
    /// the sign bit.
    func canonicalWords() -> (UInt64, UInt64, UInt64, UInt64) {
        // Two carry passes leave every limb below 2^51, so the value is below
        // 2^255 and at most one subtraction of p is needed.
        var r = carried().carried()
        // q = 1 exactly when r >= p, i.e. when r + 19 reaches 2^255.
        var q = (r.l0 &+ 19) >> 51
        q = (r.l1 &+ q) >> 51
        q = (r.l2 &+ q) >> 51
        q = (r.l3 &+ q) >> 51
        q = (r.l4 &+ q) >> 51
        // r - p = r + 19 - 2^255: add 19q, carry, drop bit 255.
        let m = FieldElement.mask
        r.l0 &+= 19 &* q
        r.l1 &+= r.l0 >> 51; r.l0 &= m
        r.l2 &+= r.l1 >> 51; r.l1 &= m
        r.l3 &+= r.l2 >> 51; r.l2 &= m
        r.l4 &+= r.l3 >> 51; r.l3 &= m
        r.l4 &= m
        return (r.l0 | r.l1 << 51,
                r.l1 >> 13 | r.l2 << 38,
                r.l2 >> 26 | r.l3 << 25,
                r.l3 >> 39 | r.l4 << 12)
    }

    var isZero: Bool {
        let w = canonicalWords()
        return (w.0 | w.1 | w.2 | w.3) == 0
    }

    /// RFC 8032 calls an element "negative" when its canonical value is odd.
    var isNegative: Bool {
        canonicalWords().0 & 1 == 1
    }
}
