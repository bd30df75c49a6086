// Words: splitting a console line into whitespace-separated words.
//
// A fixed number of words, each a slice of the caller's line buffer; no copies,
// no heap. Extra words beyond the capacity are counted so a command can reject
// "too many arguments" instead of ignoring them.

public struct Words {
    public static let capacity = 8

    let line: UnsafeBufferPointer<UInt8>
    var starts: InlineArray<8, Int> = .init(repeating: 0)
    var ends: InlineArray<8, Int> = .init(repeating: 0)
    /// Words found, including any beyond `capacity`.
    public private(set) var count = 0

    public init(_ line: UnsafeBufferPointer<UInt8>) {
        self.line = line
        var i = 0
        while i < line.count {
            while i < line.count && line[i] == 32 { i += 1 }
            if i == line.count { break }
            let start = i
            while i < line.count && line[i] != 32 { i += 1 }
            if count < Words.capacity {
                starts[count] = start
                ends[count] = i
            }
            count += 1
        }
    }

    public subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        guard i < count, i < Words.capacity else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(rebasing: line[starts[i]..<ends[i]])
    }

    /// True if word `i` equals `s`.
    public func word(_ i: Int, is s: StaticString) -> Bool {
        let w = self[i]
        guard w.count == s.utf8CodeUnitCount else { return false }
        return s.withUTF8Buffer { u in
            for k in 0..<u.count where u[k] != w[k] { return false }
            return true
        }
    }

    /// Word `i` as an unsigned decimal or 0x-hex number; nil if it is not one.
    public func number(_ i: Int) -> UInt64? {
        let w = self[i]
        guard w.count > 0 else { return nil }
        var radix: UInt64 = 10
        var k = 0
        if w.count > 2 && w[0] == 48 && (w[1] == 120 || w[1] == 88) { radix = 16; k = 2 }
        var v: UInt64 = 0
        while k < w.count {
            let c = w[k]
            let d: UInt64
            switch c {
            case 48...57: d = UInt64(c - 48)
            case 97...102 where radix == 16: d = UInt64(c - 87)
            case 65...70 where radix == 16: d = UInt64(c - 55)
            default: return nil
            }
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            v = s
            k += 1
        }
        return v
    }
}
