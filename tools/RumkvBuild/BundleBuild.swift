// BundleBuild: from a partition config and built images to a boot bundle file.

import Foundation

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
        let data = try BundleWriter.make(config, configDirectory: url.deletingLastPathComponent(),
                                         rumpkImage: images.guest, objcopy: toolchain.tool("llvm-objcopy"))
        let out = images.directory.appendingPathComponent("bundle-\(config.name).bin")
        try data.write(to: out)
        return out
    }
}
