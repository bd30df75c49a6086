// BundleBuild: from a partition config and built images to a boot bundle file.
//
// Every guest image goes into the bundle as a signed NPL image (flag
// GUEST_IMAGE) made with the build's signing key; the hypervisor verifies it
// against the public key it was built with before each start.

import Foundation
import RumABI

extension Builder {
    /// The partition config `rumkv run` uses for `arch` when none is given, if the arch hosts guests.
    public func defaultConfig(_ arch: Arch) -> URL? {
        let url = root.appendingPathComponent("configs/qemu-\(arch.rawValue)-virt/three-guests.toml")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Validates `config`, checks it targets `images`' architecture and writes
    /// the bundle next to the images. Returns the bundle's path.
    public func bundle(config url: URL, images: Images, arch: Arch) throws -> URL {
        let config = try PartitionConfig.load(url)
        guard config.arch == arch else {
            throw BuildError("\(url.path): the partition is for \(config.arch.rawValue), not \(arch.rawValue)")
        }
        let key = try SigningKey.forBuild(root: root)
        let data = try BundleWriter.make(config, configDirectory: url.deletingLastPathComponent(),
                                         rumpkImage: images.guest, objcopy: toolchain.tool("llvm-objcopy")) { flat in
            try key.sign(flat, arch: arch.nplByte, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        }
        let out = images.directory.appendingPathComponent("bundle-\(config.name).bin")
        try data.write(to: out)
        return out
    }
}
