// BundleTablesTests: device and channel tables go into the bundle where rumabi.h says, and come back.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class BundleTablesTests: XCTestCase {
    func testLayout() {
        XCTAssertEqual(MemoryLayout<BundleDevice>.size, 48)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.name), 0x00)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.mmio_base), 0x10)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.mmio_size), 0x18)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.irq), 0x20)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.owner), 0x24)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.flags), 0x28)
        XCTAssertEqual(MemoryLayout<BundleDevice>.offset(of: \.reserved), 0x2C)
        XCTAssertEqual(MemoryLayout<BundleChannel>.size, 32)
        XCTAssertEqual(MemoryLayout<BundleChannel>.offset(of: \.guest_a), 0x10)
        XCTAssertEqual(MemoryLayout<BundleChannel>.offset(of: \.guest_b), 0x14)
        XCTAssertEqual(MemoryLayout<BundleChannel>.offset(of: \.size), 0x18)
        XCTAssertEqual(MemoryLayout<BundleChannel>.offset(of: \.reserved), 0x1C)
        XCTAssertEqual([BundleWriter.deviceSize, BundleWriter.channelSize], [48, 32])
        XCTAssertEqual(RUM_DEVICE_UNOWNED, 0xFFFF_FFFF)
        XCTAssertEqual(RUM_DEVICE_F_DMA, 1)
        XCTAssertEqual([ConfigLimits.maxDevices, ConfigLimits.maxChannels, ConfigLimits.channelsPerGuest], [8, 8, 2])
    }

    func testEncoderMatchesTheCStructs() {
        var d = BundleDevice()
        withUnsafeMutableBytes(of: &d.name) { $0.copyBytes(from: Array("blk0".utf8)) }
        d.mmio_base = 0x1122_3344_5566_7788; d.mmio_size = 0x99AA_BBCC_DDEE_FF00
        d.irq = 0x0102_0304; d.owner = 0x0506_0708; d.flags = 0x090A_0B0C; d.reserved = 0x0D0E_0F10
        let db = BundleWriter.encode(d)
        XCTAssertEqual(db, withUnsafeBytes(of: d) { Data($0) })
        XCTAssertEqual(withUnsafeBytes(of: BundleWriter.decodeDevice([UInt8](db), at: 0)) { Data($0) }, db)

        var c = BundleChannel()
        withUnsafeMutableBytes(of: &c.name) { $0.copyBytes(from: Array("pp".utf8)) }
        c.guest_a = 0xA1A2_A3A4; c.guest_b = 0xB1B2_B3B4; c.size = 0xC1C2_C3C4; c.reserved = 0xD1D2_D3D4
        let cb = BundleWriter.encode(c)
        XCTAssertEqual(cb, withUnsafeBytes(of: c) { Data($0) })
        XCTAssertEqual(Array(cb[0x10..<0x14]), [0xA4, 0xA3, 0xA2, 0xA1], "guest_a little-endian at 0x10")
        XCTAssertEqual(withUnsafeBytes(of: BundleWriter.decodeChannel([UInt8](cb), at: 0)) { Data($0) }, cb)
        XCTAssertEqual(BundleWriter.name(of: BundleWriter.decodeChannel([UInt8](cb), at: 0)), "pp")
    }

    func testRoundTrip() throws {
        let dir = try temporaryDirectory(self)
        let rumpk = dir.appendingPathComponent("rumpk.bin")
        try Data(repeating: 0x13, count: 5000).write(to: rumpk)
        let config = try parseConfig(threeGuests
            + device("blk", mmio: "0x10008000", "irq = 8\nguest = \"b\"\nqemu = \"virtio-blk\"\ndisk = \"@scratch:1M\"")
            + device("spare", mmio: "0x40000000", "size = \"64K\"\nirq = 40")
            + channel("ab") + channel("bc", "[\"b\", \"c\"]", "size = \"64K\""))
        let data = try BundleWriter.make(config, configDirectory: dir, rumpkImage: rumpk, objcopy: "/nonexistent")
        let c = try BundleWriter.read(data)

        XCTAssertEqual(c.header.guest_count, 3)
        XCTAssertEqual(c.header.device_count, 2)
        XCTAssertEqual(c.header.channel_count, 2)
        XCTAssertEqual(data.le(0x18, as: UInt16.self), 2, "device_count at 0x18")
        XCTAssertEqual(data.le(0x1A, as: UInt16.self), 2, "channel_count at 0x1A")
        XCTAssertEqual(c.guests.map(\.image_offset), [0x1000, 0x3000, 0x5000], "images after the tables, 4 KiB aligned")

        XCTAssertEqual(c.devices.map { BundleWriter.name(of: $0) }, ["blk", "spare"])
        XCTAssertEqual(c.devices.map(\.mmio_base), [0x1000_8000, 0x4000_0000])
        XCTAssertEqual(c.devices.map(\.mmio_size), [0x1000, 0x10000])
        XCTAssertEqual(c.devices.map(\.irq), [8, 40])
        XCTAssertEqual(c.devices.map(\.owner), [1, RUM_DEVICE_UNOWNED])
        XCTAssertEqual(c.devices.map(\.flags), [RUM_DEVICE_F_DMA, 0])
        XCTAssertEqual(c.channels.map { BundleWriter.name(of: $0) }, ["ab", "bc"])
        XCTAssertEqual(c.channels.map(\.guest_a), [0, 1])
        XCTAssertEqual(c.channels.map(\.guest_b), [1, 2])
        XCTAssertEqual(c.channels.map(\.size), [16 << 10, 64 << 10])

        // Devices right after the 3 guest entries, channels right after the devices, then zeros.
        let devicesAt = 32 + 3 * 120, channelsAt = devicesAt + 2 * 48, end = channelsAt + 2 * 32
        XCTAssertEqual(data[devicesAt..<channelsAt], config.bundleDevices.map { withUnsafeBytes(of: $0) { Data($0) } }.reduce(Data(), +))
        XCTAssertEqual(data[channelsAt..<end], config.bundleChannels.map { withUnsafeBytes(of: $0) { Data($0) } }.reduce(Data(), +))
        XCTAssertTrue(data[end..<0x1000].allSatisfy { $0 == 0 })
        XCTAssertEqual(try BundleWriter.parse(data).guests.count, 3, "parse keeps its shape")
    }

    func testBundlesWithoutTablesAreUnchanged() throws {
        let config = try parseConfig(partitionHead + guest("a"))
        let data = try BundleWriter.assemble(config.guests, [Data([1])], devices: config.bundleDevices, channels: config.bundleChannels)
        XCTAssertEqual(data.le(0x18, as: UInt32.self), 0)
        XCTAssertEqual(try BundleWriter.read(data).devices.count, 0)
        XCTAssertEqual(data, try BundleWriter.assemble(config.guests, [Data([1])]))
    }

    func testExampleConfigsMakeValidBundles() throws {
        let dir = try temporaryDirectory(self)
        let rumpk = dir.appendingPathComponent("rumpk.bin")
        try Data(repeating: 0x13, count: 300).write(to: rumpk)
        for (name, devices, channels) in [("passthrough", 2, 0), ("channels", 0, 1)] {
            let url = repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/\(name).toml")
            let config = try PartitionConfig.load(url)
            let data = try BundleWriter.make(config, configDirectory: url.deletingLastPathComponent(),
                                             rumpkImage: rumpk, objcopy: "/nonexistent")
            let c = try BundleWriter.read(data)
            XCTAssertEqual(c.devices.count, devices, name)
            XCTAssertEqual(c.channels.count, channels, name)
        }
    }
}
