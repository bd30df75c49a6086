// PostLink: turning linked ELF images into what an emulator boots.
//
// riscv64 boots the hypervisor ELF directly (-kernel). aarch64 boots the
// flat rumkv.bin, which starts with an arm64 Image header (Boot/aarch64/
// entry.S): QEMU loads only a Linux-protocol image's initrd (the boot
// bundle) and names it in the DTB, which it passes in x0. x86_64
// boots a GRUB ISO (Bochs has no -kernel, QEMU's multiboot loader refuses
// ELF64): grub-mkrescue packs GRUB's BIOS (i386-pc) El Torito image with a
// grub.cfg that loads rumkv.elf through `multiboot2` and one `module2`, with
// no menu delay: the Rumpk image in the build's ISO, or a boot bundle in the
// per-run ISO BochsSession makes for `rumkv run` with guests.

import Foundation

enum PostLink {
    static func bootMedium(_ b: Builder, _ arch: Arch, hypervisor: URL, guest: URL, out: URL) throws -> URL? {
        switch arch {
        case .riscv64: return nil
        case .aarch64:
            let bin = out.appendingPathComponent("rumkv.bin")
            try run(b.toolchain.tool("llvm-objcopy"), ["-O", "binary", hypervisor.path, bin.path], verbose: b.verbose)
            return bin
        case .x86_64: return try x86ISO(b, hypervisor: hypervisor, guest: guest, out: out)
        }
    }

    /// GRUB's BIOS platform files, which grub-mkrescue needs to make a bootable CD.
    static let grubPlatform = "/usr/lib/grub/i386-pc"

    /// The GRUB menu: no delay, the hypervisor by multiboot2, one module.
    static func grubConfig(module: String?) -> String {
        var entry = "    multiboot2 /boot/rumkv.elf\n"
        if let m = module { entry += "    module2 /boot/\(m) \(m)\n" }
        return "set timeout=0\nset default=0\nmenuentry \"Rumkv\" {\n" + entry + "    boot\n}\n"
    }

    /// The build's ISO: the hypervisor with the Rumpk image as its module.
    static func x86ISO(_ b: Builder, hypervisor: URL, guest: URL, out: URL) throws -> URL? {
        try makeISO(hypervisor: hypervisor, module: guest, output: out.appendingPathComponent("rumkv.iso"), verbose: b.verbose)
    }

    /// Writes a GRUB rescue ISO at `output` booting `hypervisor` with `module`
    /// (a guest image or a boot bundle) as its multiboot2 module.
    static func makeISO(hypervisor: URL, module: URL?, output: URL, verbose: Bool = false) throws -> URL {
        guard let mkrescue = which("grub-mkrescue"), which("xorriso") != nil,
              FileManager.default.fileExists(atPath: grubPlatform) else {
            throw BuildError("x86_64 needs grub-mkrescue, xorriso and GRUB's BIOS files to make its boot ISO "
                             + "(install the Debian packages grub-pc-bin grub-common xorriso mtools)")
        }
        let fm = FileManager.default
        let tree = output.deletingLastPathComponent().appendingPathComponent("iso-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: tree) }
        let boot = tree.appendingPathComponent("boot")
        try fm.createDirectory(at: boot.appendingPathComponent("grub"), withIntermediateDirectories: true)
        try fm.copyItem(at: hypervisor, to: boot.appendingPathComponent("rumkv.elf"))
        if let m = module { try fm.copyItem(at: m, to: boot.appendingPathComponent(m.lastPathComponent)) }
        try Data(grubConfig(module: module?.lastPathComponent).utf8).write(to: boot.appendingPathComponent("grub/grub.cfg"))
        try? fm.removeItem(at: output)
        try run(mkrescue, ["-d", grubPlatform, "--locales=", "--themes=", "--fonts=",
                           "--install-modules=multiboot2 normal configfile iso9660 biosdisk",
                           "-o", output.path, tree.path], verbose: verbose)
        return output
    }
}
