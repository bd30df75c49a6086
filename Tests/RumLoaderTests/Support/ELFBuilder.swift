// ELFBuilder: small ELF64 executables made byte by byte for the loader tests.
//
// Writes the 64-byte file header and 56-byte program headers at their gABI
// offsets, little-endian, followed by each segment's file bytes. Tests then
// break one field at a time with `patch`.

import Foundation
import RumLoader

struct ELFBuilder {
    struct Segment {
        var type: UInt32 = 1                  // PT_LOAD
        var flags: UInt32 = 5                 // R X
        var vaddr: UInt64
        var bytes: [UInt8]
        var memsz: UInt64? = nil              // default: bytes.count
        var align: UInt64 = 0x1000
    }

    var machine = ELF.machineRISCV
    var type: UInt16 = 2                      // ET_EXEC
    var entry: UInt64
    var segments: [Segment]

    static let window: Range<UInt64> = 0x8010_0000 ..< 0x8020_0000

    /// Code at the window start, read-only data a page up, data + BSS two pages up.
    static func standard() -> ELFBuilder {
        ELFBuilder(entry: 0x8010_0000, segments: [
            Segment(flags: 5, vaddr: 0x8010_0000, bytes: [UInt8](repeating: 0x13, count: 64)),
            Segment(flags: 4, vaddr: 0x8010_1000, bytes: Array("hello, rodata".utf8)),
            Segment(flags: 6, vaddr: 0x8010_2000, bytes: [1, 2, 3, 4, 5, 6, 7, 8], memsz: 0x100),
        ])
    }

    /// Offset of program header `i` in the built file.
    static func ph(_ i: Int) -> Int { 64 + 56 * i }

    func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64 + 56 * segments.count)
        // File offsets keep p_offset ≡ p_vaddr (mod p_align), as linkers do.
        var offsets: [Int] = []
        for s in segments {
            let a = Int(max(s.align, 1))
            var off = out.count
            let want = Int(s.vaddr % UInt64(a))
            while off % a != want { off += 1 }
            out += [UInt8](repeating: 0, count: off - out.count)
            offsets.append(off)
            out += s.bytes
        }
        func put<T: FixedWidthInteger>(_ at: Int, _ v: T) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { out[at + i] = b } }
        }
        out[0] = 0x7F; out[1] = 0x45; out[2] = 0x4C; out[3] = 0x46
        out[4] = 2; out[5] = 1; out[6] = 1
        put(16, type); put(18, machine); put(20, UInt32(1)); put(24, entry)
        put(32, UInt64(64)); put(52, UInt16(64)); put(54, UInt16(56)); put(56, UInt16(segments.count))
        for (i, s) in segments.enumerated() {
            let p = Self.ph(i)
            put(p, s.type); put(p + 4, s.flags); put(p + 8, UInt64(offsets[i]))
            put(p + 16, s.vaddr); put(p + 24, s.vaddr)
            put(p + 32, UInt64(s.bytes.count)); put(p + 40, s.memsz ?? UInt64(s.bytes.count)); put(p + 48, s.align)
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// A copy with `value` written little-endian at `offset`.
    func patched<T: FixedWidthInteger>(_ offset: Int, _ value: T) -> [UInt8] {
        var c = self
        Swift.withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { c[offset + i] = b } }
        return c
    }
}

/// `ELF.parse` over `bytes`.
func parse(_ bytes: [UInt8], machine: UInt16 = ELF.machineRISCV,
           window: Range<UInt64> = ELFBuilder.window) throws(ELFError) -> ELFImage {
    let result: Result<ELFImage, ELFError> = bytes.withUnsafeBytes { b in
        Result { () throws(ELFError) -> ELFImage in try ELF.parse(b, machine: machine, window: window) }
    }
    return try result.get()
}
