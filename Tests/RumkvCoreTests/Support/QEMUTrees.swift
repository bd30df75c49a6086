// QEMUTrees: the emulators' own device trees, dumped once per test process.
//
// `-machine virt,dumpdtb=PATH` makes QEMU write the DTB it would hand the
// firmware and exit at once, so the tests read exactly what Rumkv boots with.
// A missing emulator skips the tests that need it.

import Foundation
import XCTest
import CLibFDT

struct QEMUTree {
    let label: String
    /// The DTB as QEMU dumped it (aarch64 pads totalsize to 1 MiB), random seeds zeroed.
    let blob: Blob
    /// The same tree packed by libfdt: totalsize is the real end of the data.
    let packed: Blob
}

enum QEMUTrees {
    static let configurations: [(label: String, emulator: String, arguments: [String])] = [
        ("riscv64 smp2 256M", "qemu-system-riscv64", ["-machine", "virt", "-smp", "2", "-m", "256M"]),
        ("riscv64 smp4 1G", "qemu-system-riscv64", ["-machine", "virt", "-smp", "4", "-m", "1G"]),
        ("aarch64 smp2 512M", "qemu-system-aarch64",
         ["-machine", "virt,virtualization=on,gic-version=3", "-cpu", "max", "-smp", "2", "-m", "512M"]),
    ]

    nonisolated(unsafe) private static var cache: [String: QEMUTree] = [:]

    /// Every configuration whose emulator is installed; skips if none is.
    static func all() throws -> [QEMUTree] {
        var trees: [QEMUTree] = []
        for c in configurations {
            if let t = try tree(c.label) { trees.append(t) }
        }
        if trees.isEmpty { throw XCTSkip("no qemu-system-riscv64 or qemu-system-aarch64 on PATH") }
        return trees
    }

    /// The tree for `label`, or nil if its emulator is missing.
    static func tree(_ label: String) throws -> QEMUTree? {
        if let t = cache[label] { return t }
        guard let c = configurations.first(where: { $0.label == label }) else { return nil }
        guard let exe = findExecutable(c.emulator) else { return nil }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rumkv-dtb-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("machine.dtb")
        var args = c.arguments
        let machine = args.firstIndex(of: "-machine")! + 1
        args[machine] += ",dumpdtb=" + path.path
        let p = Process()
        p.executableURL = exe
        p.arguments = args + ["-display", "none"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let data = try? Data(contentsOf: path) else {
            throw FixtureError(message: "\(c.emulator) \(args.joined(separator: " ")) did not dump a tree (status \(p.terminationStatus))")
        }
        let blob = Blob([UInt8](data))
        zeroRandomSeeds(blob)
        let t = QEMUTree(label: label, blob: blob, packed: try pack(blob))
        cache[label] = t
        return t
    }

    /// QEMU puts fresh random bytes in /chosen on every dump; zero them so a
    /// mutation seed replays against the same tree.
    static func zeroRandomSeeds(_ blob: Blob) {
        let chosen = fdt_path_offset(blob.pointer, "/chosen")
        guard chosen >= 0 else { return }
        for name in ["rng-seed", "kaslr-seed"] {
            var len: Int32 = 0
            guard fdt_getprop(blob.pointer, chosen, name, &len) != nil, len > 0 else { continue }
            let zeros = [UInt8](repeating: 0, count: Int(len))
            _ = fdt_setprop_inplace(blob.pointer, chosen, name, zeros, len)
        }
    }

    /// A copy of `blob` whose totalsize ends at its last block (fdt_open_into + fdt_pack).
    static func pack(_ blob: Blob) throws -> Blob {
        let work = Blob(count: blob.count)
        guard fdt_open_into(blob.pointer, work.pointer, Int32(work.count)) == 0,
              fdt_pack(work.pointer) == 0 else {
            throw FixtureError(message: "libfdt could not repack a \(blob.count)-byte tree")
        }
        return work.copy(prefix: Int(work.be32(FDTHeader.totalSize)))
    }

    static func findExecutable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
