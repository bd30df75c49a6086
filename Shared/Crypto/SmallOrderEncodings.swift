// SmallOrderEncodings: the point encodings libsodium refuses as R or A.
//
// The eight points of order dividing 8 have y in {1, -1, 0, y8, -y8}, where
// y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
// solves d*y^4 + 2*y^2 - 1 = 0. libsodium (ge25519_has_small_order) compares
// the low 255 bits of an encoding against those y values plus the two
// non-canonical aliases p and p + 1 (of 0 and 1), ignoring the sign bit. Keys
// must also encode y below p (ge25519_is_canonical); R needs no such test
// because it is compared byte for byte with a canonical encoding.

enum SmallOrderEncodings {
    typealias Words = (UInt64, UInt64, UInt64, UInt64)

    /// True when the low 255 bits of `w` are one of the seven listed values.
    static func contains(_ w: Words) -> Bool {
        let w3 = w.3 & 0x7FFF_FFFF_FFFF_FFFF
        // 0 and 1.
        if w.1 == 0 && w.2 == 0 && w3 == 0 && w.0 <= 1 { return true }
        // p - 1, p and p + 1: 2^255 - 20 ... 2^255 - 18.
        if w.1 == ~0 && w.2 == ~0 && w3 == 0x7FFF_FFFF_FFFF_FFFF
            && w.0 >= 0xFFFF_FFFF_FFFF_FFEC && w.0 <= 0xFFFF_FFFF_FFFF_FFEE {
            return true
        }
        // y8 and p - y8 (order 8).
        if w.0 == 0xB027_B2C2_8F95_E826 && w.1 == 0xF098_EFF2_89F4_C345
            && w.2 == 0x3933_C6D3_05AC_DFD5 && w3 == 0x05FC_536D_8802_38B1 {
            return true
        }
        if w.0 == 0x4FD8_4D3D_706A_17C7 && w.1 == 0x0F67_100D_760B_3CBA
            && w.2 == 0xC6CC_392C_FA53_202A && w3 == 0x7A03_AC92_77FD_C74E {
            return true
        }
        return false
    }

    /// True when the low 255 bits of `w` are below p = 2^255 - 19.
    static func isCanonicalY(_ w: Words) -> Bool {
        let w3 = w.3 & 0x7FFF_FFFF_FFFF_FFFF
        return !(w.1 == ~0 && w.2 == ~0 && w3 == 0x7FFF_FFFF_FFFF_FFFF && w.0 >= 0xFFFF_FFFF_FFFF_FFED)
    }
}
