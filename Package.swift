// swift-tools-version: 6.0
// Rumkv (hypervisor) and Rumpk (guest unikernel).
//
// SwiftPM builds everything that runs on the host: the ABI module, the portable
// hypervisor core (for host tests against a fake architecture), the host CLI and
// the tests. The bare-metal images are built by `swift run rumkv build`, which
// drives swiftc/clang/ld.lld directly with the embedded flags (see
// tools/RumkvBuild/Toolchain.swift).
import PackageDescription

let package = Package(
    name: "Rumkv",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rumkv", targets: ["rumkv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The one definition of the guest ABI: a C header (layout source of truth).
        .target(name: "CRumABI", path: "Shared/include", publicHeadersPath: "."),
        // Swift views over the ABI structures; compiled into the images too.
        .target(name: "RumABI", dependencies: ["CRumABI"], path: "Shared/Swift"),
        // Ed25519 verification, SHA-512 and SipHash-2-4 in plain Swift: runs on
        // bare metal (hypervisor and guest) and is tested against libsodium.
        .target(name: "RumCrypto", path: "Shared/Crypto"),
        // NPL payload header parsing and signature checks (bare-metal safe).
        .target(name: "RumNPL", dependencies: ["RumABI", "RumCrypto"], path: "Shared/NPL"),
        // ELF64 payload loader and ustar reader (bare-metal safe; Rumpk's exec path).
        .target(name: "RumLoader", dependencies: ["RumABI", "RumCrypto"], path: "Shared/Loader"),
        // libsodium, used by the host tools (keygen/sign) and as the test oracle.
        .systemLibrary(name: "CSodium", path: "tools/CSodium"),
        // The portable hypervisor core. No architecture is named in it.
        .target(name: "RumkvCore", dependencies: ["RumABI", "RumNPL", "RumCrypto"], path: "Hypervisor/Core"),
        // The riscv64 port's pure decoders (instructions, SBI, Sv39x4), host-testable.
        .target(name: "RISCV64Decoders", dependencies: ["RumkvCore", "RumABI"], path: "Hypervisor/riscv64",
                sources: ["Decoders.swift", "CSRs.swift"]),
        // The aarch64 port's pure decoders (ESR syndromes, SMCCC/PSCI, stage-2 descriptors), host-testable.
        .target(name: "AArch64Decoders", dependencies: ["RumkvCore", "RumABI"], path: "Hypervisor/aarch64",
                sources: ["Decoders.swift", "VirtualGIC.swift"]),
        // The x86_64 port's pure parsers and decoders (multiboot2, ACPI, VM exits, VMCALL ABI, EPT, COM1), host-testable.
        .target(name: "X86_64Parsers", dependencies: ["RumkvCore", "RumABI"], path: "Hypervisor/x86_64",
                sources: ["Multiboot.swift", "Acpi.swift", "VMXDecode.swift"]),
        // libfdt (Debian libfdt-dev): the host tool writes guest device trees with it
        // (GuestDeviceTree), and host tests use it as the reference DTB reader.
        .systemLibrary(name: "CLibFDT", path: "tools/CLibFDT"),
        // Host tests only: writable views of the (host: empty) trusted-key table.
        .systemLibrary(name: "CTrustedKeysHook", path: "Tests/CTrustedKeysHook"),
        // Image builder and emulator runner shared by the CLI and the tests.
        .target(name: "RumkvBuild", dependencies: ["RumABI", "RumNPL", "CSodium", "CLibFDT"], path: "tools/RumkvBuild"),
        .executableTarget(
            name: "rumkv",
            dependencies: [
                "RumkvBuild", "RumNPL", "CSodium",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "tools/rumkv"),
        // The seeded generator every randomized host test shares.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RumABITests", dependencies: ["RumABI", "CRumABI"], path: "Tests/RumABITests"),
        .testTarget(name: "RumkvCoreTests",
                    dependencies: ["RumkvCore", "RumABI", "RumNPL", "RumkvBuild", "CSodium", "CLibFDT", "CTrustedKeysHook", "TestSupport"],
                    path: "Tests/RumkvCoreTests"),
        .testTarget(name: "RumCryptoTests", dependencies: ["RumCrypto", "RumNPL", "CSodium", "TestSupport"], path: "Tests/RumCryptoTests"),
        .testTarget(name: "EmulatorTests", dependencies: ["RumkvBuild", "RumABI"], path: "Tests/EmulatorTests"),
        .testTarget(name: "ToolTests", dependencies: ["RumkvBuild", "RumABI", "RumkvCore", "CLibFDT"], path: "Tests/ToolTests"),
        .testTarget(name: "RumLoaderTests", dependencies: ["RumLoader", "RumCrypto", "RumkvBuild", "RumABI", "CSodium", "TestSupport"], path: "Tests/RumLoaderTests"),
        .testTarget(name: "RISCV64DecoderTests", dependencies: ["RISCV64Decoders", "RumkvCore", "RumABI"], path: "Tests/RISCV64DecoderTests"),
        .testTarget(name: "AArch64DecoderTests", dependencies: ["AArch64Decoders", "RumkvCore", "RumABI"], path: "Tests/AArch64DecoderTests"),
        .testTarget(name: "X86_64ParserTests", dependencies: ["X86_64Parsers", "RumkvCore", "RumABI", "TestSupport"],
                    path: "Tests/X86_64ParserTests"),
        .testTarget(name: "IONTests", dependencies: ["RumABI", "CRumABI"], path: "Tests/IONTests"),
    ],
    swiftLanguageModes: [.v5]
)
