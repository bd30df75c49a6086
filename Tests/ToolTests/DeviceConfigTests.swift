// DeviceConfigTests: valid [[device]] and [[channel]] tables, the two shipped examples and the defaults.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class DeviceConfigTests: XCTestCase {
    func testPassthroughExample() throws {
        let c = try PartitionConfig.load(repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/passthrough.toml"))
        XCTAssertEqual(c.name, "passthrough")
        XCTAssertEqual(c.guests.map(\.name), ["disk", "entropy", "plain"])
        XCTAssertEqual(c.devices.map(\.name), ["blk0", "rng0"])
        XCTAssertEqual(c.devices.map(\.mmio), [0x1000_8000, 0x1000_7000])
        XCTAssertEqual(c.devices.map(\.size), [4096, 4096])
        XCTAssertEqual(c.devices.map(\.irq), [8, 7])
        XCTAssertEqual(c.devices.map(\.guest), ["disk", "entropy"])
        XCTAssertEqual(c.devices.map(\.qemu), [.virtioBlk, .virtioRng])
        XCTAssertEqual(c.devices.map(\.dma), [true, true])
        XCTAssertEqual(c.devices[0].disk, .scratch(1 << 20))
        XCTAssertNil(c.devices[1].disk)
        XCTAssertEqual(c.bundleDevices.map(\.owner), [0, 1])
        XCTAssertEqual(c.bundleDevices.map(\.flags), [RUM_DEVICE_F_DMA, RUM_DEVICE_F_DMA])
        XCTAssertTrue(c.channels.isEmpty)
    }

    func testChannelsExample() throws {
        let c = try PartitionConfig.load(repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/channels.toml"))
        XCTAssertEqual(c.name, "channels")
        XCTAssertEqual(c.guests.map(\.name), ["ping", "pong"])
        XCTAssertEqual(c.channels, [ChannelConfig(name: "pp", guestA: "ping", guestB: "pong")].map {
            var e = $0; e.line = 25; e.fieldLines = ["name": 26, "between": 27, "size": 28]; return e
        })
        XCTAssertEqual(c.channels[0].size, 16 << 10)
        XCTAssertEqual(c.bundleChannels.map(\.guest_a), [0])
        XCTAssertEqual(c.bundleChannels.map(\.guest_b), [1])
        XCTAssertTrue(c.devices.isEmpty)
    }

    func testDeviceDefaults() throws {
        let c = try parseConfig(threeGuests + device("d") + device("v", mmio: "0x10001000", "irq = 1\nqemu = \"virtio-rng\""))
        let d = c.devices[0]
        XCTAssertEqual(d.size, 4096)
        XCTAssertEqual(d.irq, 0)
        XCTAssertNil(d.guest)
        XCTAssertFalse(d.dma, "no qemu hint: not a bus master unless it says so")
        XCTAssertNil(d.qemu)
        XCTAssertEqual(d.line, 18)
        XCTAssertEqual(d.line(of: "mmio"), 20)
        XCTAssertEqual(d.line(of: "irq"), 18)
        XCTAssertTrue(c.devices[1].dma, "virtio devices are bus masters by default")
        XCTAssertEqual(c.bundleDevices.map(\.owner), [RUM_DEVICE_UNOWNED, RUM_DEVICE_UNOWNED])
        XCTAssertEqual(c.bundleDevices.map(\.flags), [0, RUM_DEVICE_F_DMA])
    }

    func testEveryDeviceField() throws {
        let c = try parseConfig(threeGuests
            + device("uart1", mmio: "0x1_0000_0000", "size = \"2M\"\nirq = 63\nguest = \"c\"\ndma = true")
            + device("net", mmio: "0x10002000", "size = 4096\nirq = 2\nguest = \"b\"\nqemu = \"virtio-net\"\ndma = false")
            + device("blk", mmio: "0x10003000", "irq = 3\nqemu = \"virtio-blk\"\ndisk = \"../disks/a.img\""))
        XCTAssertEqual(c.devices.map(\.mmio), [0x1_0000_0000, 0x1000_2000, 0x1000_3000])
        XCTAssertEqual(c.devices.map(\.size), [2 << 20, 4096, 4096])
        XCTAssertEqual(c.devices.map(\.irq), [63, 2, 3])
        XCTAssertEqual(c.devices.map(\.dma), [true, false, true])
        XCTAssertEqual(c.devices[2].disk, .file("../disks/a.img"))
        let raw = c.bundleDevices
        XCTAssertEqual(raw.map(\.owner), [2, 1, RUM_DEVICE_UNOWNED])
        XCTAssertEqual(raw.map(\.mmio_base), [0x1_0000_0000, 0x1000_2000, 0x1000_3000])
        XCTAssertEqual(raw.map(\.mmio_size), [2 << 20, 4096, 4096])
        XCTAssertEqual(raw.map { BundleWriter.name(of: $0) }, ["uart1", "net", "blk"])
    }

    func testScratchDiskSizes() throws {
        for (text, bytes) in [("@scratch:1M", UInt64(1 << 20)), ("@scratch:512", 512), ("@scratch:1G", 1 << 30), ("@scratch:64K", 64 << 10)] {
            let c = try parseConfig(threeGuests + device("b", mmio: "0x10008000", "irq = 8\nqemu = \"virtio-blk\"\ndisk = \"\(text)\""))
            XCTAssertEqual(c.devices[0].disk, .scratch(bytes), text)
        }
    }

    func testChannels() throws {
        let c = try parseConfig(threeGuests + channel("ab") + channel("ca", "[\"c\", \"a\"]", "size = \"4K\"")
                                + channel("big", "[\"b\", \"c\"]", "size = 65536"))
        XCTAssertEqual(c.channels.map(\.name), ["ab", "ca", "big"])
        XCTAssertEqual(c.channels.map(\.size), [16 << 10, 4 << 10, 64 << 10])
        XCTAssertEqual(c.bundleChannels.map(\.guest_a), [0, 2, 1])
        XCTAssertEqual(c.bundleChannels.map(\.guest_b), [1, 0, 2])
        XCTAssertEqual(c.bundleChannels.map { BundleWriter.name(of: $0) }, ["ab", "ca", "big"])
    }

    func testLimitsAreMet() throws {
        // 8 devices, 8 channels among 8 guests with 2 each (a ring), tables in any order.
        let guests = (0..<8).map { guest("g\($0)") }.joined()
        let devices = (0..<8).map { device("d\($0)", mmio: "0x1000\($0 + 1)000", "irq = \($0 + 1)\nguest = \"g\($0)\"\nqemu = \"virtio-rng\"") }
        let channels = (0..<8).map { channel("c\($0)", "[\"g\($0)\", \"g\(($0 + 1) % 8)\"]") }
        let c = try parseConfig(partitionHead + channels.joined() + guests + devices.joined())
        XCTAssertEqual(c.devices.count, 8)
        XCTAssertEqual(c.channels.count, 8)
        XCTAssertEqual(c.bundleDevices.map(\.owner), Array(0..<8))
    }

    func testDeviceAndChannelMayShareANameWithAGuest() throws {
        let c = try parseConfig(threeGuests + device("a") + channel("a"))
        XCTAssertEqual(c.devices[0].name, c.channels[0].name)
    }

    func testSlotTable() {
        XCTAssertEqual((0..<8).map(VirtSlots.mmio), (0..<8).map { 0x1000_1000 + UInt64($0) * 0x1000 })
        XCTAssertEqual((0..<8).map(VirtSlots.irq), Array(1...8))
        XCTAssertEqual(VirtSlots.slot(at: 0x1000_8000), 7)
        XCTAssertEqual(VirtSlots.slot(at: 0x1000_1000), 0)
        XCTAssertNil(VirtSlots.slot(at: 0x1000_0000))
        XCTAssertNil(VirtSlots.slot(at: 0x1000_9000))
        XCTAssertNil(VirtSlots.slot(at: 0x1000_1800))
    }
}
