// BundleViewTests: the hypervisor re-validates the boot bundle it is handed.

import XCTest
import RumABI
@testable import RumkvCore

final class BundleViewTests: XCTestCase {
    /// A bundle with `count` guests of 4 KiB images each.
    func make(count: Int = 2, edit: (inout [BundleGuest]) -> Void = { _ in }) -> [UInt8] {
        let entriesEnd = 32 + 120 * count
        let first = (entriesEnd + 4095) & ~4095
        var guests: [BundleGuest] = []
        for i in 0..<count {
            var g = BundleGuest()
            withUnsafeMutableBytes(of: &g.name) { n in for (k, b) in "g\(i)".utf8.enumerated() { n[k] = b } }
            g.image_offset = UInt32(first + i * 4096)
            g.image_size = 4096
            g.memory_size = 2 << 20
            g.cpu_mask = 1
            g.vcpus = 1
            g.ram_base = RUM_GUEST_RAM_GPA
            g.entry = RUM_GUEST_RAM_GPA
            guests.append(g)
        }
        edit(&guests)
        var h = BundleHeader()
        h.magic = RUM_BUNDLE_MAGIC
        h.revision = UInt16(RUM_ABI_REVISION)
        h.header_size = 32
        h.total_size = UInt32(first + count * 4096)
        h.guest_count = UInt32(count)
        h.guest_entry_size = 120
        var bytes = withUnsafeBytes(of: h) { Array($0) }
        for g in guests { bytes += withUnsafeBytes(of: g) { Array($0) } }
        bytes += [UInt8](repeating: 0, count: Int(h.total_size) - bytes.count)
        return bytes
    }

    /// The bundle view of `bytes` (kept alive by the caller), or the error.
    func view(_ bytes: [UInt8], size: Int? = nil) -> Result<BundleView, BundleError> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(BundleError) in
                try BundleView(base: UInt64(UInt(bitPattern: raw.baseAddress!)), size: UInt64(size ?? raw.count), maxVCPUs: 8)
            }
        }
    }

    func expect(_ bytes: [UInt8], size: Int? = nil, _ error: BundleError, line: UInt = #line) {
        switch view(bytes, size: size) {
        case .success: XCTFail("accepted", line: line)
        case .failure(let e): XCTAssertEqual(e, error, line: line)
        }
    }

    func testValidBundle() throws {
        let bytes = make()
        let count = bytes.withUnsafeBytes { raw in
            (try? BundleView(base: UInt64(UInt(bitPattern: raw.baseAddress!)), size: UInt64(raw.count), maxVCPUs: 8))
                .map { ($0.guestCount, $0.guest(1).image_size) }
        }
        XCTAssertEqual(count?.0, 2)
        XCTAssertEqual(count?.1, 4096)
    }

    func testCorruptBundlesAreRefused() {
        var b = make(); b[0] ^= 1
        expect(b, .badMagic)
        b = make(); b[4] = 9
        expect(b, .badRevision)
        expect(make(), size: 100, .badTotalSize)
        expect(Array(make().prefix(16)), .tooSmall)
        b = make(); b[0x0C] = 9
        expect(b, .tooManyGuests)
        expect(make { $0[0].image_offset = 0x10_0000 }, .imageOutOfBounds)
        expect(make { $0[0].image_offset = 16 }, .imageOutOfBounds)
        expect(make { $0[1].image_size = 0 }, .imageOutOfBounds)
        expect(make { $0[0].memory_size = 3 << 20 }, .badMemorySize)
        expect(make { $0[0].vcpus = 0 }, .badVCPUs)
        expect(make { $0[0].vcpus = 99 }, .badVCPUs)
        expect(make(count: 3) { g in for i in 0..<3 { g[i].vcpus = 6 } }, .badVCPUs)   // 18 > 16 slots
        expect(make { g in withUnsafeMutableBytes(of: &g[0].name) { $0[0] = 0x41 } }, .badName)
        expect(make { g in withUnsafeMutableBytes(of: &g[0].name) { n in for i in 0..<16 { n[i] = 0x61 } } }, .badName)
        expect(make { $0[0].store_offset = 0x10_0000; $0[0].store_size = 10 }, .imageOutOfBounds)
    }
}
