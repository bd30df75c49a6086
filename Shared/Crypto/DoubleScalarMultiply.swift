// DoubleScalarMultiply: [s]B + [k]P in one pass of shared doublings (Straus).
//
// Each scalar is scanned from the top with an unsigned sliding window of
// width 4, so only the odd multiples P, 3P, ..., 15P are tabulated (eight
// cached points per base: constants for B, see BaseTable.swift, and a 1.25 KiB
// table on the stack for the other point) and no digit array is stored.
// Variable time: verification handles public data only.

/// The odd multiples P, 3P, ..., 15P of one point: entry i is (2i + 1)P.
/// Filled and read through a pointer (a homogeneous tuple is laid out as an
/// array), so the caller's frame holds the only copy.
typealias OddMultiples = (CachedPoint, CachedPoint, CachedPoint, CachedPoint,
                          CachedPoint, CachedPoint, CachedPoint, CachedPoint)

extension CachedPoint {
    static var zero: CachedPoint {
        CachedPoint(yPlusX: .zero, yMinusX: .zero, z2: .zero, t2d: .zero)
    }

    /// Writes P, 3P, ..., 15P to `table[0...7]`.
    @inline(never)
    static func fillOddMultiples(_ table: UnsafeMutablePointer<CachedPoint>, of p: EdwardsPoint) {
        let twice = p.doubled().cached
        var q = p
        var i = 0
        while true {
            table[i] = q.cached
            i += 1
            if i == 8 { break }
            q = q + twice
        }
    }
}

/// Left-to-right sliding-window state for one scalar: which odd window value
/// is due at which bit position.
struct SlidingWindow {
    static let width = 4
    /// Bit position at which `value` must be added, or -1 when none is pending.
    var position = -1
    var value: UInt64 = 0

    /// Opens a window whose top bit is i when none is pending and bit i is set.
    @inline(__always)
    mutating func open(_ scalar: Scalar, at i: Int) {
        guard position < 0, scalar.bit(i) == 1 else { return }
        var low = i - (SlidingWindow.width - 1)
        if low < 0 { low = 0 }
        while scalar.bit(low) == 0 { low += 1 }  // bit i is set, so this stops
        var v: UInt64 = 0
        var j = i
        while j >= low {
            v = v << 1 | scalar.bit(j)
            j -= 1
        }
        position = low
        value = v
    }
}

extension EdwardsPoint {
    /// [s]B + [k]P where B is the base point. Both scalars are below 2^256.
    static func baseMultiplyAdd(s: Scalar, k: Scalar, p: EdwardsPoint) -> EdwardsPoint {
        let zero = CachedPoint.zero
        var table: OddMultiples = (zero, zero, zero, zero, zero, zero, zero, zero)
        return withUnsafeMutablePointer(to: &table) { tuple in
            // A homogeneous tuple is laid out as an array of its element type.
            tuple.withMemoryRebound(to: CachedPoint.self, capacity: 8) { entries in
                CachedPoint.fillOddMultiples(entries, of: p)
                return straus(s: s, k: k, table: entries)
            }
        }
    }

    /// The shared-doubling loop over both sliding windows.
    /// `table` holds the odd multiples of P.
    @inline(never)
    private static func straus(s: Scalar, k: Scalar, table: UnsafeMutablePointer<CachedPoint>) -> EdwardsPoint {
        var sWindow = SlidingWindow()
        var kWindow = SlidingWindow()
        var acc = EdwardsPoint.identity
        var started = false
        var i = 255
        while i >= 0 {
            sWindow.open(s, at: i)
            kWindow.open(k, at: i)
            let addS = sWindow.position == i
            let addK = kWindow.position == i
            if started {
                // T is only needed by a following addition, or in the result.
                acc = acc.doubled(withT: addS || addK || i == 0)
            }
            if addS {
                acc = acc + CachedPoint.baseMultiple(odd: sWindow.value)
                sWindow.position = -1
                started = true
            }
            if addK {
                acc = acc + table[Int(kWindow.value >> 1)]
                kWindow.position = -1
                started = true
            }
            i -= 1
        }
        return acc
    }
}
