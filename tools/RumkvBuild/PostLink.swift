// PostLink: turning linked ELF images into what an emulator boots.
//
// riscv64 and aarch64 boot the hypervisor ELF directly (-kernel). x86_64
// boots a GRUB ISO (Bochs has no -kernel); its recipe lives here.

import Foundation

enum PostLink {
    static func bootMedium(_ b: Builder, _ arch: Arch, hypervisor: URL, guest: URL, out: URL) throws -> URL? {
        switch arch {
        case .riscv64, .aarch64: return nil
        case .x86_64: return try x86ISO(b, hypervisor: hypervisor, guest: guest, out: out)
        }
    }

    static func x86ISO(_ b: Builder, hypervisor: URL, guest: URL, out: URL) throws -> URL? {
        throw BuildError("x86_64 boot medium not implemented yet")
    }
}
