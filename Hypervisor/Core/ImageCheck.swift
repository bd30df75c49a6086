// ImageCheck: verifying a guest image before it may run.
//
// Each guest image in the bundle is an NPL image (rumabi.h): the hypervisor
// checks header, architecture and Ed25519 signature against the public keys
// linked into it at build time (trusted_keys.h), never against anything in
// the bundle. The bundle stays in hypervisor-only memory (no guest maps it),
// so an image verified once stays verified: restarts copy the same bytes
// without paying for the signature check again (blink recovery's 2 ms).

import RumABI
import RumNPL

public enum ImageCheck {
    /// Verifies the NPL image at [address, address + size); returns the body range.
    public static func verify(address: UInt64, size: UInt64, arch: UInt8) -> Result<(UInt64, UInt64), ImageRefusal> {
        guard let p = UnsafeRawPointer(bitPattern: UInt(address)) else { return .failure(ImageRefusal(.tooShort)) }
        let image = UnsafeRawBufferPointer(start: p, count: Int(size))
        let keyBase = UnsafeRawPointer(rum_trusted_keys_base())
        let keys = UnsafeRawBufferPointer(start: keyBase, count: Int(rum_trusted_keys_count()) * 32)
        guard let trusted = NPLTrustedKeys(concatenated: keys) else { return .failure(ImageRefusal(.noKeys)) }
        do {
            let v = try NPL.verify(image: image, expectedArch: arch, trustedKeys: trusted, sizePolicy: .exact)
            guard v.flags & UInt16(RUM_NPL_F_GUEST_IMAGE) != 0 else { return .failure(ImageRefusal(.notGuestImage)) }
            return .success((address + UInt64(v.body.lowerBound), UInt64(v.body.count)))
        } catch {
            return .failure(ImageRefusal(reason(error)))
        }
    }

    static func reason(_ e: NPLError) -> ImageRefusal.Reason {
        switch e {
        case .tooShort: .tooShort
        case .badMagic: .unsigned
        case .badVersion: .badVersion
        case .wrongArch: .wrongArch
        case .unknownFlags, .reservedNotZero: .badHeader
        case .bodySizeOverflow, .truncated, .trailingBytes: .badSize
        case .badSignature: .badSignature
        }
    }
}

public struct ImageRefusal: Error {
    public enum Reason: UInt8 {
        case tooShort, unsigned, badVersion, wrongArch, badHeader, badSize, badSignature, noKeys, notGuestImage
    }
    public let reason: Reason
    init(_ r: Reason) { reason = r }

    public var text: StaticString {
        switch reason {
        case .tooShort: "refused: shorter than an NPL header"
        case .unsigned: "refused: not a signed NPL image (bad magic)"
        case .badVersion: "refused: unsupported NPL version"
        case .wrongArch: "refused: built for another architecture"
        case .badHeader: "refused: unknown flags or reserved bytes set"
        case .badSize: "refused: body size does not match the image"
        case .badSignature: "refused: signature does not verify with a trusted key"
        case .noKeys: "refused: the hypervisor has no trusted keys"
        case .notGuestImage: "refused: not marked as a guest image"
        }
    }
}
