// NPLFormat: the constants and byte offsets of the 128-byte NPL payload header.
//
// The layout is declared once, as `rum_npl_header_t` in rumabi.h (which
// asserts every offset); this file names its constants for Swift and records
// the offsets the verifier reads, and the host tests check both against
// MemoryLayout. All multi-byte fields are little-endian.

import CRumABI

/// The architecture byte at offset 0x05.
public enum NPLArch: UInt8 {
    case arm64 = 0xAA
    case x86_64 = 0xEE
    case riscv64 = 0x55

    /// The architecture this code was compiled for, if NPL has a code for it.
    public static var current: NPLArch? {
        #if arch(arm64)
        return .arm64
        #elseif arch(x86_64)
        return .x86_64
        #elseif arch(riscv64)
        return .riscv64
        #else
        return nil
        #endif
    }
}

public enum NPL {
    /// sizeof(rum_npl_header_t).
    public static let headerSize = 128
    /// Bytes 7F 'N' 'P' 'L' read as a little-endian UInt32.
    public static let magic = UInt32(RUM_NPL_MAGIC)
    public static let version = UInt8(RUM_NPL_VERSION)

    /// Body is an ELF64 executable.
    public static let flagELF = UInt16(RUM_NPL_F_ELF)
    /// Body is a guest kernel image.
    public static let flagGuestImage = UInt16(RUM_NPL_F_GUEST_IMAGE)
    /// Every flag bit version 1 defines; any other bit is rejected.
    public static let knownFlags = flagELF | flagGuestImage

    static let magicOffset = 0x00
    static let versionOffset = 0x04
    static let archOffset = 0x05
    static let flagsOffset = 0x06
    static let signatureOffset = 0x08
    static let signatureSize = 64
    static let bodySizeOffset = 0x48
    static let reservedOffset = 0x50
    static let reservedSize = 48
}
