// GuestImageCheck: what is wrong with a guest image file's contents.
//
// `check-config` and the bundle builder give the same answer for the same
// file, so a config that checks `ok` does not fail later in `run`. A guest
// image is a flat binary, loaded at the start of guest RAM, or an ELF64
// executable that the build flattens with objcopy (its PT_LOAD file bytes,
// by physical address). Every length and offset is checked against the file
// before it is read: the file is hostile input.

import Foundation

public enum GuestImageCheck {
    static let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    static let elfHeaderSize = 64
    static let programHeaderSize = 56

    /// ELF machine numbers a guest image may carry for `arch`.
    static func machines(_ arch: Arch) -> [UInt16] {
        switch arch { case .riscv64: [0xF3]; case .aarch64: [0xB7]; case .x86_64: [0x3E, 0x03] }
    }

    public static func isELF(_ bytes: Data) -> Bool { bytes.starts(with: elfMagic) }

    /// nil if `bytes` can be the image of a guest of `arch` with `memory` bytes
    /// of RAM, else why not, worded to follow the file's path ("is empty").
    public static func problem(_ bytes: Data, arch: Arch, memory: UInt64) -> String? {
        guard !bytes.isEmpty else { return "is empty" }
        guard isELF(bytes) else {
            guard UInt64(bytes.count) <= memory else {
                return "is \(bytes.count) bytes, more than the guest's memory (\(ByteSize.format(memory)))"
            }
            return nil
        }
        switch elf(bytes, arch: arch) {
        case .failure(let p): return p.text
        case .success(let span):
            guard span <= memory else {
                return "is an ELF file that loads \(span) bytes, more than the guest's memory (\(ByteSize.format(memory)))"
            }
            return nil
        }
    }

    public struct Problem: Error, Equatable { public let text: String }

    /// Checks an ELF64 file's header and program headers; on success, the
    /// bytes its flat image spans (lowest to highest loaded byte).
    public static func elf(_ b: Data, arch: Arch) -> Result<UInt64, Problem> {
        func fail(_ s: String) -> Result<UInt64, Problem> { .failure(Problem(text: s)) }
        let n = b.count
        guard n >= elfHeaderSize else {
            return fail("is a truncated ELF file: \(n) bytes, shorter than the \(elfHeaderSize)-byte ELF64 header")
        }
        let r = LittleEndianBytes(b)
        guard r.u8(4) == 2 else { return fail("is a 32-bit ELF file (guest images are ELF64)") }
        guard r.u8(5) == 1 else { return fail("is a big-endian ELF file (guest images are little-endian)") }
        let machine = r.u16(18)
        guard machines(arch).contains(machine) else {
            return fail("is an ELF file for machine \(machine), not for \(arch.rawValue) (e_machine \(machines(arch)[0]))")
        }
        let type = r.u16(16)
        guard type == 2 else { return fail("is an ELF file of type \(type), not an executable (ET_EXEC)") }
        let phoff = r.u64(32), phentsize = r.u16(54), phnum = r.u16(56)
        guard phnum > 0, phentsize == programHeaderSize else {
            return fail("is an ELF file without a usable program header table (e_phnum \(phnum), e_phentsize \(phentsize))")
        }
        let tableEnd = phoff.addingReportingOverflow(UInt64(phnum) * UInt64(programHeaderSize))
        guard !tableEnd.overflow, tableEnd.partialValue <= UInt64(n) else {
            return fail("is a truncated ELF file: its program headers end past its \(n) bytes")
        }
        var low = UInt64.max, high: UInt64 = 0
        for i in 0..<Int(phnum) {
            let h = Int(phoff) + i * programHeaderSize
            guard r.u32(h) == 1 else { continue }                        // PT_LOAD
            let offset = r.u64(h + 8), paddr = r.u64(h + 24), filesz = r.u64(h + 32)
            let end = offset.addingReportingOverflow(filesz)
            guard !end.overflow, end.partialValue <= UInt64(n) else {
                return fail("is a truncated ELF file: segment \(i) needs bytes up to \(end.overflow ? "beyond 2^64" : "\(end.partialValue)"), the file has \(n)")
            }
            guard filesz > 0 else { continue }
            let top = paddr.addingReportingOverflow(filesz)
            guard !top.overflow else { return fail("is an ELF file whose segment \(i) wraps the address space") }
            low = min(low, paddr); high = max(high, top.partialValue)
        }
        guard low < high else { return fail("is an ELF file with nothing to load (no PT_LOAD with file bytes)") }
        return .success(high - low)
    }
}

/// Bounds-checked little-endian reads (the caller checked the offsets are inside).
struct LittleEndianBytes {
    let bytes: [UInt8]
    init(_ d: Data) { bytes = [UInt8](d) }
    func u8(_ at: Int) -> UInt8 { at < bytes.count ? bytes[at] : 0 }
    func u16(_ at: Int) -> UInt16 { UInt16(u8(at)) | UInt16(u8(at + 1)) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}
