// ConfigByteSize: reading and printing memory sizes the way configs write them.
//
// Configs write sizes as "4M", "512K", "1G" (binary units; "4MiB" is accepted
// too) or as a plain number of bytes. Printing picks the largest unit that
// divides the size exactly, so messages say "3 MiB" rather than "3145728".

public enum ByteSize {
    /// Bytes for "16M", "512K", "1G", "4MiB" or "4096"; nil if `text` is none of these or overflows.
    public static func parse(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var shift: UInt64 = 0
        for (suffixes, s) in [(["K", "KiB", "k"], 10), (["M", "MiB"], 20), (["G", "GiB"], 30)] as [([String], UInt64)] {
            if let suffix = suffixes.first(where: { digits.hasSuffix($0) }) {
                digits = digits.dropLast(suffix.count); shift = s; break
            }
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(digits),
              n <= (UInt64.max >> shift) else { return nil }
        return n << shift
    }

    /// "4 MiB", "1 GiB", "512 KiB" or "12345 bytes".
    public static func format(_ bytes: UInt64) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] as [(String, UInt64)]
        where bytes != 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
