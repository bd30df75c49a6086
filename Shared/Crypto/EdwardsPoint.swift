// EdwardsPoint: points of edwards25519 in extended coordinates.
//
// A point (x, y) on -x^2 + y^2 = 1 + d x^2 y^2 is held as (X : Y : Z : T) with
// x = X/Z, y = Y/Z and x*y = T/Z (Hisil, Wong, Carter, Dawson 2008; RFC 8032
// section 5.1.4). Addition uses the unified "add-2008-hwcd-3" law with a
// second operand in `CachedPoint` form, doubling uses "dbl-2008-hwcd". Both
// are complete on this curve, so identity and small-order points need no
// special cases. Decoding and encoding follow RFC 8032 sections 5.1.3/5.1.2.

struct EdwardsPoint {
    var x: FieldElement
    var y: FieldElement
    var z: FieldElement
    var t: FieldElement

    @inline(__always)
    init(x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement) {
        self.x = x
        self.y = y
        self.z = z
        self.t = t
    }

    static var identity: EdwardsPoint {
        EdwardsPoint(x: .zero, y: .one, z: .one, t: .zero)
    }

    /// The base point B of RFC 8032 section 5.1 (y = 4/5, x even).
    static var base: EdwardsPoint {
        let x = FieldElement(0x62D608F25D51A, 0x412A4B4F6592A, 0x75B7171A4B31D, 0x1FF60527118FE, 0x216936D3CD6E5)
        let y = FieldElement(0x6666666666658, 0x4CCCCCCCCCCCC, 0x1999999999999, 0x3333333333333, 0x6666666666666)
        return EdwardsPoint(x: x, y: y, z: .one, t: x * y)
    }

    /// Decodes a 32-byte point encoding given as four little-endian words.
    /// Like libsodium, a y in [p, 2^255) is reduced rather than rejected (the
    /// caller rejects it where required) and "negative zero" x is accepted.
    /// Returns nil when no x exists for y.
    init?(encoded w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        let y = FieldElement(words: w0, w1, w2, w3)
        let yy = y.squared()
        let u = yy - FieldElement.one               // y^2 - 1
        let v = yy * FieldElement.d + FieldElement.one // d y^2 + 1, never 0
        guard var x = FieldElement.sqrtRatio(u, v) else { return nil }
        if x.isNegative != (w3 >> 63 == 1) {
            x = -x
        }
        self.init(x: x, y: y, z: .one, t: x * y)
    }

    /// The canonical encoding as four little-endian words: y with the sign
    /// of x in bit 255.
    func encodedWords() -> (UInt64, UInt64, UInt64, UInt64) {
        let zInverse = z.inverted()
        let xs = x * zInverse
        let ys = y * zInverse
        let w = ys.canonicalWords()
        let sign: UInt64 = xs.isNegative ? 1 << 63 : 0
        return (w.0, w.1, w.2, w.3 | sign)
    }

    /// 2P. When `withT` is false the T coordinate is left stale, which is
    /// fine when the result is only doubled again. Kept out of line (like
    /// `+`) so callers share one frame for its temporaries: inlining eight
    /// of them into one function cost kilobytes of stack on aarch64.
    @inline(never)
    func doubled(withT: Bool = true) -> EdwardsPoint {
        let a = x.squared()
        let b = y.squared()
        let zz = z.squared()
        let c = zz + zz
        let e = (x + y).squared() - a - b
        let g = b - a          // -A + B with a = -1
        let f = g - c
        let h = -(a + b)       // -A - B
        return EdwardsPoint(x: e * f, y: g * h, z: f * g, t: withT ? e * h : .zero)
    }

    /// P + Q for Q in cached form.
    @inline(never)
    static func + (p: EdwardsPoint, q: CachedPoint) -> EdwardsPoint {
        let a = (p.y - p.x) * q.yMinusX
        let b = (p.y + p.x) * q.yPlusX
        let c = p.t * q.t2d
        let d = p.z * q.z2
        let e = b - a
        let f = d - c
        let g = d + c
        let h = b + a
        return EdwardsPoint(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    var cached: CachedPoint {
        CachedPoint(yPlusX: y + x, yMinusX: y - x, z2: z + z, t2d: t * FieldElement.d2)
    }

    /// -P = (-x, y).
    var negated: EdwardsPoint {
        EdwardsPoint(x: -x, y: y, z: z, t: -t)
    }
}

/// A point prepared as the second operand of an addition:
/// (Y + X, Y - X, 2Z, 2dT).
struct CachedPoint {
    var yPlusX: FieldElement
    var yMinusX: FieldElement
    var z2: FieldElement
    var t2d: FieldElement
}
