// Tar: reading the members of a POSIX ustar archive in place.
//
// The payload store a guest receives is a ustar archive (POSIX.1-2001,
// "pax Interchange Format", ustar header): 512-byte header blocks, each
// followed by its data padded to 512 bytes, ended by zero blocks (or by the
// end of the buffer). `TarArchive.next` checks each header before handing
// out a member: the "ustar\0" "00" magic, the header checksum, an octal
// size whose data lies inside the buffer, a NUL-terminated name without the
// prefix field, and a regular-file or directory type. Nothing is copied or
// allocated; a member is a pair of byte ranges into the archive.

public enum TarError: Error, Equatable {
    /// Fewer than 512 bytes remain where a header should start.
    case truncatedHeader(offset: Int)
    /// The magic is not POSIX ustar ("ustar\0" version "00").
    case badMagic(offset: Int)
    /// The checksum field does not match the header's bytes.
    case badChecksum(offset: Int)
    /// A numeric field is not octal digits ended by NUL or space (or overflows).
    case badNumber(offset: Int)
    /// The member's data runs past the end of the archive.
    case sizePastEnd(offset: Int)
    /// The name is empty, unterminated, or uses the ustar prefix field.
    case badName(offset: Int)
    /// A member type other than a regular file or a directory.
    case unsupportedType(offset: Int, type: UInt8)

    public var reason: StaticString {
        switch self {
        case .truncatedHeader: "truncated tar header"
        case .badMagic: "not a ustar archive"
        case .badChecksum: "bad tar header checksum"
        case .badNumber: "bad number in tar header"
        case .sizePastEnd: "tar member runs past the end"
        case .badName: "bad tar member name"
        case .unsupportedType: "unsupported tar member type"
        }
    }
}

/// One member: where its name and data are in the archive.
public struct TarMember {
    /// Name bytes (no NUL).
    public let name: Range<Int>
    public let data: Range<Int>
    /// '0' (or NUL) for a regular file, '5' for a directory.
    public let type: UInt8
    public var isFile: Bool { type == 0x30 || type == 0 }
}

public struct TarArchive {
    public static let blockSize = 512
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The member whose header starts at `cursor`, advancing `cursor` past its
    /// data; nil at the end of the archive (a zero block or the buffer's end).
    public func next(_ cursor: inout Int) throws(TarError) -> TarMember? {
        let at = cursor
        guard at >= 0, at < bytes.count else { return nil }
        guard bytes.count - at >= Self.blockSize else { throw .truncatedHeader(offset: at) }
        if isZeroBlock(at) { return nil }
        guard matches(at + 257, "ustar\u{0}00") else { throw .badMagic(offset: at) }
        let stored = try octal(at + 148, 8, at)
        guard stored == checksum(at) else { throw .badChecksum(offset: at) }
        let size = try octal(at + 124, 12, at)
        let dataStart = at + Self.blockSize
        guard size <= UInt64(bytes.count - dataStart) else { throw .sizePastEnd(offset: at) }
        let name = try nameRange(at)
        let type = bytes[at + 156]
        guard type == 0x30 || type == 0 || type == 0x35 else { throw .unsupportedType(offset: at, type: type) }
        let dataEnd = dataStart + Int(size)
        let padded = (dataEnd + Self.blockSize - 1) / Self.blockSize * Self.blockSize
        cursor = min(padded, bytes.count)
        return TarMember(name: name, data: dataStart ..< dataEnd, type: type)
    }

    /// The regular file called `name`, if the archive has one (first match).
    public func find(_ name: UnsafeRawBufferPointer) throws(TarError) -> TarMember? {
        var cursor = 0
        while let m = try next(&cursor) {
            if m.isFile && equal(m.name, name) { return m }
        }
        return nil
    }

    public func slice(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[r]) }

    func equal(_ r: Range<Int>, _ other: UnsafeRawBufferPointer) -> Bool {
        guard r.count == other.count else { return false }
        for i in 0..<r.count where bytes[r.lowerBound + i] != other[i] { return false }
        return true
    }

    func isZeroBlock(_ at: Int) -> Bool {
        for i in at ..< at + Self.blockSize where bytes[i] != 0 { return false }
        return true
    }

    func matches(_ at: Int, _ s: StaticString) -> Bool {
        s.withUTF8Buffer { text in
            for i in 0..<text.count where bytes[at + i] != text[i] { return false }
            return true
        }
    }

    /// Sum of the header's bytes with the checksum field counted as spaces.
    func checksum(_ at: Int) -> UInt64 {
        var sum: UInt64 = 0
        for i in 0..<Self.blockSize {
            sum += (148..<156).contains(i) ? 0x20 : UInt64(bytes[at + i])
        }
        return sum
    }

    /// Octal digits, optionally led by spaces, ended by NUL or space or the field's end.
    func octal(_ field: Int, _ width: Int, _ header: Int) throws(TarError) -> UInt64 {
        var i = 0
        while i < width && bytes[field + i] == 0x20 { i += 1 }
        var value: UInt64 = 0
        var digits = 0
        while i < width {
            let c = bytes[field + i]
            if c == 0 || c == 0x20 { break }
            guard c >= 0x30, c <= 0x37, value >> 60 == 0 else { throw .badNumber(offset: header) }
            value = value << 3 | UInt64(c - 0x30)
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw .badNumber(offset: header) }
        return value
    }

    /// The name field up to its NUL; the ustar prefix field must be empty.
    func nameRange(_ at: Int) throws(TarError) -> Range<Int> {
        var n = 0
        while n < 100 && bytes[at + n] != 0 { n += 1 }
        guard n > 0, bytes[at + 345] == 0 else { throw .badName(offset: at) }
        return at ..< at + n
    }
}
