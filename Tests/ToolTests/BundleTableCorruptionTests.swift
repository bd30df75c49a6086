// BundleTableCorruptionTests: BundleWriter.read refuses malformed device and channel tables.
//
// Each test starts from a valid bundle of three guests (alpha, beta, gamma),
// two devices and three channels, and breaks one field.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class BundleTableCorruptionTests: XCTestCase {
    /// Offset of device `i` / channel `i`, plus `field` (a rumabi.h field offset).
    func dev(_ i: Int, _ field: Int = 0) -> Int { 32 + 3 * 120 + 48 * i + field }
    func chan(_ i: Int, _ field: Int = 0) -> Int { 32 + 3 * 120 + 2 * 48 + 32 * i + field }

    func validBundle() throws -> Data {
        let config = try parseConfig(partitionHead + guest("alpha") + guest("beta") + guest("gamma")
            + device("blk", mmio: "0x10008000", "irq = 8\nguest = \"beta\"\nqemu = \"virtio-blk\"\ndisk = \"@scratch:1M\"")
            + device("rng", mmio: "0x10007000", "irq = 7\nqemu = \"virtio-rng\"")
            + channel("ab", "[\"alpha\", \"beta\"]") + channel("bc", "[\"beta\", \"gamma\"]") + channel("ca", "[\"gamma\", \"alpha\"]"))
        let data = try BundleWriter.assemble(config.guests, [Data([1]), Data([2]), Data([3])],
                                             devices: config.bundleDevices, channels: config.bundleChannels)
        XCTAssertNoThrow(try BundleWriter.read(data))
        return data
    }

    func assertRejected(_ data: Data, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try BundleWriter.read(data), file: file, line: line) {
            XCTAssertEqual("\($0)", message, file: file, line: line)
        }
        XCTAssertThrowsError(try BundleWriter.parse(data), "parse checks the tables too", file: file, line: line)
    }

    func testCounts() throws {
        let good = try validBundle()
        var d = good; d.patch(0x18, UInt16(9))
        assertRejected(d, "device_count 9 / channel_count 3, at most 8 / 8")
        d = good; d.patch(0x1A, UInt16(9))
        assertRejected(d, "device_count 2 / channel_count 9, at most 8 / 8")
        d = good; d.patch(0x18, UInt16(8)); d.patch(0x1A, UInt16(8)); d.patch(0x08, UInt32(500))
        assertRejected(d, "the device and channel tables end at 1032, past total_size 500")
        d = good; d.patch(32 + 0x10, UInt32(0))
        assertRejected(d, "guest 0 ('alpha'): image offset 0x0 lies inside the header or entries")
    }

    func testDevices() throws {
        let good = try validBundle()
        var d = good; d.patch(dev(0, 0x10), UInt64(0x1000_8800))
        assertRejected(d, "device 0 ('blk'): window 0x10008800 + 0x1000 is not a non-empty 4 KiB aligned window of at most 1 GiB")
        d = good; d.patch(dev(0, 0x18), UInt64(0))
        assertRejected(d, "device 0 ('blk'): window 0x10008000 + 0x0 is not a non-empty 4 KiB aligned window of at most 1 GiB")
        d = good; d.patch(dev(0, 0x18), UInt64(0x1800))
        assertRejected(d, "device 0 ('blk'): window 0x10008000 + 0x1800 is not a non-empty 4 KiB aligned window of at most 1 GiB")
        d = good; d.patch(dev(0, 0x18), UInt64(2 << 30))
        assertRejected(d, "device 0 ('blk'): window 0x10008000 + 0x80000000 is not a non-empty 4 KiB aligned window of at most 1 GiB")
        d = good; d.patch(dev(0, 0x10), UInt64.max - 0xFFF)
        assertRejected(d, "device 0 ('blk'): window 0xfffffffffffff000 + 0x1000 is not a non-empty 4 KiB aligned window of at most 1 GiB")
        d = good; d.patch(dev(0, 0x20), UInt32(64))
        assertRejected(d, "device 0 ('blk'): irq 64 is out of range 0...63")
        d = good; d.patch(dev(0, 0x24), UInt32(3))
        assertRejected(d, "device 0 ('blk'): owner 3 is not a guest (3 guests) nor RUM_DEVICE_UNOWNED")
        d = good; d.patch(dev(0, 0x28), UInt32(3))
        assertRejected(d, "device 0 ('blk'): unknown flags 0x2")
        d = good; d.patch(dev(0, 0x2C), UInt32(1))
        assertRejected(d, "device 0 ('blk'): reserved field is not zero")
        d = good; d.patch(dev(1, 0x10), UInt64(0x1000_8000))
        assertRejected(d, "device 1 ('rng'): window overlaps device 0 ('blk')")
        d = good; d.patch(dev(1, 0x20), UInt32(8))
        assertRejected(d, "device 1 ('rng'): irq 8 is also device 0 ('blk')'s")
        d = good; d.patch(dev(0, 0x20), UInt32(0)); d.patch(dev(1, 0x20), UInt32(0))
        XCTAssertNoThrow(try BundleWriter.read(d), "irq 0 (none) may repeat")
        d = good; d.patch(dev(1, 0x24), UInt32(2))
        XCTAssertNoThrow(try BundleWriter.read(d), "any guest may own it")
    }

    func testDeviceNames() throws {
        let good = try validBundle()
        var d = good; d.replaceSubrange(dev(1)..<dev(1, 16), with: Array("blk".utf8) + [UInt8](repeating: 0, count: 13))
        assertRejected(d, "device 1 ('blk'): name is used by device 0 ('blk')")
        d = good; d.replaceSubrange(dev(0)..<dev(0, 16), with: Array("abcdefghijklmnop".utf8))
        assertRejected(d, "device 0: name is not NUL-terminated")
        d = good; d[dev(0, 12)] = UInt8(ascii: "x")
        assertRejected(d, "device 0: name has bytes after its NUL")
        d = good; d[dev(0)] = UInt8(ascii: "B")
        assertRejected(d, "device 0: name: 'Blk' must start with a lowercase letter")
        d = good; d.replaceSubrange(dev(0)..<dev(0, 16), with: [UInt8](repeating: 0, count: 16))
        assertRejected(d, "device 0: name: the name is empty")
    }

    func testChannels() throws {
        let good = try validBundle()
        var d = good; d.patch(chan(0, 0x10), UInt32(3))
        assertRejected(d, "channel 0 ('ab'): guests 3 and 1 are not two different guests of 3")
        d = good; d.patch(chan(0, 0x14), UInt32(0))
        assertRejected(d, "channel 0 ('ab'): guests 0 and 0 are not two different guests of 3")
        for size: UInt32 in [0, 2048, 6144, 128 << 10] {
            d = good; d.patch(chan(1, 0x18), size)
            assertRejected(d, "channel 1 ('bc'): size \(size) is not a multiple of 4 KiB in 4 KiB...64 KiB")
        }
        d = good; d.patch(chan(1, 0x1C), UInt32(1))
        assertRejected(d, "channel 1 ('bc'): reserved field is not zero")
        d = good; d.patch(chan(2, 0x10), UInt32(0)); d.patch(chan(2, 0x14), UInt32(1))
        assertRejected(d, "channel 2 ('ca'): guest 1 ('beta') is in more than 2 channels")
        d = good; d.replaceSubrange(chan(2)..<chan(2, 16), with: Array("ab".utf8) + [UInt8](repeating: 0, count: 14))
        assertRejected(d, "channel 2 ('ab'): name is used by channel 0")
        d = good; d[chan(0)] = UInt8(ascii: "-")
        assertRejected(d, "channel 0: name: '-b' must start with a lowercase letter")
    }
}
