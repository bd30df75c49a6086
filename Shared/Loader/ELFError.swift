// ELFError: every way the payload loader refuses an ELF64 image, one case each.
//
// The loader checks in a fixed order (file header, program header table,
// each program header, the segments together, the entry point) and reports
// the first failure with the index or value involved. `reason` is the short
// text the kernel prints after "rumpk: exec 'name': ".

public enum ELFError: Error, Equatable {
    /// Shorter than the 64-byte ELF64 file header.
    case tooShort(count: Int)
    /// e_ident does not start with 7F 'E' 'L' 'F'.
    case badMagic
    /// EI_CLASS is not ELFCLASS64.
    case notELF64(found: UInt8)
    /// EI_DATA is not ELFDATA2LSB.
    case notLittleEndian(found: UInt8)
    /// EI_VERSION or e_version is not EV_CURRENT (1).
    case badVersion
    /// e_type is not ET_EXEC (relocatable, shared and core files are refused).
    case notExecutable(type: UInt16)
    /// e_machine is not the architecture the loader runs on.
    case wrongMachine(found: UInt16)
    /// e_ehsize or e_phentsize is not the ELF64 size (64, 56).
    case badHeaderSize
    /// e_phnum is 0 or more than `ELF.maxProgramHeaders`.
    case badProgramHeaderCount(UInt16)
    /// The program header table does not lie inside the file.
    case programHeadersOutOfFile
    /// A PT_INTERP or PT_DYNAMIC header: payloads are static executables.
    case dynamic(index: Int)
    /// A PT_LOAD's file bytes lie outside the file.
    case segmentOutOfFile(index: Int)
    /// A PT_LOAD's p_filesz exceeds its p_memsz.
    case fileSizeExceedsMemorySize(index: Int)
    /// A PT_LOAD's p_align is not 0, 1 or a power of two, or p_vaddr and p_offset disagree modulo it.
    case misaligned(index: Int)
    /// A PT_LOAD's [p_vaddr, p_vaddr + p_memsz) is not inside the payload window.
    case outsideWindow(index: Int)
    /// Two PT_LOADs share memory.
    case overlap(first: Int, second: Int)
    /// A PT_LOAD is both writable and executable.
    case writableAndExecutable(index: Int)
    /// More PT_LOADs than `ELF.maxSegments`.
    case tooManySegments
    /// No PT_LOAD at all.
    case noLoadSegments
    /// e_entry is not inside an executable PT_LOAD's file bytes.
    case entryNotInCode(entry: UInt64)

    /// Short English reason, for the kernel's refusal line.
    public var reason: StaticString {
        switch self {
        case .tooShort: "ELF file too short"
        case .badMagic: "not an ELF file"
        case .notELF64: "not ELF64"
        case .notLittleEndian: "not little-endian"
        case .badVersion: "bad ELF version"
        case .notExecutable: "not an executable"
        case .wrongMachine: "ELF for another machine"
        case .badHeaderSize: "bad ELF header sizes"
        case .badProgramHeaderCount: "bad program header count"
        case .programHeadersOutOfFile: "program headers outside the file"
        case .dynamic: "dynamically linked"
        case .segmentOutOfFile: "segment outside the file"
        case .fileSizeExceedsMemorySize: "segment file size exceeds memory size"
        case .misaligned: "misaligned segment"
        case .outsideWindow: "segment outside the payload window"
        case .overlap: "overlapping segments"
        case .writableAndExecutable: "writable and executable segment"
        case .tooManySegments: "too many segments"
        case .noLoadSegments: "no loadable segment"
        case .entryNotInCode: "entry point not in code"
        }
    }
}
