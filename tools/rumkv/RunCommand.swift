// RunCommand: `rumkv run`, build the images and boot them (with the config's devices) on the terminal.

import ArgumentParser
import Foundation
import RumkvBuild

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run",
        abstract: "Build and boot Rumkv under the emulator, attached to its console.",
        discussion: """
            riscv64 and aarch64 run under QEMU (Ctrl-A x quits QEMU); x86_64 runs under Bochs, \
            whose VMX emulation QEMU lacks. Type `help` at the rumkv> prompt.
            """)

    @Option(help: "Architecture: riscv64, aarch64 or x86_64.")
    var arch: String = "riscv64"

    @Option(help: "Number of CPUs (1-8).")
    var smp: Int = 2

    @Option(help: "Memory in MiB (64-4096).")
    var memory: Int = 256

    @Option(help: "aarch64 CPU model for QEMU -cpu (default max,pauth-impdef=on; e.g. cortex-a57).")
    var cpu: String?

    @Option(help: "Partition config (guests). Default: configs/qemu-<arch>-virt/three-guests.toml when it exists.")
    var config: String?

    @Flag(help: "Boot the hypervisor without guests.")
    var noGuests = false

    @Option(help: "Put the console on this Unix socket (for `rumkv ctl`) instead of the terminal.")
    var consoleSocket: String?

    @Flag(help: "Boot the existing images without rebuilding them.")
    var noBuild = false

    @Flag(help: "Boot the test variant (adds test-only console commands).")
    var test = false

    @Flag(help: "Count instructions (QEMU -icount shift=0): guest time is deterministic, as in `rumkv bench`.")
    var icount = false

    func validate() throws {
        guard let a = Arch.parse(arch) else {
            throw ValidationError("unknown architecture '\(arch)' (expected riscv64, aarch64 or x86_64)")
        }
        if icount && a == .x86_64 { throw ValidationError("--icount needs QEMU; x86_64 runs under Bochs") }
    }

    func run() throws {
        let a = Arch.parse(arch)!
        var options = EmulatorOptions()
        options.smp = smp
        options.memoryMiB = memory
        options.cpu = cpu
        options.icount = icount
        try Emulator.validate(options)
        _ = try Emulator.locate(a)
        let builder = try Builder(root: try repositoryRoot())
        let variant: Variant = test ? .test : .release
        let images: Images
        if noBuild {
            let dir = builder.outputDirectory(a, variant)
            let hv = dir.appendingPathComponent("rumkv.elf")
            guard FileManager.default.fileExists(atPath: hv.path) else {
                throw ValidationError("no image at \(hv.path); run without --no-build first")
            }
            let medium = dir.appendingPathComponent(a == .aarch64 ? "rumkv.bin" : "rumkv.iso")
            images = Images(hypervisor: hv, guest: dir.appendingPathComponent("rumpk.elf"),
                            bootMedium: FileManager.default.fileExists(atPath: medium.path) ? medium : nil, directory: dir)
        } else {
            images = try builder.build(a, variant: variant)
        }
        if !noGuests, let cfg = config.map({ URL(fileURLWithPath: $0) }) ?? builder.defaultConfig(a) {
            let prepared = try builder.prepareBundle(config: cfg, images: images, arch: a)
            options.bundle = prepared.url
            options.extra += prepared.emulatorArguments   // the config's QEMU devices
        }
        options.consoleSocket = consoleSocket
        let status = try Emulator.runInteractive(a, images, options)
        if status != 0 { throw ExitCode(status) }
    }
}
