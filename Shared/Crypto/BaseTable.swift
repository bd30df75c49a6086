// BaseTable: the odd multiples B, 3B, ..., 15B of the base point, precomputed.
//
// Affine points (Z = 1) in cached form, every limb fully reduced. They were
// computed from the curve definition (RFC 8032 section 5.1) with exact
// integer arithmetic, and the tests rebuild them from `EdwardsPoint.base` and
// compare. Returning one entry per call (rather than keeping a table value)
// keeps the table in the code and off the stack, and saves the eight point
// operations a per-call table would cost.

extension CachedPoint {
    /// vB for an odd v in 1...15.
    static func baseMultiple(odd v: UInt64) -> CachedPoint {
        switch v {
        case 1:
            return CachedPoint(
                yPlusX: FieldElement(0x493C6F58C3B85, 0xDF7181C325F7, 0xF50B0B3E4CB7, 0x5329385A44C32, 0x7CF9D3A33D4B),
                yMinusX: FieldElement(0x3905D740913E, 0xBA2817D673A2, 0x23E2827F4E67C, 0x133D2E0C21A34, 0x44FD2F9298F81),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x11205877AAA68, 0x479955893D579, 0x50D66309B67A0, 0x2D42D0DBEE5EE, 0x6F117B689F0C6))
        case 3:
            return CachedPoint(
                yPlusX: FieldElement(0x5B0A84CEE9730, 0x61D10C97155E4, 0x4059CC8096A10, 0x47A608DA8014F, 0x7A164E1B9A80F),
                yMinusX: FieldElement(0x11FE8A4FCD265, 0x7BCB8374FAACC, 0x52F5AF4EF4D4F, 0x5314098F98D10, 0x2AB91587555BD),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x6933F0DD0D889, 0x44386BB4C4295, 0x3CB6D3162508C, 0x26368B872A2C6, 0x5A2826AF12B9B))
        case 5:
            return CachedPoint(
                yPlusX: FieldElement(0x2BC4408A5BB33, 0x78EBDDA05442, 0x2FFB112354123, 0x375EE8DF5862D, 0x2945CCF146E20),
                yMinusX: FieldElement(0x182C3A447D6BA, 0x22964E536EFF2, 0x192821F540053, 0x2F9F19E788E5C, 0x154A7E73EB1B5),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x3DBF1812A8285, 0xFA17BA3F9797, 0x6F69CB49C3820, 0x34D5A0DB3858D, 0x43AABE696B3BB))
        case 7:
            return CachedPoint(
                yPlusX: FieldElement(0x25CD0944EA3BF, 0x75673B81A4D63, 0x150B925D1C0D4, 0x13F38D9294114, 0x461BEA69283C9),
                yMinusX: FieldElement(0x72C9AAA3221B1, 0x267774474F74D, 0x64B0E9B28085, 0x3F04EF53B27C9, 0x1D6EDD5D2E531),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x36DC801B8B3A2, 0xE0A7D4935E30, 0x1DEB7CECC0D7D, 0x53A94E20DD2C, 0x7A9FBB1C6A0F9))
        case 9:
            return CachedPoint(
                yPlusX: FieldElement(0x6678AA6A8632F, 0x5EA3788D8B365, 0x21BD6D6994279, 0x7ACE75919E4E3, 0x34B9ED338ADD7),
                yMinusX: FieldElement(0x6217E039D8064, 0x6DEA408337E6D, 0x57AC112628206, 0x647CB65E30473, 0x49C05A51FADC9),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x4E8BF9045AF1B, 0x514E33A45E0D6, 0x7533C5B8BFE0F, 0x583557B7E14C9, 0x73C172021B008))
        case 11:
            return CachedPoint(
                yPlusX: FieldElement(0x700848A802ADE, 0x1E04605C4E5F7, 0x5C0D01B9767FB, 0x7D7889F42388B, 0x4275AAE2546D8),
                yMinusX: FieldElement(0x75B0249864348, 0x52EE11070262B, 0x237AE54FB5ACD, 0x3BFD1D03AAAB5, 0x18AB598029D5C),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x32CC5FD6089E9, 0x426505C949B05, 0x46A18880C7AD2, 0x4A4221888CCDA, 0x3DC65522B53DF))
        case 13:
            return CachedPoint(
                yPlusX: FieldElement(0xC222A2007F6D, 0x356B79BDB77EE, 0x41EE81EFE12CE, 0x120A9BD07097D, 0x234FD7EEC346F),
                yMinusX: FieldElement(0x7013B327FBF93, 0x1336EEDED6A0D, 0x2B565A2BBF3AF, 0x253CE89591955, 0x267882D17602),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0xA119732EA378, 0x63BF1BA8E2A6C, 0x69F94CC90DF9A, 0x431D1779BFC48, 0x497BA6FDAA097))
        default:
            return CachedPoint(
                yPlusX: FieldElement(0x6CC0313CFEAA0, 0x1A313848DA499, 0x7CB534219230A, 0x39596DEDEFD60, 0x61E22917F12DE),
                yMinusX: FieldElement(0x3CD86468CCF0B, 0x48553221AC081, 0x6C9464B4E0A6E, 0x75FBA84180403, 0x43B5CD4218D05),
                z2: FieldElement(2, 0, 0, 0, 0),
                t2d: FieldElement(0x2762F9BD0B516, 0x1C6E7FBDDCBB3, 0x75909C3ACE2BD, 0x42101972D3EC9, 0x511D61210AE4D))
        }
    }
}
