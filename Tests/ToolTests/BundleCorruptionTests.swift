// BundleCorruptionTests: BundleWriter.parse refuses every malformed bundle.
//
// Each test starts from a valid two-guest bundle and breaks one thing: the
// header, the counts, an image's placement, a name or a field.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class BundleCorruptionTests: XCTestCase {
    /// Offset of guest `i`'s entry, plus `field` (a rumabi.h field offset).
    func entry(_ i: Int, _ field: Int = 0) -> Int { 32 + 120 * i + field }

    func validBundle() throws -> Data {
        var a = GuestConfig(name: "alpha", image: .rumpk, memory: 4 << 20)
        a.harts = [0]
        var b = GuestConfig(name: "beta", image: .rumpk, memory: 2 << 20)
        b.harts = [1]
        b.pinned = true
        let data = try BundleWriter.assemble([a, b], [Data(repeating: 1, count: 100), Data(repeating: 2, count: 5000)])
        XCTAssertNoThrow(try BundleWriter.parse(data))
        return data
    }

    func assertRejected(_ data: Data, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try BundleWriter.parse(data), file: file, line: line) {
            XCTAssertEqual("\($0)", message, file: file, line: line)
        }
    }

    func testHeader() throws {
        let good = try validBundle()
        var d = good; d.patch(0, UInt32(0x1234_5678))
        assertRejected(d, "bad magic 0x12345678 (expected 0x424b5552, \"RUKB\")")
        d = good; d.patch(4, UInt16(RUM_ABI_REVISION + 1))
        assertRejected(d, "ABI revision \(RUM_ABI_REVISION + 1), this tool knows \(RUM_ABI_REVISION)")
        d = good; d.patch(6, UInt16(40))
        assertRejected(d, "header_size 40 / guest_entry_size 120, expected 32 / 120")
        d = good; d.patch(0x10, UInt32(64))
        assertRejected(d, "header_size 32 / guest_entry_size 64, expected 32 / 120")
        d = good; d.patch(0x14, UInt32(1))
        assertRejected(d, "header flags or reserved field is not zero")
        assertRejected(good.prefix(20), "the bundle is 20 bytes, too short for its 32-byte header")
    }

    func testCounts() throws {
        let good = try validBundle()
        var d = good; d.patch(0x0C, UInt32(0))
        assertRejected(d, "guest_count 0 is out of range 1...8")
        d = good; d.patch(0x0C, UInt32(9))
        assertRejected(d, "guest_count 9 is out of range 1...8")
        d = good; d.patch(0x0C, UInt32(8)); d.patch(0x08, UInt32(200))
        assertRejected(d, "the guest entries end at 992, past total_size 200")
    }

    func testTruncated() throws {
        let good = try validBundle()
        assertRejected(good.prefix(0x2000), "total_size is 16384 bytes but the bundle has only 8192")
    }

    func testImagePlacement() throws {
        let good = try validBundle()
        var d = good; d.patch(entry(1, 0x10), UInt32(0x3000))
        assertRejected(d, "guest 1 ('beta'): image 0x3000..0x4388 runs past the end of the bundle (16384 bytes)")
        d = good; d.patch(entry(1, 0x10), UInt32(0x2010))
        assertRejected(d, "guest 1 ('beta'): image offset 0x2010 is not 4 KiB aligned")
        d = good; d.patch(entry(0, 0x10), UInt32(0))
        assertRejected(d, "guest 0 ('alpha'): image offset 0x0 lies inside the header or entries")
        d = good; d.patch(entry(0, 0x14), UInt32(0x1001))
        assertRejected(d, "guest 1 ('beta'): image overlaps the image of guest 0 ('alpha')")
        d = good; d.patch(entry(1, 0x10), UInt32(0x1000))
        assertRejected(d, "guest 1 ('beta'): image overlaps the image of guest 0 ('alpha')")
        d = good; d.patch(entry(0, 0x14), UInt32(0))
        assertRejected(d, "guest 0 ('alpha'): image is empty")
        d = good; d.patch(entry(0, 0x14), UInt32.max)
        assertRejected(d, "guest 0 ('alpha'): image 0x1000..0x100000fff runs past the end of the bundle (16384 bytes)")
    }

    func testNames() throws {
        let good = try validBundle()
        var d = good; d.replaceSubrange(entry(0)..<entry(0, 16), with: Array("abcdefghijklmnop".utf8))
        assertRejected(d, "guest 0: name is not NUL-terminated")
        d = good; d[entry(0, 10)] = UInt8(ascii: "x")
        assertRejected(d, "guest 0: name has bytes after its NUL")
        d = good; d[entry(0)] = UInt8(ascii: "A")
        assertRejected(d, "guest 0: name: 'Alpha' must start with a lowercase letter")
        d = good; d[entry(0)] = 0; d.replaceSubrange(entry(0)..<entry(0, 16), with: [UInt8](repeating: 0, count: 16))
        assertRejected(d, "guest 0: name: the name is empty")
        d = good; d.replaceSubrange(entry(1)..<entry(1, 16), with: Array("alpha".utf8) + [UInt8](repeating: 0, count: 11))
        assertRejected(d, "guest 1 ('alpha'): name is used by an earlier guest")
    }

    func testFields() throws {
        let good = try validBundle()
        var d = good; d.patch(entry(0, 0x18), UInt64(3 << 20))
        assertRejected(d, "guest 0 ('alpha'): memory_size 3145728 is not a multiple of 2 MiB in 2 MiB...1 GiB")
        d = good; d.patch(entry(0, 0x28), UInt32(9))
        assertRejected(d, "guest 0 ('alpha'): vcpus 9 is out of range 1...8")
        d = good; d.patch(entry(0, 0x2C), UInt32(0x11))
        assertRejected(d, "guest 0 ('alpha'): unknown flags 0x10")
        d = good; d.patch(entry(0, 0x30), UInt32(3))
        assertRejected(d, "guest 0 ('alpha'): unknown restart policy 3")
        d = good; d.patch(entry(0, 0x34), UInt32(2))
        assertRejected(d, "guest 0 ('alpha'): payload 2 is not valid (flags 0x1)")
        d = good; d.patch(entry(0, 0x2C), UInt32(9)); d.patch(entry(0, 0x34), UInt32(16))
        assertRejected(d, "guest 0 ('alpha'): payload 16 is not valid (flags 0x9)")
        d = good; d.patch(entry(0, 0x20), UInt64(0))
        assertRejected(d, "guest 0 ('alpha'): cpu_mask is empty")
        d = good; d.patch(entry(1, 0x28), UInt32(2))
        assertRejected(d, "guest 1 ('beta'): pinned with 2 vCPUs but only 1 harts")
        d = good; d.patch(entry(0, 0x70), UInt64(1))
        assertRejected(d, "guest 0 ('alpha'): reserved fields are not zero")
        d = good; d.patch(entry(0, 0x20), UInt64(0b11))
        assertRejected(d, "guest 0 ('alpha'): shares a hart with pinned guest 1 ('beta')")
        d = good; d.patch(entry(0, 0x14), UInt32(5 << 20))
        assertRejected(d, "guest 0 ('alpha'): image 0x1000..0x501000 runs past the end of the bundle (16384 bytes)")
    }
}
