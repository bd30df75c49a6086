// BundleCommand: `rumkv bundle` and `rumkv check-config`, from a partition config to a boot bundle.
//
// `bundle` validates a config (docs/config.md), flattens each guest's image and
// writes the binary bundle of rumabi.h next to the built images, then reads it
// back and prints what the hypervisor will see. `check-config` only validates,
// for editors and CI. Config problems go to stderr, one per line, exit code 1.

import ArgumentParser
import Foundation
import RumABI
import RumkvBuild

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bundle",
        abstract: "Build the boot bundle for a partition config.",
        discussion: """
            Guests with image = "rumpk" use the Rumpk image built by `rumkv build --arch <arch>`; \
            other images are paths relative to the config file. The bundle goes to \
            .build/images/release/<arch>/bundle-<partition name>.bin unless -o says otherwise.
            """)

    @Argument(help: "The partition config (see docs/config.md).")
    var config: String

    @Option(name: .shortAndLong, help: "Where to write the bundle.")
    var output: String?

    @Option(help: "The Rumpk guest image (default: .build/images/release/<arch>/rumpk.elf).")
    var rumpk: String?

    func run() throws {
        let url = URL(fileURLWithPath: config)
        let partition = try loadConfig(url)
        let imageDir = { () throws -> URL in
            try repositoryRoot().appendingPathComponent(".build/images/release/\(partition.arch.rawValue)")
        }
        let rumpkImage = try rumpk.map { URL(fileURLWithPath: $0) } ?? imageDir().appendingPathComponent("rumpk.elf")
        if partition.guests.contains(where: { $0.image == .rumpk }),
           !FileManager.default.fileExists(atPath: rumpkImage.path) {
            throw BuildError("no Rumpk image at \(rumpkImage.path)"
                + (rumpk == nil ? "; run `rumkv build --arch \(partition.arch.rawValue)` first" : ""))
        }
        // Guest images are signed with the build's key, which the hypervisor trusts.
        let key = try SigningKey.forBuild(root: try repositoryRoot())
        let data = try BundleWriter.make(partition, configDirectory: url.deletingLastPathComponent(),
                                         rumpkImage: rumpkImage, objcopy: objcopyPath()) { flat in
            try key.sign(flat, arch: partition.arch.nplByte, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        }
        let contents = try BundleWriter.read(data)
        let entries = contents.guests
        let out = try output.map { URL(fileURLWithPath: $0) }
            ?? imageDir().appendingPathComponent("bundle-\(partition.name).bin")
        try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: out, options: .atomic)
        print("\(out.relativePath): \(data.count) bytes, \(entries.count) guest\(entries.count == 1 ? "" : "s") for \(partition.arch.rawValue)")
        print(BundleTable.render(entries))
        if !contents.devices.isEmpty { print("\n" + BundleTable.render(contents.devices, guests: entries)) }
        if !contents.channels.isEmpty { print("\n" + BundleTable.render(contents.channels, guests: entries)) }
    }

    /// llvm-objcopy from the Swift toolchain, else from PATH.
    func objcopyPath() -> String {
        if let t = try? Toolchain.locate(), FileManager.default.isExecutableFile(atPath: t.tool("llvm-objcopy")) {
            return t.tool("llvm-objcopy")
        }
        return which("llvm-objcopy") ?? "llvm-objcopy"
    }
}

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config",
        abstract: "Validate partition configs without building anything; prints ok or the problems.")

    @Argument(help: "The partition configs to check.")
    var configs: [String]

    func run() throws {
        var failed = false
        for path in configs {
            let url = URL(fileURLWithPath: path)
            do {
                let partition = try PartitionConfig.load(url)
                let directory = url.deletingLastPathComponent()
                let missing = partition.imageFileProblems(configDirectory: directory)
                    + partition.missingDiskFiles(configDirectory: directory)
                if !missing.isEmpty { throw ConfigError(missing) }
                print(configs.count == 1 ? "ok" : "\(path): ok")
            } catch let e as ConfigError {
                FileHandle.standardError.write(Data((e.description + "\n").utf8))
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// Loads a config; on problems prints them to stderr and fails with exit code 1.
func loadConfig(_ url: URL) throws -> PartitionConfig {
    do { return try PartitionConfig.load(url) } catch let e as ConfigError {
        FileHandle.standardError.write(Data((e.description + "\n").utf8))
        throw ExitCode.failure
    }
}

/// The summary tables `rumkv bundle` prints, read from the written bundle's tables.
enum BundleTable {
    static func render(_ entries: [BundleGuest]) -> String {
        let head = ["guest", "memory", "vcpus", "harts", "restart", "flags", "image"]
        let rows = entries.map { g in
            [BundleWriter.name(of: g), ByteSize.format(g.memory_size), "\(g.vcpus)", harts(g.cpu_mask),
             RestartPolicy.allCases.first { $0.abiValue == g.restart_policy }?.rawValue ?? "?",
             flags(g), "\(g.image_size) bytes"]
        }
        return columns(head, rows)
    }

    static func render(_ devices: [BundleDevice], guests: [BundleGuest]) -> String {
        let rows = devices.map { d in
            [BundleWriter.name(of: d), "0x" + String(d.mmio_base, radix: 16), ByteSize.format(d.mmio_size),
             d.irq == 0 ? "-" : "\(d.irq)",
             d.owner == RUM_DEVICE_UNOWNED ? "(hypervisor)" : BundleWriter.name(of: guests[Int(d.owner)]),
             d.flags & RUM_DEVICE_F_DMA != 0 ? "dma" : "-"]
        }
        return columns(["device", "mmio", "size", "irq", "owner", "flags"], rows)
    }

    static func render(_ channels: [BundleChannel], guests: [BundleGuest]) -> String {
        let rows = channels.map { c in
            [BundleWriter.name(of: c), BundleWriter.name(of: guests[Int(c.guest_a)]),
             BundleWriter.name(of: guests[Int(c.guest_b)]), ByteSize.format(UInt64(c.size))]
        }
        return columns(["channel", "side a", "side b", "size"], rows)
    }

    /// Left-aligned columns two spaces apart, the header first.
    static func columns(_ head: [String], _ rows: [[String]]) -> String {
        let widths = head.indices.map { c in ([head] + rows).map { $0[c].count }.max()! }
        return ([head] + rows).map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    /// "0-1", "1", "0,2" or "any".
    static func harts(_ mask: UInt64) -> String {
        if mask == .max { return "any" }
        var parts: [String] = []
        var h = 0
        while h < 64 {
            guard mask & (1 << UInt64(h)) != 0 else { h += 1; continue }
            var last = h
            while last + 1 < 64, mask & (1 << UInt64(last + 1)) != 0 { last += 1 }
            parts.append(last == h ? "\(h)" : "\(h)-\(last)")
            h = last + 1
        }
        return parts.joined(separator: ",")
    }

    static func flags(_ g: BundleGuest) -> String {
        var f: [String] = []
        if g.flags & RUM_GUEST_F_AUTOSTART != 0 { f.append("autostart") }
        if g.flags & RUM_GUEST_F_PINNED != 0 { f.append("pinned") }
        if g.flags & RUM_GUEST_F_VERBOSE != 0 { f.append("verbose") }
        if g.flags & RUM_GUEST_F_TEST != 0 {
            let payload = TestPayload.allCases.first { $0.number == g.payload }
            f.append("test:\(payload?.rawValue ?? "\(g.payload)")")
        }
        return f.isEmpty ? "-" : f.joined(separator: ",")
    }
}
