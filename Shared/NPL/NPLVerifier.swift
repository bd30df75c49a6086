// NPLVerifier: decides whether an NPL image may run ("only signed code executes").
//
// `check` validates the header's shape against the image; `verify` adds the
// Ed25519 check: the signature covers the 128-byte header with its signature
// field zeroed, followed by exactly body_size body bytes. By default the image
// must be exactly 128 + body_size bytes long; `.allowTrailingBytes` accepts a
// longer buffer (for instance a page-rounded load) and ignores, and never
// returns, the bytes after the body. Nothing allocates.

import CRumABI
import RumCrypto

/// Whether bytes after the body are an error.
public enum NPLSizePolicy {
    case exact
    case allowTrailingBytes
}

/// A header that passed every structural check.
public struct NPLLayout {
    public let arch: UInt8
    public let flags: UInt16
    /// Byte offsets of the body within the image.
    public let body: Range<Int>
}

/// An image whose signature verified.
public struct NPLVerifiedImage {
    public let arch: UInt8
    public let flags: UInt16
    /// Byte offsets of the body within the image.
    public let body: Range<Int>
    /// Index into the trusted keys of the key that verified.
    public let keyIndex: Int
}

extension NPL {
    /// Reads the header (no alignment required).
    public static func header(of image: UnsafeRawBufferPointer) throws(NPLError) -> rum_npl_header_t {
        guard image.count >= headerSize else { throw .tooShort(count: image.count) }
        return image.loadUnaligned(as: rum_npl_header_t.self)
    }

    /// Structural checks only, in the order of `NPLError`.
    public static func check(image: UnsafeRawBufferPointer, expectedArch: UInt8,
                             sizePolicy: NPLSizePolicy = .exact) throws(NPLError) -> NPLLayout {
        let h = try header(of: image)
        let magicValue = UInt32(littleEndian: h.magic)
        guard magicValue == magic else { throw .badMagic(found: magicValue) }
        guard h.version == version else { throw .badVersion(found: h.version) }
        guard h.arch == expectedArch else { throw .wrongArch(found: h.arch) }
        let flags = UInt16(littleEndian: h.flags)
        guard flags & ~knownFlags == 0 else { throw .unknownFlags(found: flags) }
        let reservedClear = withUnsafeBytes(of: h.reserved) { reserved in
            var i = 0
            while i < reserved.count {
                if reserved[i] != 0 { return false }
                i += 1
            }
            return true
        }
        guard reservedClear else { throw .reservedNotZero }
        let bodySize = UInt64(littleEndian: h.body_size)
        guard bodySize <= UInt64(Int.max - headerSize) else { throw .bodySizeOverflow(bodySize: bodySize) }
        let end = headerSize + Int(bodySize)
        if image.count < end { throw .truncated(expected: end, found: image.count) }
        if image.count > end && sizePolicy == .exact { throw .trailingBytes(expected: end, found: image.count) }
        return NPLLayout(arch: h.arch, flags: flags, body: headerSize ..< end)
    }

    /// Full verification: `check`, then the signature against each trusted key
    /// in turn. Returns the body range and the index of the key that verified.
    public static func verify(image: UnsafeRawBufferPointer, expectedArch: UInt8,
                              trustedKeys: NPLTrustedKeys,
                              sizePolicy: NPLSizePolicy = .exact) throws(NPLError) -> NPLVerifiedImage {
        let layout = try check(image: image, expectedArch: expectedArch, sizePolicy: sizePolicy)
        let h = image.loadUnaligned(as: rum_npl_header_t.self)
        let signature = h.signature
        let signed = signedHeader(h)
        let body = UnsafeRawBufferPointer(rebasing: image[layout.body])
        let keyIndex = withUnsafeBytes(of: signed) { headerBytes in
            withUnsafeBytes(of: signature) { signatureBytes in
                var i = 0
                while i < trustedKeys.count {
                    if Ed25519.verify(publicKey: trustedKeys[i], signature: signatureBytes,
                                      parts: (headerBytes, body)) {
                        return i
                    }
                    i += 1
                }
                return -1
            }
        }
        guard keyIndex >= 0 else { throw .badSignature }
        return NPLVerifiedImage(arch: layout.arch, flags: layout.flags, body: layout.body, keyIndex: keyIndex)
    }

    /// The header as signed: the signature field zeroed.
    public static func signedHeader(_ header: rum_npl_header_t) -> rum_npl_header_t {
        var h = header
        withUnsafeMutableBytes(of: &h.signature) { bytes in
            var i = 0
            while i < bytes.count {
                bytes[i] = 0
                i += 1
            }
        }
        return h
    }
}
