// BundleBuild: from a partition config and built images to a boot bundle file.
//
// Every guest image goes into the bundle as a signed NPL image (flag
// GUEST_IMAGE) made with the build's signing key; the hypervisor verifies it
// against the public key it was built with before each start. A config's QEMU
// devices come back as emulator arguments for whoever boots the bundle.

import Foundation
import RumABI

extension Builder {
    /// The partition config `rumkv run` uses for `arch` when none is given, if the arch hosts guests.
    public func defaultConfig(_ arch: Arch) -> URL? {
        let dir = arch == .x86_64 ? "configs/bochs-x86_64" : "configs/qemu-\(arch.rawValue)-virt"
        let url = root.appendingPathComponent("\(dir)/three-guests.toml")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Validates `config`, checks it targets `images`' architecture and writes
    /// the bundle next to the images. Returns the bundle's path. The config's
    /// devices are not added to the emulator: use `prepareBundle` to run it.
    public func bundle(config url: URL, images: Images, arch: Arch) throws -> URL {
        try prepareBundle(config: url, images: images, arch: arch).url
    }

    /// Writes the bundle as `bundle` does and returns it with the emulator arguments that create
    /// the config's QEMU devices (QEMUDevices; scratch disks are made next to the images).
    public func prepareBundle(config url: URL, images: Images, arch: Arch) throws -> PreparedBundle {
        let config = try PartitionConfig.load(url)
        guard config.arch == arch else {
            throw BuildError("\(url.path): the partition is for \(config.arch.rawValue), not \(arch.rawValue)")
        }
        let directory = url.deletingLastPathComponent()
        let devices = try config.qemuDeviceArguments(configDirectory: directory, scratchDirectory: images.directory)
        let key = try SigningKey.forBuild(root: root)
        let data = try BundleWriter.make(config, configDirectory: directory,
                                         rumpkImage: images.guest, objcopy: toolchain.tool("llvm-objcopy")) { flat in
            try key.sign(flat, arch: arch.nplByte, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        }
        let out = images.directory.appendingPathComponent("bundle-\(config.name).bin")
        try data.write(to: out)
        return PreparedBundle(url: out, emulatorArguments: devices)
    }
}

/// A written boot bundle and what the emulator needs to run it.
public struct PreparedBundle: Sendable {
    public var url: URL
    /// Arguments that create the config's devices (EmulatorOptions.extra).
    public var emulatorArguments: [String]
}
