// PayloadID: the SipHash-2-4 provenance id of a payload.
//
// A payload is named in commands by a 128-bit id, never by its text: id =
// SipHash-2-4-128(key, name bytes), where the key is the guest's own SipHash
// id from the SysTable (sip_id_lo, sip_id_hi) XORed with the ASCII words
// "rumpk:pa" and "yload-id" (little-endian) for domain separation. The same
// name thus has a different id in every guest whose hypervisor gives it a
// distinct sip_id, and a fixed, documented one when sip_id is zero.
// CmdPacket.id_lo / id_hi carry the two halves (docs/design/004-rumpk-payloads.md).

import RumCrypto

public enum PayloadID {
    public static let domain0: UInt64 = 0x6170_3A6B_706D_7572   // "rumpk:pa"
    public static let domain1: UInt64 = 0x6469_2D64_616F_6C79   // "yload-id"

    /// The id key of a guest whose SysTable sip id is (`low`, `high`).
    public static func key(sipLow low: UInt64, sipHigh high: UInt64) -> SipHashKey {
        SipHashKey(k0: low ^ domain0, k1: high ^ domain1)
    }

    /// The id of the payload called `name` (its bytes, without ".npl").
    public static func of(_ name: UnsafeRawBufferPointer, key: SipHashKey) -> (low: UInt64, high: UInt64) {
        SipHash24.hash128(key: key, bytes: name)
    }
}
