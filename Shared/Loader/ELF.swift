// ELF: validating an ELF64 executable against the window it may load into.
//
// `ELF.parse` reads the file header and program headers of a static ELF64
// little-endian executable (System V gABI, "ELF Header" and "Program
// Header") and checks everything the load relies on before anything is
// written: every PT_LOAD's file bytes inside the file, its memory inside the
// window, no two PT_LOADs overlapping, none writable and executable, and the
// entry point inside an executable segment's file bytes. Nothing allocates;
// the result is a plan `ELF.load` carries out.

import CRumABI

/// One PT_LOAD, after validation.
public struct ELFSegment: Equatable {
    /// File bytes [fileOffset, fileOffset + fileSize) go to [address, address + fileSize).
    public let fileOffset: Int
    public let fileSize: Int
    public let address: UInt64
    /// [address + fileSize, address + memorySize) is zeroed (BSS).
    public let memorySize: UInt64
    /// PF_X = 1, PF_W = 2, PF_R = 4.
    public let flags: UInt32
}

/// A validated executable: its entry point and PT_LOADs, in file order.
public struct ELFImage {
    public let entry: UInt64
    public let segmentCount: Int
    var table: InlineArray<8, ELFSegment>

    public func segment(_ i: Int) -> ELFSegment {
        precondition(i >= 0 && i < segmentCount, "segment index out of range")
        return table[i]
    }
}

public enum ELF {
    public static let headerSize = 64
    public static let programHeaderSize = 56
    public static let maxProgramHeaders: UInt16 = 32
    public static let maxSegments = 8

    public static let machineRISCV: UInt16 = 243
    public static let machineAArch64: UInt16 = 183
    public static let machineX86_64: UInt16 = 62

    static let typeExec: UInt16 = 2
    static let ptLoad: UInt32 = 1
    static let ptDynamic: UInt32 = 2
    static let ptInterp: UInt32 = 3
    public static let flagX: UInt32 = 1
    public static let flagW: UInt32 = 2

    /// The e_machine of the architecture an NPL arch byte names, or 0.
    public static func machine(nplArch: UInt8) -> UInt16 {
        switch UInt32(nplArch) {
        case RUM_NPL_ARCH_RISCV64: machineRISCV
        case RUM_NPL_ARCH_ARM64: machineAArch64
        case RUM_NPL_ARCH_X86_64: machineX86_64
        default: 0
        }
    }

    /// Validates `file` as an executable for `machine` whose segments all lie in `window`.
    public static func parse(_ file: UnsafeRawBufferPointer, machine: UInt16,
                             window: Range<UInt64>) throws(ELFError) -> ELFImage {
        let (phoff, phnum, entry) = try fileHeader(file, machine: machine)
        var table = InlineArray<8, ELFSegment>(repeating: ELFSegment(fileOffset: 0, fileSize: 0, address: 0, memorySize: 0, flags: 0))
        var count = 0
        for i in 0..<phnum {
            let at = phoff + i * programHeaderSize
            let type = read32(file, at)
            if type == ptInterp || type == ptDynamic { throw .dynamic(index: i) }
            guard type == ptLoad else { continue }
            let s = try segment(file, at: at, index: i, window: window)
            guard s.memorySize > 0 else { continue }
            guard count < maxSegments else { throw .tooManySegments }
            for j in 0..<count where overlaps(table[j], s) {
                throw .overlap(first: index(of: j, in: file, phoff: phoff, phnum: phnum), second: i)
            }
            table[count] = s
            count += 1
        }
        guard count > 0 else { throw .noLoadSegments }
        var entryOK = false
        for j in 0..<count where table[j].flags & flagX != 0 {
            let s = table[j]
            if entry >= s.address && entry - s.address < UInt64(s.fileSize) { entryOK = true }
        }
        guard entryOK else { throw .entryNotInCode(entry: entry) }
        return ELFImage(entry: entry, segmentCount: count, table: table)
    }

    /// Checks the file header; returns the program header table's offset and count, and e_entry.
    static func fileHeader(_ file: UnsafeRawBufferPointer, machine: UInt16) throws(ELFError) -> (Int, Int, UInt64) {
        guard file.count >= headerSize else { throw .tooShort(count: file.count) }
        guard file[0] == 0x7F, file[1] == 0x45, file[2] == 0x4C, file[3] == 0x46 else { throw .badMagic }
        guard file[4] == 2 else { throw .notELF64(found: file[4]) }
        guard file[5] == 1 else { throw .notLittleEndian(found: file[5]) }
        guard file[6] == 1, read32(file, 20) == 1 else { throw .badVersion }
        let type = read16(file, 16)
        guard type == typeExec else { throw .notExecutable(type: type) }
        let m = read16(file, 18)
        guard m == machine else { throw .wrongMachine(found: m) }
        guard read16(file, 52) == UInt16(headerSize), read16(file, 54) == UInt16(programHeaderSize) else {
            throw .badHeaderSize
        }
        let phnum = read16(file, 56)
        guard phnum > 0, phnum <= maxProgramHeaders else { throw .badProgramHeaderCount(phnum) }
        let phoff = read64(file, 32)
        let tableSize = UInt64(phnum) * UInt64(programHeaderSize)
        guard phoff <= UInt64(file.count), tableSize <= UInt64(file.count) - phoff else { throw .programHeadersOutOfFile }
        return (Int(phoff), Int(phnum), read64(file, 24))
    }

    /// Validates the PT_LOAD at byte `at` on its own.
    static func segment(_ file: UnsafeRawBufferPointer, at: Int, index i: Int,
                        window: Range<UInt64>) throws(ELFError) -> ELFSegment {
        let flags = read32(file, at + 4)
        let offset = read64(file, at + 8), vaddr = read64(file, at + 16)
        let filesz = read64(file, at + 32), memsz = read64(file, at + 40), align = read64(file, at + 48)
        guard offset <= UInt64(file.count), filesz <= UInt64(file.count) - offset else { throw .segmentOutOfFile(index: i) }
        guard filesz <= memsz else { throw .fileSizeExceedsMemorySize(index: i) }
        if align > 1 {
            guard align & (align - 1) == 0, vaddr & (align - 1) == offset & (align - 1) else { throw .misaligned(index: i) }
        }
        guard vaddr >= window.lowerBound, vaddr <= window.upperBound,
              memsz <= window.upperBound - vaddr else { throw .outsideWindow(index: i) }
        guard flags & (flagW | flagX) != (flagW | flagX) else { throw .writableAndExecutable(index: i) }
        return ELFSegment(fileOffset: Int(offset), fileSize: Int(filesz), address: vaddr, memorySize: memsz, flags: flags)
    }

    static func overlaps(_ a: ELFSegment, _ b: ELFSegment) -> Bool {
        a.address < b.address + b.memorySize && b.address < a.address + a.memorySize
    }

    /// The program header index of the `k`th non-empty PT_LOAD (for the overlap message).
    static func index(of k: Int, in file: UnsafeRawBufferPointer, phoff: Int, phnum: Int) -> Int {
        var seen = 0
        for i in 0..<phnum {
            let at = phoff + i * programHeaderSize
            guard read32(file, at) == ptLoad, read64(file, at + 40) > 0 else { continue }
            if seen == k { return i }
            seen += 1
        }
        return k
    }

    static func read16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    static func read32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    static func read64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
}
