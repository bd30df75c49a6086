// NPLTestSupport: building signed NPL images in tests with libsodium.
//
// The header comes from NPL.makeHeader (the code under test) and, as a cross
// check, from raw bytes written at the offsets rumabi.h documents; signing
// uses libsodium over header-with-zero-signature || body.

import CRumABI
import RumNPL
import XCTest
import TestSupport

struct TestSigner {
    let publicKey: [UInt8]
    let secretKey: [UInt8]

    init(seed: UInt64) {
        var g = SplitMix64(seed: seed)
        (publicKey, secretKey) = Sodium.seedKeypair(g.bytes(32))
    }

    /// A signed image built through NPL.makeHeader / NPL.setSignature.
    func image(arch: UInt8 = NPLArch.riscv64.rawValue, flags: UInt16 = NPL.flagELF, body: [UInt8]) -> [UInt8] {
        var header = NPL.makeHeader(arch: arch, flags: flags, bodySize: UInt64(body.count))
        let message = withUnsafeBytes(of: header) { Array($0) } + body
        let signature = Sodium.sign(message, secretKey: secretKey)
        signature.withUnsafeBytes { NPL.setSignature($0, in: &header) }
        return withUnsafeBytes(of: header) { Array($0) } + body
    }

    /// Re-signs `image` as it stands (header fields as given, any body_size),
    /// so tests can produce validly signed images with odd headers.
    func resign(_ image: [UInt8]) -> [UInt8] {
        var unsigned = image
        for i in 0x08..<0x48 { unsigned[i] = 0 }
        let signature = Sodium.sign(unsigned, secretKey: secretKey)
        unsigned.replaceSubrange(0x08..<0x48, with: signature)
        return unsigned
    }
}

/// Runs NPL.verify on arrays.
func verifyNPL(_ image: [UInt8], arch: UInt8 = NPLArch.riscv64.rawValue, keys: [[UInt8]],
               sizePolicy: NPLSizePolicy = .exact) -> Result<NPLVerifiedImage, NPLError> {
    let flat = keys.flatMap { $0 }
    return image.withUnsafeBytes { img in
        flat.withUnsafeBytes { k in
            Result { () throws(NPLError) -> NPLVerifiedImage in
                try NPL.verify(image: img, expectedArch: arch, trustedKeys: NPLTrustedKeys(concatenated: k)!,
                               sizePolicy: sizePolicy)
            }
        }
    }
}

func storeLE<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
    for i in 0..<MemoryLayout<T>.size {
        bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i))
    }
}
