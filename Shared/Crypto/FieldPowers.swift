// FieldPowers: inversion, square roots and the curve constants of edwards25519.
//
// Both exponentiations share one addition chain that builds z^(2^250 - 1)
// from runs of squarings; inversion is z^(p-2) = z^(2^255 - 21) (Fermat) and
// square-root candidates use z^((p-5)/8) = z^(2^252 - 3) as in RFC 8032
// section 5.1.3. The constants were derived from their definitions
// (d = -121665/121666, sqrt(-1) = 2^((p-1)/4)) and are checked by the tests.

extension FieldElement {
    /// d = -121665/121666 mod p, the Edwards curve constant.
    static var d: FieldElement {
        FieldElement(0x34DCA135978A3, 0x1A8283B156EBD, 0x5E7A26001C029, 0x739C663A03CBB, 0x52036CEE2B6FF)
    }

    /// 2d, used by the extended-coordinates addition law.
    static var d2: FieldElement {
        FieldElement(0x69B9426B2F159, 0x35050762ADD7A, 0x3CF44C0038052, 0x6738CC7407977, 0x2406D9DC56DFF)
    }

    /// A square root of -1 modulo p (2^((p-1)/4)).
    static var sqrtMinusOne: FieldElement {
        FieldElement(0x61B274A0EA0B0, 0x0D5A5FC8F189D, 0x7EF5E9CBD0C60, 0x78595A6804C9E, 0x2B8324804FC1D)
    }

    /// Returns (z^(2^250 - 1), z^11).
    private func pow2250m1() -> (FieldElement, FieldElement) {
        let z2 = squared()                       // 2
        let z9 = self * z2.squared(times: 2)     // 9
        let z11 = z2 * z9                        // 11
        let z31 = z9 * z11.squared()             // 2^5 - 1
        let e10 = z31.squared(times: 5) * z31    // 2^10 - 1
        let e20 = e10.squared(times: 10) * e10   // 2^20 - 1
        let e40 = e20.squared(times: 20) * e20   // 2^40 - 1
        let e50 = e40.squared(times: 10) * e10   // 2^50 - 1
        let e100 = e50.squared(times: 50) * e50  // 2^100 - 1
        let e200 = e100.squared(times: 100) * e100 // 2^200 - 1
        let e250 = e200.squared(times: 50) * e50 // 2^250 - 1
        return (e250, z11)
    }

    /// The multiplicative inverse (0 maps to 0).
    func inverted() -> FieldElement {
        let (e250, z11) = pow2250m1()
        return e250.squared(times: 5) * z11      // 2^255 - 21
    }

    /// z^((p-5)/8) = z^(2^252 - 3).
    func powP58() -> FieldElement {
        let (e250, _) = pow2250m1()
        return e250.squared(times: 2) * self
    }

    /// A square root of u/v, or nil when u/v is not a square (RFC 8032
    /// section 5.1.3 step 2-3). v must not be zero.
    static func sqrtRatio(_ u: FieldElement, _ v: FieldElement) -> FieldElement? {
        let v3 = v.squared() * v
        let v7 = v3.squared() * v
        var x = u * v3 * (u * v7).powP58()
        let vxx = v * x.squared()
        if !(vxx - u).isZero {
            if !(vxx + u).isZero {
                return nil
            }
            x = x * FieldElement.sqrtMinusOne
        }
        return x
    }
}
