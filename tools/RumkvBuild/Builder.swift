// Builder: compiles and links the bare-metal images for one architecture.
//
// An image is a stack of Swift modules compiled in Embedded mode, each with
// -wmo into one object (RumABI -> RumCrypto -> RumNPL -> RumkvCore -> the
// port), plus the port's assembly, the freestanding libc and a linker script.
// The module stack mirrors the SwiftPM targets that host tests exercise, so
// the code tested on the host is the code that boots.

import Foundation

public struct Images: Sendable {
    /// The hypervisor ELF.
    public let hypervisor: URL
    /// The Rumpk guest ELF.
    public let guest: URL
    /// Bootable medium for emulators that need one (x86_64: GRUB ISO), else nil.
    public let bootMedium: URL?
    /// Output directory.
    public let directory: URL

    public init(hypervisor: URL, guest: URL, bootMedium: URL?, directory: URL) {
        self.hypervisor = hypervisor; self.guest = guest; self.bootMedium = bootMedium; self.directory = directory
    }
}

public struct Builder: Sendable {
    public let root: URL
    public let toolchain: Toolchain
    public let verbose: Bool

    public init(root: URL, verbose: Bool = false) throws {
        self.root = root
        self.toolchain = try Toolchain.locate()
        self.verbose = verbose
    }

    /// The repository root: the directory holding Package.swift, found from `start` upwards.
    public static func findRoot(from start: URL) -> URL? {
        var dir = start.standardizedFileURL
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: dir.appendingPathComponent("Hypervisor").path) {
                return dir
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    public func outputDirectory(_ arch: Arch, _ variant: Variant) -> URL {
        root.appendingPathComponent(".build/images/\(variant.rawValue)/\(arch.rawValue)")
    }

    struct Module {
        let name: String
        let sources: [String]       // directories (recursive) or files, relative to root
        var noAllocations = false
        /// Rumkv's own modules (Arch.hypervisorDroppedFlags apply).
        var hypervisor = false
    }

    var commonSwiftFlags: [String] {
        ["-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library", "-Osize",
         "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections",
         "-swift-version", "5"]
    }

    /// Builds hypervisor and guest for `arch`.
    public func build(_ arch: Arch, variant: Variant = .release) throws -> Images {
        let out = outputDirectory(arch, variant)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let objs = out.appendingPathComponent("obj")
        try? FileManager.default.removeItem(at: objs)
        try FileManager.default.createDirectory(at: objs, withIntermediateDirectories: true)

        let shared = try compileModules(arch, variant, objs, [
            Module(name: "RumABI", sources: ["Shared/Swift"]),
            Module(name: "RumCrypto", sources: ["Shared/Crypto"], noAllocations: true),
            Module(name: "RumNPL", sources: ["Shared/NPL"]),
            Module(name: "RumLoader", sources: ["Shared/Loader"], noAllocations: true),
        ])
        let libc = try compileC(arch, "Boot/common/libc.c", objs, extra: ["-ffreestanding", "-fno-builtin", "-O2"])
        // The public keys the images trust come from this build's signing key.
        let keysSource = objs.appendingPathComponent("trusted_keys.c")
        try SigningKey.forBuild(root: root).trustedKeysSource().write(to: keysSource, atomically: true, encoding: .utf8)
        let keys = try compileC(arch, keysSource.path, objs, extra: ["-O2"])

        // Hypervisor.
        let hvObjs = try compileModules(arch, variant, objs, [
            Module(name: "RumkvCore", sources: ["Hypervisor/Core"], hypervisor: true),
            Module(name: "Rumkv", sources: ["Hypervisor/\(arch.rawValue)"], hypervisor: true),
        ], prefix: "hv-")
        let hvAsm = try assembleAll(arch, dir: "Boot/\(arch.rawValue)", objs, prefix: "hv-", skipPrefix: "guest")
        let hypervisor = out.appendingPathComponent("rumkv.elf")
        try link(arch, script: "Boot/\(arch.rawValue)/hypervisor.ld", objects: shared + hvObjs + hvAsm + [libc, keys], output: hypervisor)

        // Guest.
        let gObjs = try compileModules(arch, variant, objs, [
            Module(name: "Rumpk", sources: ["Guest/Kernel", "Guest/\(arch.rawValue)"]),
        ], prefix: "guest-")
        let gAsm = try assembleAll(arch, dir: "Guest/\(arch.rawValue)", objs, prefix: "guest-", skipPrefix: nil)
        let guest = out.appendingPathComponent("rumpk.elf")
        try link(arch, script: "Guest/\(arch.rawValue)/guest.ld", objects: shared + gObjs + gAsm + [libc, keys], output: guest)

        let medium = try PostLink.bootMedium(self, arch, hypervisor: hypervisor, guest: guest, out: out)
        return Images(hypervisor: hypervisor, guest: guest, bootMedium: medium, directory: out)
    }

    func swiftSources(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for p in paths {
            let url = root.appendingPathComponent(p)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if !isDir.boolValue { files.append(url.path); continue }
            let e = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)
            while let f = e?.nextObject() as? URL {
                if f.pathExtension == "swift" { files.append(f.path) }
            }
        }
        return files.sorted()
    }

    func compileModules(_ arch: Arch, _ variant: Variant, _ objs: URL, _ modules: [Module],
                        prefix: String = "") throws -> [URL] {
        var result: [URL] = []
        for m in modules {
            let files = try swiftSources(m.sources)
            guard !files.isEmpty else { throw BuildError("module \(m.name) has no sources in \(m.sources)") }
            let obj = objs.appendingPathComponent("\(prefix)\(m.name).o")
            var args = commonSwiftFlags + ["-target", arch.triple] + Builder.without(arch.swiftFlags, m.hypervisor ? arch.hypervisorDroppedFlags : [])
            args += ["-module-name", m.name, "-emit-module",
                     "-emit-module-path", objs.appendingPathComponent("\(m.name).swiftmodule").path,
                     "-I", objs.path,
                     "-I", root.appendingPathComponent("Shared/include").path,
                     "-I", root.appendingPathComponent("Boot/include/\(arch.rawValue)").path,
                     "-c", "-o", obj.path]
            if variant == .test { args += ["-D", "RUMKV_TEST"] }
            if m.noAllocations { args += ["-Xfrontend", "-no-allocations"] }
            try run(toolchain.tool("swiftc"), args + files, cwd: root, verbose: verbose)
            result.append(obj)
        }
        return result
    }

    /// `flags` without each of `dropped` (and, for a `-Xcc` pair, its `-Xcc`).
    static func without(_ flags: [String], _ dropped: [String]) -> [String] {
        var out: [String] = []
        for f in flags {
            if dropped.contains(f) {
                if out.last == "-Xcc" { out.removeLast() }
                continue
            }
            out.append(f)
        }
        return out
    }

    func compileC(_ arch: Arch, _ file: String, _ objs: URL, extra: [String] = [], prefix: String = "") throws -> URL {
        let src = file.hasPrefix("/") ? URL(fileURLWithPath: file) : root.appendingPathComponent(file)
        let obj = objs.appendingPathComponent(prefix + src.deletingPathExtension().lastPathComponent + ".o")
        let dropped = prefix == "hv-" ? arch.hypervisorDroppedFlags : []
        var args = ["--target=\(arch.clangTarget)"] + Builder.without(arch.codegenFlags, dropped) + extra
        args += ["-ffreestanding", "-nostdlib", "-fno-pic", "-fno-stack-protector",
                 "-I", root.appendingPathComponent("Boot/include/\(arch.rawValue)").path,
                 "-I", root.appendingPathComponent("Shared/include").path,
                 "-c", src.path, "-o", obj.path]
        try run(toolchain.tool("clang"), args, cwd: root, verbose: verbose)
        return obj
    }

    func assembleAll(_ arch: Arch, dir: String, _ objs: URL, prefix: String, skipPrefix: String?) throws -> [URL] {
        let d = root.appendingPathComponent(dir)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        var result: [URL] = []
        for n in names.sorted() where n.hasSuffix(".S") || n.hasSuffix(".c") {
            if let skip = skipPrefix, n.hasPrefix(skip) { continue }
            result.append(try compileC(arch, "\(dir)/\(n)", objs, extra: ["-O2"], prefix: prefix))
        }
        return result
    }

    func link(_ arch: Arch, script: String, objects: [URL], output: URL) throws {
        var args = ["-T", root.appendingPathComponent(script).path, "--gc-sections", "-nostdlib", "-static",
                    "-o", output.path]
        args += objects.map(\.path)
        try run(toolchain.tool("ld.lld"), args, cwd: root, verbose: verbose)
    }
}
