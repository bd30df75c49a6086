// QEMUDeviceTests: the emulator arguments for a config's devices, their disks, and where QEMU puts them.
//
// The last test asks a real qemu-system-riscv64 (`info qtree`) which address
// each created device sits at, and compares it with the config's `mmio`.

import Foundation
import XCTest
@testable import RumkvBuild

final class QEMUDeviceTests: XCTestCase {
    let rng = { (slot: Int) in device("rng\(slot)", mmio: "0x1000\(slot + 1)000", "irq = \(slot + 1)\nqemu = \"virtio-rng\"") }

    func testPassthroughExample() throws {
        let dir = try temporaryDirectory(self)
        let url = repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/passthrough.toml")
        let config = try PartitionConfig.load(url)
        let args = try config.qemuDeviceArguments(configDirectory: url.deletingLastPathComponent(), scratchDirectory: dir)
        let disk = dir.appendingPathComponent("disk-passthrough-blk0.img")
        XCTAssertEqual(args, [
            "-global", "virtio-mmio.force-legacy=false",
            "-drive", "file=\(disk.path),if=none,format=raw,id=rumkv-blk0",
            "-device", "virtio-blk-device,drive=rumkv-blk0,bus=virtio-mmio-bus.7",
            "-device", "virtio-rng-device,bus=virtio-mmio-bus.6",
        ])
        let made = try Data(contentsOf: disk)
        XCTAssertEqual(made.count, 1 << 20)
        XCTAssertTrue(made.allSatisfy { $0 == 0 })
    }

    func testScratchDisksAreMadeAfresh() throws {
        let dir = try temporaryDirectory(self)
        let config = try parseConfig(threeGuests + device("b", mmio: "0x10008000", "irq = 8\nqemu = \"virtio-blk\"\ndisk = \"@scratch:8K\""))
        let disk = dir.appendingPathComponent("sub/disk-p-b.img")
        try FileManager.default.createDirectory(at: disk.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 0xEE, count: 20000).write(to: disk)
        _ = try config.qemuDeviceArguments(configDirectory: dir, scratchDirectory: disk.deletingLastPathComponent())
        XCTAssertEqual(try Data(contentsOf: disk), Data(count: 8192), "a scratch disk starts zeroed every run")
        XCTAssertThrowsError(try config.qemuDeviceArguments(configDirectory: dir)) {
            XCTAssertEqual("\($0)", "p.toml:23: device 'b': field 'disk': a scratch disk needs a directory to be made in")
        }
    }

    func testOrderIsHighestSlotFirst() throws {
        let config = try parseConfig(threeGuests + rng(2) + rng(7) + rng(0) + rng(5))
        let args = try config.qemuDeviceArguments(configDirectory: URL(fileURLWithPath: "/nowhere"))
        XCTAssertEqual(args.filter { $0.hasPrefix("virtio-rng-device") },
                       [7, 5, 2, 0].map { "virtio-rng-device,bus=virtio-mmio-bus.\($0)" })
    }

    func testDiskFilesAndNetworking() throws {
        let dir = try temporaryDirectory(self)
        let configDir = dir.appendingPathComponent("cfg, with comma")
        try FileManager.default.createDirectory(at: configDir, withIntermediateDirectories: true)
        let text = threeGuests
            + device("blk", mmio: "0x10004000", "irq = 4\nqemu = \"virtio-blk\"\ndisk = \"../disks/a.img\"")
            + device("net", mmio: "0x10002000", "irq = 2\nqemu = \"virtio-net\"")
            + device("uart1", mmio: "0x20000000", "irq = 12")
        let config = try parseConfig(text)
        XCTAssertEqual(config.missingDiskFiles(configDirectory: configDir),
                       ["p.toml:23: device 'blk': field 'disk': no file at \(dir.path)/disks/a.img"])
        XCTAssertThrowsError(try config.qemuDeviceArguments(configDirectory: configDir, scratchDirectory: dir)) {
            XCTAssertEqual("\($0)", "p.toml:23: device 'blk': field 'disk': no file at \(dir.path)/disks/a.img")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("disks").path), "nothing is created for a missing disk")

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("disks/a.img"), withIntermediateDirectories: true)
        XCTAssertEqual(config.missingDiskFiles(configDirectory: configDir).count, 1, "a directory is not a disk")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("disks/a.img"))
        try Data(count: 4096).write(to: dir.appendingPathComponent("disks/a.img"))

        let other = try parseConfig(text.replacingOccurrences(of: "../disks/a.img", with: "\(configDir.path)/own.img"))
        try Data(count: 512).write(to: configDir.appendingPathComponent("own.img"))
        XCTAssertEqual(try other.qemuDeviceArguments(configDirectory: dir)[3],
                       "file=\(dir.path)/cfg,, with comma/own.img,if=none,format=raw,id=rumkv-blk", "absolute path; commas doubled")

        XCTAssertEqual(try config.qemuDeviceArguments(configDirectory: configDir), [
            "-global", "virtio-mmio.force-legacy=false",
            "-drive", "file=\(dir.path)/disks/a.img,if=none,format=raw,id=rumkv-blk",
            "-device", "virtio-blk-device,drive=rumkv-blk,bus=virtio-mmio-bus.3",
            "-netdev", "user,id=rumkv-net",
            "-device", "virtio-net-device,netdev=rumkv-net,bus=virtio-mmio-bus.1",
        ], "devices without a qemu hint add nothing")
    }

    func testConfigsWithoutQEMUDevicesAddNothing() throws {
        for name in ["three-guests", "pinned", "channels"] {
            let url = repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/\(name).toml")
            XCTAssertEqual(try PartitionConfig.load(url).qemuDeviceArguments(configDirectory: url.deletingLastPathComponent()), [], name)
        }
    }

    /// Boots QEMU (no firmware, no CPU work) with the arguments and reads back the device placement.
    func testQEMUPutsEachDeviceAtItsMMIO() throws {
        guard let qemu = which("qemu-system-riscv64") else { throw XCTSkip("qemu-system-riscv64 is not installed") }
        let dir = try temporaryDirectory(self)
        let config = try parseConfig(threeGuests
            + device("blk", mmio: "0x10003000", "irq = 3\nqemu = \"virtio-blk\"\ndisk = \"@scratch:64K\"")
            + device("rng", mmio: "0x10008000", "irq = 8\nqemu = \"virtio-rng\"")
            + device("net", mmio: "0x10005000", "irq = 5\nqemu = \"virtio-net\""))
        let args = try config.qemuDeviceArguments(configDirectory: dir, scratchDirectory: dir)
        let tree = try qtree(qemu, args)
        XCTAssertEqual(placement(tree), [0x1000_3000: "virtio-blk-device", 0x1000_8000: "virtio-rng-device",
                                         0x1000_5000: "virtio-net-device"], tree)
        XCTAssertTrue(tree.contains("force-legacy = false"))
    }

    /// `info qtree` of a stopped riscv64 virt machine with `extra` arguments.
    func qtree(_ qemu: String, _ extra: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: qemu)
        p.arguments = ["-machine", "virt", "-bios", "none", "-S", "-display", "none", "-serial", "none",
                       "-monitor", "stdio"] + extra
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        let killer = DispatchWorkItem { p.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: killer)
        input.fileHandleForWriting.write(Data("info qtree\nquit\n".utf8))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        killer.cancel()
        return text
    }

    /// Device model by the MMIO address of the virtio-mmio transport it is plugged into.
    func placement(_ tree: String) -> [UInt64: String] {
        var out: [UInt64: String] = [:]
        var transport: UInt64?
        // The monitor ends lines with "\r\n", one Character in Swift: drop the CRs first.
        for line in tree.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
            .map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("dev: virtio-mmio") { transport = 0 }
            if transport == 0, line.hasPrefix("mmio "), let addr = UInt64(line.dropFirst(5).prefix { $0 != "/" }, radix: 16) {
                transport = addr
            }
            if line.hasPrefix("dev: virtio-"), !line.hasPrefix("dev: virtio-mmio"), let t = transport {
                out[t] = String(line.dropFirst(5).prefix { $0 != "," })
            }
        }
        return out
    }
}
