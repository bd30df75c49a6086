// BundleAcceptedByHypervisorTests: what BundleWriter writes, the hypervisor's own BundleView accepts.
//
// The bundle is handed to RumkvCore's reader at its host address, as the
// hypervisor gets it from the initrd; the tables it reads back must be the
// ones the tool wrote, and a few corruptions must be refused by both readers.

import Foundation
import RumABI
import RumkvCore
import XCTest
@testable import RumkvBuild

final class BundleAcceptedByHypervisorTests: XCTestCase {
    /// What the hypervisor's reader sees in `data`: its devices and channels, or nil if it refuses the bundle.
    func hypervisorView(_ data: Data) -> (guests: Int, devices: [Data], channels: [Data])? {
        data.withUnsafeBytes { raw -> (Int, [Data], [Data])? in
            let base = UInt64(UInt(bitPattern: raw.baseAddress!))
            guard let v = try? BundleView(base: base, size: UInt64(raw.count), maxVCPUs: 8) else { return nil }
            return (v.guestCount,
                    (0..<v.deviceCount).map { i in withUnsafeBytes(of: v.device(i)) { Data($0) } },
                    (0..<v.channelCount).map { i in withUnsafeBytes(of: v.channel(i)) { Data($0) } })
        }
    }

    func bundle(_ config: PartitionConfig) throws -> Data {
        let images = config.guests.map { _ in Data(repeating: 0x13, count: 300) }
        return try BundleWriter.assemble(config.guests, images, devices: config.bundleDevices, channels: config.bundleChannels)
    }

    /// 8 guests, 8 devices (every virtio slot, owned round the guests), 8 channels in a ring.
    func fullConfig() throws -> PartitionConfig {
        let guests = (0..<8).map { guest("g\($0)") }.joined()
        let devices = (0..<8).map { device("d\($0)", mmio: "0x1000\($0 + 1)000", "irq = \($0 + 1)\nguest = \"g\(7 - $0)\"\nqemu = \"virtio-rng\"") }
        let channels = (0..<8).map { channel("c\($0)", "[\"g\($0)\", \"g\(($0 + 1) % 8)\"]", "size = \"\(4 * ($0 + 1))K\"") }
        return try parseConfig(partitionHead + guests + devices.joined() + channels.joined())
    }

    func testToolBundlesAreAccepted() throws {
        var configs = try ["passthrough", "channels", "three-guests"].map {
            try PartitionConfig.load(repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/\($0).toml"))
        }
        configs.append(try fullConfig())
        for config in configs {
            let data = try bundle(config)
            let tool = try BundleWriter.read(data)
            guard let hv = hypervisorView(data) else { XCTFail("the hypervisor refuses \(config.name)"); continue }
            XCTAssertEqual(hv.guests, tool.guests.count, config.name)
            XCTAssertEqual(hv.devices, tool.devices.map { d in withUnsafeBytes(of: d) { Data($0) } }, config.name)
            XCTAssertEqual(hv.channels, tool.channels.map { c in withUnsafeBytes(of: c) { Data($0) } }, config.name)
            XCTAssertEqual(hv.devices.count, config.devices.count)
            XCTAssertEqual(hv.channels.count, config.channels.count)
        }
    }

    func testCorruptTablesAreRefusedByBoth() throws {
        let good = try bundle(try fullConfig())
        let devices = 32 + 8 * 120, channels = devices + 8 * 48
        let corruptions: [(String, (inout Data) -> Void)] = [
            ("device window misaligned", { $0.patch(devices + 0x10, UInt64(0x1000_1010)) }),
            ("device window empty", { $0.patch(devices + 0x18, UInt64(0)) }),
            ("devices overlap", { $0.patch(devices + 48 + 0x10, UInt64(0x1000_1000)) }),
            ("irq used twice", { $0.patch(devices + 48 + 0x20, UInt32(1)) }),
            ("owner is no guest", { $0.patch(devices + 0x24, UInt32(8)) }),
            ("device reserved", { $0.patch(devices + 0x2C, UInt32(1)) }),
            ("device name", { $0[devices] = UInt8(ascii: "D") }),
            ("channel joins a guest to itself", { $0.patch(channels + 0x14, UInt32(0)) }),
            ("channel guest unknown", { $0.patch(channels + 0x10, UInt32(8)) }),
            ("channel too small", { $0.patch(channels + 0x18, UInt32(2048)) }),
            ("channel too big", { $0.patch(channels + 0x18, UInt32(128 << 10)) }),
            ("channel reserved", { $0.patch(channels + 0x1C, UInt32(1)) }),
            ("too many devices", { $0.patch(0x18, UInt16(9)) }),
            ("too many channels", { $0.patch(0x1A, UInt16(9)) }),
        ]
        XCTAssertNotNil(hypervisorView(good))
        for (what, corrupt) in corruptions {
            var d = good
            corrupt(&d)
            XCTAssertThrowsError(try BundleWriter.read(d), what)
            XCTAssertNil(hypervisorView(d), "the hypervisor accepts: \(what)")
        }
    }
}
