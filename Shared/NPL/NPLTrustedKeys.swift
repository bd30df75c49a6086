// NPLTrustedKeys: one or more Ed25519 public keys, read in place.
//
// The keys are N x 32 bytes back to back in memory the caller owns (a
// constant linked into the image, a config blob, a Swift array on the host).
// Nothing is copied or allocated; the caller keeps the memory alive while the
// value is used.

public struct NPLTrustedKeys {
    public static let keySize = 32

    /// The concatenated keys.
    public let bytes: UnsafeRawBufferPointer

    /// nil unless `concatenated` holds a whole, non-zero number of keys.
    public init?(concatenated: UnsafeRawBufferPointer) {
        guard concatenated.count > 0, concatenated.count % NPLTrustedKeys.keySize == 0 else {
            return nil
        }
        bytes = concatenated
    }

    public var count: Int { bytes.count / NPLTrustedKeys.keySize }

    /// Key i (0 ..< count).
    public subscript(i: Int) -> UnsafeRawBufferPointer {
        precondition(i >= 0 && i < count, "trusted key index out of range")
        let start = i * NPLTrustedKeys.keySize
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< start + NPLTrustedKeys.keySize])
    }
}
