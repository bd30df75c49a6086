// WideColumn: the 128-bit column sums of field multiplication.
//
// Schoolbook multiplication in radix 2^51 adds up to five 102-bit products
// (some times 19) per output limb, which needs more than 64 bits. A column is
// kept as a (hi, lo) pair built from `multipliedFullWidth`, so the code needs
// no UInt128 (unavailable on older Apple hosts) and no compiler-rt helpers on
// the bare-metal targets. `reduce` carries five columns into a field element.

/// A 128-bit column accumulator.
struct WideColumn {
    var hi: UInt64
    var lo: UInt64

    @inline(__always)
    init(_ x: UInt64, _ y: UInt64) {
        let p = x.multipliedFullWidth(by: y)
        hi = p.high
        lo = p.low
    }

    @inline(__always)
    mutating func add(_ x: UInt64, _ y: UInt64) {
        let p = x.multipliedFullWidth(by: y)
        let s = lo.addingReportingOverflow(p.low)
        lo = s.partialValue
        hi = hi &+ p.high &+ (s.overflow ? 1 : 0)
    }

    /// Adds a 64-bit carry into the column.
    @inline(__always)
    mutating func add(carry c: UInt64) {
        let s = lo.addingReportingOverflow(c)
        lo = s.partialValue
        hi = hi &+ (s.overflow ? 1 : 0)
    }

    /// Bits 51 and up (the column's carry), valid while the column is below 2^115.
    @inline(__always)
    var carry: UInt64 { hi << 13 | lo >> 51 }

    /// Carries five columns into a reduced field element.
    @inline(__always)
    static func reduce(_ t0: inout WideColumn, _ t1: inout WideColumn, _ t2: inout WideColumn,
                       _ t3: inout WideColumn, _ t4: inout WideColumn) -> FieldElement {
        let m = FieldElement.mask
        t1.add(carry: t0.carry)
        t2.add(carry: t1.carry)
        t3.add(carry: t2.carry)
        t4.add(carry: t3.carry)
        var r0 = (t0.lo & m) &+ t4.carry &* 19
        let r1 = (t1.lo & m) &+ r0 >> 51
        r0 &= m
        return FieldElement(r0, r1, t2.lo & m, t3.lo & m, t4.lo & m)
    }
}
