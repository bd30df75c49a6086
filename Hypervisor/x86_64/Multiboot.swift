// Multiboot: a bounds-checked, allocation-free reader of multiboot2 boot information.
//
// GRUB hands the hypervisor this structure in ebx; it is input from outside
// and treated as hostile. `MultibootInfo(validating:)` checks the header and
// walks every tag once (each at least 8 bytes, 8-byte aligned, inside
// `total_size`, ending with an end tag), so the later walks cannot leave the
// buffer; each tag's own payload is bounds-checked again where it is decoded.
// Layout per the Multiboot2 Specification 2.0, section 3.6: little-endian, a
// `total_size`/reserved header, then tags `{ u32 type, u32 size, payload }`.
// Nothing here touches hardware, so it can be host-tested like DeviceTree.

enum MultibootError: Error, Equatable {
    case tooSmall
    case badTotalSize
    case malformedTag
    case missingEndTag
}

/// Tag types used by Rumkv (Multiboot2 spec 3.6.1 onwards).
enum MultibootTag: UInt32 {
    case end = 0
    case module = 3
    case memoryMap = 6
    case acpiOldRSDP = 14
    case acpiNewRSDP = 15
}

/// One entry of the memory-map tag (spec 3.6.8).
struct MultibootRegion {
    let base: UInt64
    let length: UInt64
    /// 1 available RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 defective.
    let type: UInt32
    static let available: UInt32 = 1
}

struct MultibootInfo {
    /// The value GRUB leaves in eax (spec 3.3).
    static let bootloaderMagic: UInt64 = 0x36D7_6289
    /// Larger information is refused rather than trusted (GRUB's is a few KiB).
    static let maxSize = 1 << 20

    let blob: UnsafeRawBufferPointer

    /// Reads `total_size` from an unvalidated pointer so the caller can build the buffer.
    static func peekTotalSize(_ header: UnsafeRawPointer) -> Int {
        Int(le32(UnsafeRawBufferPointer(start: header, count: 4), 0))
    }

    init(validating buffer: UnsafeRawBufferPointer) throws(MultibootError) {
        guard buffer.count >= 16 else { throw .tooSmall }
        let total = Int(MultibootInfo.le32(buffer, 0))
        guard total >= 16, total <= buffer.count, total <= MultibootInfo.maxSize else { throw .badTotalSize }
        let blob = UnsafeRawBufferPointer(rebasing: buffer[0..<total])
        var off = 8
        while true {
            guard off + 8 <= total else { throw .missingEndTag }
            let type = MultibootInfo.le32(blob, off)
            let size = Int(MultibootInfo.le32(blob, off + 4))
            guard size >= 8, size <= total - off else { throw .malformedTag }
            if type == MultibootTag.end.rawValue { break }
            off = (off + size + 7) & ~7
        }
        self.blob = blob
    }

    var totalSize: Int { blob.count }

    /// Calls `body(type, payload)` for every tag before the end tag until it returns false.
    func forEachTag(_ body: (UInt32, UnsafeRawBufferPointer) -> Bool) {
        var off = 8
        while off + 8 <= blob.count {
            let type = MultibootInfo.le32(blob, off)
            let size = Int(MultibootInfo.le32(blob, off + 4))
            if type == MultibootTag.end.rawValue || size < 8 || size > blob.count - off { return }
            if !body(type, UnsafeRawBufferPointer(rebasing: blob[(off + 8)..<(off + size)])) { return }
            off = (off + size + 7) & ~7
        }
    }

    /// Entries of the memory-map tag (spec 3.6.8); malformed entry sizes yield nothing.
    func forEachRegion(_ body: (MultibootRegion) -> Void) {
        forEachTag { type, p in
            guard type == MultibootTag.memoryMap.rawValue, p.count >= 8 else { return true }
            let entrySize = Int(MultibootInfo.le32(p, 0))
            guard entrySize >= 24 else { return true }
            var off = 8
            while off + entrySize <= p.count {
                body(MultibootRegion(base: MultibootInfo.le64(p, off), length: MultibootInfo.le64(p, off + 8),
                                     type: MultibootInfo.le32(p, off + 16)))
                off += entrySize
            }
            return true
        }
    }

    /// (start, end) of each boot module (spec 3.6.6); end < start is skipped.
    func forEachModule(_ body: (UInt64, UInt64) -> Void) {
        forEachTag { type, p in
            guard type == MultibootTag.module.rawValue, p.count >= 8 else { return true }
            let start = UInt64(MultibootInfo.le32(p, 0)), end = UInt64(MultibootInfo.le32(p, 4))
            if end > start { body(start, end) }
            return true
        }
    }

    /// The loader's copy of the ACPI RSDP (spec 3.6.12/3.6.13), preferring the ACPI 2.0 one.
    func rsdp() -> UnsafeRawBufferPointer? {
        var old: UnsafeRawBufferPointer? = nil
        var new: UnsafeRawBufferPointer? = nil
        forEachTag { type, p in
            if type == MultibootTag.acpiNewRSDP.rawValue { new = p }
            if type == MultibootTag.acpiOldRSDP.rawValue { old = p }
            return true
        }
        return new ?? old
    }

    @inline(__always)
    static func le32(_ b: UnsafeRawBufferPointer, _ off: Int) -> UInt32 {
        UInt32(b[off]) | UInt32(b[off + 1]) << 8 | UInt32(b[off + 2]) << 16 | UInt32(b[off + 3]) << 24
    }

    @inline(__always)
    static func le64(_ b: UnsafeRawBufferPointer, _ off: Int) -> UInt64 {
        UInt64(le32(b, off)) | UInt64(le32(b, off + 4)) << 32
    }
}
