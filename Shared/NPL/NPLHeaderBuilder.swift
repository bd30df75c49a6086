// NPLHeaderBuilder: composing headers for images that are about to be signed.
//
// Signing itself needs a secret key and happens on the host (rumkv sign, with
// libsodium); this file only lays out the fields, so the host tool, the tests
// and any future on-target tooling build byte-identical headers.

import CRumABI

extension NPL {
    /// A version-1 header with a zero signature and zero reserved bytes. Its
    /// 128 bytes followed by the body are exactly the signed message.
    public static func makeHeader(arch: UInt8, flags: UInt16, bodySize: UInt64) -> rum_npl_header_t {
        var h = rum_npl_header_t()
        h.magic = magic.littleEndian
        h.version = version
        h.arch = arch
        h.flags = flags.littleEndian
        h.body_size = bodySize.littleEndian
        return h
    }

    /// Copies a 64-byte Ed25519 signature into the header.
    public static func setSignature(_ signature: UnsafeRawBufferPointer, in header: inout rum_npl_header_t) {
        precondition(signature.count == signatureSize, "an Ed25519 signature is 64 bytes")
        withUnsafeMutableBytes(of: &header.signature) { field in
            field.copyMemory(from: signature)
        }
    }
}
