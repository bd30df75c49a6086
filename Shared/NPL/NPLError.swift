// NPLError: every way an NPL image can be refused, one case each.
//
// The verifier checks in a fixed order (size of the header, magic, version,
// architecture, flags, reserved bytes, body size, signature) and reports the
// first failure, with the offending value where there is one, so a loader can
// log a precise reason without reparsing.

public enum NPLError: Error, Equatable {
    /// The image is shorter than the 128-byte header.
    case tooShort(count: Int)
    /// Bytes 0..<4 are not 7F 'N' 'P' 'L' (value read little-endian).
    case badMagic(found: UInt32)
    /// The version byte is not 1.
    case badVersion(found: UInt8)
    /// The arch byte is not the one the loader expects.
    case wrongArch(found: UInt8)
    /// Flag bits outside `NPL.knownFlags` are set.
    case unknownFlags(found: UInt16)
    /// A reserved byte (0x50..<0x80) is not zero.
    case reservedNotZero
    /// 128 + body_size does not fit in the address space.
    case bodySizeOverflow(bodySize: UInt64)
    /// The image ends before the body does.
    case truncated(expected: Int, found: Int)
    /// The image is longer than 128 + body_size (only under `.exact`).
    case trailingBytes(expected: Int, found: Int)
    /// No trusted key verifies the signature.
    case badSignature
}
