// Arch: the architectures Rumkv builds for and their toolchain settings.
//
// One place for every per-architecture build fact (triple, Swift and C flags,
// linker scripts). Flags follow shared/docs/embedded-swift.md.

import Foundation

public enum Arch: String, CaseIterable, Sendable {
    case riscv64, aarch64, x86_64

    /// Swift/LLVM target triple for bare metal.
    public var triple: String {
        switch self {
        case .riscv64: "riscv64-none-none-eabi"
        case .aarch64: "aarch64-none-none-elf"
        case .x86_64: "x86_64-unknown-none-elf"
        }
    }

    /// Clang target for C and assembly.
    var clangTarget: String {
        switch self {
        case .riscv64: "riscv64-none-elf"
        case .aarch64: "aarch64-none-elf"
        case .x86_64: "x86_64-unknown-none-elf"
        }
    }

    /// Code-generation flags shared by Swift (through -Xcc) and C.
    var codegenFlags: [String] {
        switch self {
        case .riscv64: ["-march=rv64imac", "-mabi=lp64", "-mcmodel=medany"]
        case .aarch64: ["-mgeneral-regs-only", "-mstrict-align"]
        case .x86_64: ["-mno-red-zone", "-mno-mmx", "-mno-sse", "-mno-sse2", "-mcmodel=kernel"]
        }
    }

    /// Flags passed to swiftc in addition to the common embedded ones.
    var swiftFlags: [String] {
        switch self {
        case .riscv64: ["-Xcc", "-mcmodel=medany"]
        case .aarch64: ["-Xcc", "-mgeneral-regs-only", "-Xcc", "-mstrict-align"]
        case .x86_64: ["-Xcc", "-mno-red-zone", "-Xcc", "-mno-mmx", "-Xcc", "-mno-sse",
                       "-Xcc", "-mno-sse2", "-Xcc", "-mcmodel=kernel"]
        }
    }

    /// Flags the hypervisor's own modules drop: on aarch64 Rumkv runs at EL2 with
    /// its MMU on and RAM mapped as Normal memory (Boot/aarch64/entry.S), where
    /// unaligned accesses are allowed, so it needs no `-mstrict-align` (which
    /// turns every possibly unaligned load into byte loads: 10 KiB of its
    /// image). The shared modules and Rumpk keep it: Rumpk runs with its EL1
    /// MMU off, where all data accesses are Device accesses and must be aligned.
    var hypervisorDroppedFlags: [String] {
        switch self {
        case .aarch64: ["-mstrict-align"]
        default: []
        }
    }

    /// Parses a user-supplied architecture name, accepting common aliases.
    public static func parse(_ s: String) -> Arch? {
        switch s.lowercased() {
        case "riscv64", "riscv", "rv64": .riscv64
        case "aarch64", "arm64", "arm": .aarch64
        case "x86_64", "x86-64", "amd64", "x86", "x64": .x86_64
        default: nil
        }
    }
}

/// Which flavour of image to build.
public enum Variant: String, Sendable {
    /// What users run.
    case release
    /// Adds test-only console commands (`trap`) through -D RUMKV_TEST.
    case test
}
