// Payloads: building the demo payloads and the per-guest payload stores.
//
// A demo payload is a directory Guest/Payloads/NAME of Embedded Swift (and
// optionally C) sources. It is compiled for the partition's architecture
// with the image flags, linked with the freestanding libc and
// Guest/Payloads/payload.ld into a static ELF64 executable at the payload
// window (RAM + 1 MiB), and wrapped in an NPL image (flag ELF) signed with
// the build's key, which every Rumpk image trusts. A guest's `payloads` may
// also name files: NAME.elf is signed the same way, NAME.npl is stored as
// it is (the guest decides whether it runs). The store is a ustar archive
// (PayloadStore.swift) of NAME.npl members plus `autorun`.

import Foundation
import RumABI

public struct PayloadBuilder: Sendable {
    public let builder: Builder
    public let key: SigningKey

    public init(root: URL, verbose: Bool = false) throws {
        builder = try Builder(root: root, verbose: verbose)
        key = try SigningKey.forBuild(root: root)
    }

    /// The directory holding the sources of demo payload `name`.
    public func sourceDirectory(_ name: String) -> URL {
        builder.root.appendingPathComponent("Guest/Payloads/\(name)")
    }

    /// Builds demo payload `name` for `arch` (unless up to date); returns the ELF file.
    public func elf(_ name: String, arch: Arch) throws -> URL {
        let dir = sourceDirectory(name)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        let swift = files.filter { $0.hasSuffix(".swift") }, c = files.filter { $0.hasSuffix(".c") }
        guard !swift.isEmpty || !c.isEmpty else {
            throw BuildError("no payload '\(name)': \(dir.path) has no .swift or .c sources")
        }
        let out = builder.root.appendingPathComponent(".build/payloads/\(arch.rawValue)")
        let elf = out.appendingPathComponent("\(name).elf")
        let inputs = files.map { dir.appendingPathComponent($0) } + ["Guest/Payloads/payload.ld", "Shared/include/rumpk.h",
            "Shared/include/rumabi.h", "Boot/common/libc.c"].map { builder.root.appendingPathComponent($0) }
        if Self.isNewer(elf, than: inputs) { return elf }
        let objs = out.appendingPathComponent("obj-\(name)")
        try? FileManager.default.removeItem(at: objs)
        try FileManager.default.createDirectory(at: objs, withIntermediateDirectories: true)
        var objects: [URL] = []
        if !swift.isEmpty {
            let module = "Payload_" + name.replacingOccurrences(of: "-", with: "_")
            objects += try builder.compileModules(arch, .release, objs, [
                Builder.Module(name: module, sources: ["Guest/Payloads/\(name)"], noAllocations: true),
            ])
        }
        // x86_64: payloads run in guest RAM at 2 GiB and up, beyond -mcmodel=kernel's
        // sign-extended 32-bit absolute addresses; the large model reaches anywhere.
        let model = arch == .x86_64 ? ["-mcmodel=large"] : []
        for f in c { objects.append(try builder.compileC(arch, "Guest/Payloads/\(name)/\(f)", objs, extra: model + ["-O2"])) }
        objects.append(try builder.compileC(arch, "Boot/common/libc.c", objs, extra: model + ["-ffreestanding", "-fno-builtin", "-O2"]))
        // 4 KiB pages on every arch (aarch64's lld default is 64 KiB: a 75 KB file for 1 KB of code); no symbols.
        try run(builder.toolchain.tool("ld.lld"), ["-T", builder.root.appendingPathComponent("Guest/Payloads/payload.ld").path,
                "--gc-sections", "-nostdlib", "-static", "-z", "max-page-size=4096", "--strip-all", "-o", elf.path]
                + objects.map(\.path), cwd: builder.root, verbose: builder.verbose)
        return elf
    }

    /// The NPL image of `ref` for `arch`: built and signed, a signed .elf file, or a .npl file as is.
    public func image(_ ref: PayloadRef, arch: Arch, configDirectory: URL) throws -> Data {
        switch ref.source {
        case .demo(let name):
            return try sign(Data(contentsOf: elf(name, arch: arch)), arch: arch)
        case .file(let path):
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : configDirectory.appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw BuildError("cannot read payload file \(url.path)")
            }
            return url.pathExtension == "npl" ? data : try sign(data, arch: arch)
        }
    }

    /// `elf` in an NPL image with the ELF flag, signed with the build's key.
    public func sign(_ elf: Data, arch: Arch) throws -> Data {
        try key.sign(elf, arch: arch.nplByte, flags: UInt16(RUM_NPL_F_ELF))
    }

    /// The payload store of `guest` (ustar: NAME.npl members, then `autorun`), nil if it has no payloads.
    public func store(for guest: GuestConfig, arch: Arch, configDirectory: URL) throws -> Data? {
        guard !guest.payloads.isEmpty else { return nil }
        var members: [PayloadStore.Member] = []
        for p in guest.payloads {
            members.append(.init(name: p.name + ".npl", data: try image(p, arch: arch, configDirectory: configDirectory)))
        }
        let run = guest.autorun
        if !run.isEmpty { members.append(.init(name: "autorun", data: Data((run.joined(separator: "\n") + "\n").utf8))) }
        return PayloadStore.ustar(members)
    }

    static func isNewer(_ file: URL, than inputs: [URL]) -> Bool {
        func mtime(_ u: URL) -> Date? { try? FileManager.default.attributesOfItem(atPath: u.path)[.modificationDate] as? Date }
        guard let t = mtime(file) else { return false }
        return inputs.allSatisfy { (mtime($0) ?? .distantFuture) < t }
    }
}
