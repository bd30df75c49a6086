// Emulator: the command line that boots an image on each architecture.
//
// riscv64: QEMU virt with OpenSBI (-bios default), H-extension on by default.
// aarch64: QEMU virt with virtualization=on (EL2) and GICv3.
// x86_64:  Bochs with a VMX-capable CPU model, booting the GRUB ISO
//          (QEMU's TCG has no VMX; see shared/docs/platforms.md).

import Foundation

public struct EmulatorOptions: Sendable {
    public var smp: Int = 2
    public var memoryMiB: Int = 256
    /// Turn the virtualization extension off (to test the refusal path).
    public var withoutVirtualization = false
    /// Extra emulator arguments appended verbatim.
    public var extra: [String] = []
    /// Boot bundle (guests) loaded as the initrd / multiboot module.
    public var bundle: URL? = nil
    /// Put the console on this Unix socket instead of the terminal (for `rumkv ctl`).
    public var consoleSocket: String? = nil
    /// Deterministic instruction counting (-icount shift=0) for benchmarks.
    public var icount = false
    /// The CPU model (QEMU -cpu) on aarch64 instead of `max,pauth-impdef=on`,
    /// e.g. "cortex-a57" (44-bit PA, 8-bit VMIDs, no VHE, no PAuth).
    public var cpu: String? = nil
    public init() {}
}

public enum Emulator {
    /// The emulator binary each architecture needs and the Debian package that has it.
    public static func binary(_ arch: Arch) -> (name: String, package: String) {
        switch arch {
        case .riscv64: ("qemu-system-riscv64", "qemu-system-misc")
        case .aarch64: ("qemu-system-aarch64", "qemu-system-arm")
        case .x86_64: ("bochs", "bochs")
        }
    }

    /// Path of the emulator, or an error telling how to install it.
    public static func locate(_ arch: Arch) throws -> String {
        let (name, package) = binary(arch)
        guard let path = which(name) else {
            throw BuildError("\(name) is not installed (install the Debian package '\(package)', or run tools/setup.sh)")
        }
        return path
    }

    public static func validate(_ o: EmulatorOptions) throws {
        guard (1...8).contains(o.smp) else { throw BuildError("--smp must be between 1 and 8 (got \(o.smp))") }
        guard (64...4096).contains(o.memoryMiB) else {
            throw BuildError("--memory must be between 64 and 4096 MiB (got \(o.memoryMiB))")
        }
    }

    /// QEMU arguments for a console on stdio. `interactive` keeps QEMU's
    /// monitor multiplexed on stdio (Ctrl-A x quits); otherwise the serial
    /// line alone is on stdio, for programs driving the console.
    public static func qemuArguments(_ arch: Arch, _ images: Images, _ o: EmulatorOptions, interactive: Bool) -> [String] {
        var args: [String]
        switch arch {
        case .riscv64:
            args = ["-machine", "virt", "-cpu", o.withoutVirtualization ? "rv64,h=false" : "rv64",
                    "-bios", "default"]
        case .aarch64:
            args = ["-machine", o.withoutVirtualization ? "virt,gic-version=3" : "virt,virtualization=on,gic-version=3",
                    "-cpu", o.cpu ?? "max,pauth-impdef=on"]   // QEMU's own PAuth algorithm: much faster under TCG
        case .x86_64:
            args = ["-machine", "q35", "-cpu", "qemu64"]
        }
            // aarch64 boots the flat image with its arm64 Image header (PostLink.swift).
        let kernel = arch == .aarch64 ? (images.bootMedium ?? images.hypervisor) : images.hypervisor
        args += ["-smp", "\(o.smp)", "-m", "\(o.memoryMiB)M", "-kernel", kernel.path, "-no-reboot"]
        if let b = o.bundle { args += ["-initrd", b.path] }
        if o.icount { args += ["-icount", "shift=0,sleep=off"] }
        if let sock = o.consoleSocket {
            args += ["-display", "none", "-monitor", "none", "-serial", "unix:\(sock),server=on,wait=off"]
        } else {
            args += interactive ? ["-nographic"] : ["-display", "none", "-serial", "stdio", "-monitor", "none"]
        }
        return args + o.extra
    }
}
