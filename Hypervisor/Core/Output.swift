// Output: allocation-free console printing for the hypervisor.
//
// The hypervisor never uses `String` or `print`: both pull in the Unicode
// tables and a heap. `Out<A>` writes static strings, byte buffers and numbers
// (decimal, hexadecimal, sizes) straight to the architecture's console, and
// translates "\n" into "\r\n" for terminals.

/// Console printing helpers for architecture `A`.
public enum Out<A: Architecture> {
    /// Writes one byte, turning a line feed into CR LF. Out of line, like
    /// every printer here: inlined into each call site, the console write
    /// loops made up a fifth of the hypervisor's text, and printing is not a
    /// fast path.
    @inline(never)
    public static func byte(_ b: UInt8) {
        if b == 10 { A.consoleWrite(13) }
        A.consoleWrite(b)
    }

    @inline(never)
    public static func str(_ s: StaticString) {
        s.withUTF8Buffer { buf in
            for b in buf { byte(b) }
        }
    }

    @inline(never)
    public static func line(_ s: StaticString) {
        str(s)
        byte(10)
    }

    @inline(never)
    public static func bytes(_ buf: UnsafeBufferPointer<UInt8>) {
        for b in buf { byte(b) }
    }

    /// Writes a NUL-terminated or length-bounded C string, replacing
    /// non-printable bytes with '?', so hostile input cannot drive the terminal.
    @inline(never)
    public static func printable(_ buf: UnsafeBufferPointer<UInt8>) {
        for b in buf {
            if b == 0 { break }
            byte(b >= 0x20 && b < 0x7F ? b : UInt8(ascii: "?"))
        }
    }

    @inline(never)
    public static func dec(_ value: UInt64) {
        var digits: (UInt64, UInt8) = (1, 0)
        var v = value
        while v >= 10 { v /= 10; digits.0 *= 10; digits.1 += 1 }
        var rest = value
        var scale = digits.0
        while scale > 0 {
            byte(UInt8(truncatingIfNeeded: rest / scale) + 48)
            rest %= scale
            scale /= 10
        }
    }

    @inline(never)
    public static func dec(_ value: Int) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            dec(UInt64(bitPattern: Int64(0 &- value)))
        } else {
            dec(UInt64(value))
        }
    }

    /// Writes `0x` followed by exactly `digits` hexadecimal digits.
    @inline(never)
    public static func hex(_ value: UInt64, digits: Int = 16) {
        str("0x")
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            byte(nibble < 10 ? nibble + 48 : nibble + 87)
            shift -= 4
        }
    }

    /// Writes a byte count in the largest exact-enough unit: "128 MiB", "4 KiB", "17 B".
    @inline(never)
    public static func size(_ bytes: UInt64) {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { dec(bytes >> 30); str(" GiB") }
        else if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { dec(bytes >> 20); str(" MiB") }
        else if bytes >= 1 << 20 { dec(bytes >> 20); str(".") ; dec(((bytes & 0xFFFFF) * 10) >> 20); str(" MiB") }
        else if bytes >= 1 << 10 { dec(bytes >> 10); str(" KiB") }
        else { dec(bytes); str(" B") }
    }

    /// Pads with spaces to reach a column width after printing `written` bytes.
    @inline(never)
    public static func pad(_ written: Int, to width: Int) {
        var n = written
        while n < width { byte(32); n += 1 }
    }
}
