// PageAllocatorTests: the page pool hands out, aligns and takes back pages exactly.

import XCTest
import TestSupport
@testable import RumkvCore

final class PageAllocatorTests: XCTestCase {
    /// A page-aligned host buffer standing in for physical memory.
    final class Arena {
        let base: UInt64
        let size: UInt64
        let raw: UnsafeMutableRawPointer
        init(megabytes: Int) {
            size = UInt64(megabytes) << 20
            raw = UnsafeMutableRawPointer.allocate(byteCount: Int(size), alignment: 2 << 20)
            base = UInt64(UInt(bitPattern: raw))
        }
        deinit { raw.deallocate() }
    }

    func testAllocateFreeAndAccounting() {
        let a = Arena(megabytes: 16)
        var p = PageAllocator(pool: PhysicalRange(base: a.base, size: a.size))
        let start = p.freePages
        XCTAssertGreaterThan(start, 4000)
        let x = p.allocate(pages: 3)!
        let y = p.allocate(pages: 1)!
        XCTAssertNotEqual(x, y)
        XCTAssertEqual(p.freePages, start - 4)
        XCTAssertTrue(p.free(x, pages: 3))
        XCTAssertFalse(p.free(x, pages: 3), "double free is refused")
        XCTAssertFalse(p.free(y + 4096, pages: 1), "freeing a page never allocated is refused")
        XCTAssertFalse(p.free(a.base + a.size + 4096, pages: 1), "outside the pool is refused")
        XCTAssertFalse(p.free(y + 1, pages: 1), "unaligned is refused")
        XCTAssertTrue(p.free(y, pages: 1))
        XCTAssertEqual(p.freePages, start)
    }

    func testAlignmentAndExhaustion() {
        let a = Arena(megabytes: 16)
        var p = PageAllocator(pool: PhysicalRange(base: a.base, size: a.size))
        _ = p.allocate(pages: 1)
        let big = p.allocate(pages: 512, align: 2 << 20)!
        XCTAssertEqual(big % (2 << 20), 0, "2 MiB aligned for megapage mappings")
        let root = p.allocate(pages: 4, align: 16 << 10)!
        XCTAssertEqual(root % (16 << 10), 0)
        XCTAssertNil(p.allocate(pages: p.freePages + 1), "more than is free")
        XCTAssertNil(p.allocate(pages: 0))
        XCTAssertNil(p.allocate(pages: 1, align: 3000), "alignment must be a power of two")
        var all: [UInt64] = []
        while let page = p.allocate(pages: 1) { all.append(page) }
        XCTAssertEqual(p.freePages, 0)
        XCTAssertEqual(Set(all).count, all.count, "no page handed out twice")
        for page in all { XCTAssertTrue(p.free(page, pages: 1)) }
    }

    func testZeroedAllocation() {
        let a = Arena(megabytes: 4)
        memset(a.raw, 0xAB, Int(a.size))
        var p = PageAllocator(pool: PhysicalRange(base: a.base, size: a.size))
        let z = p.allocateZeroed(pages: 2)!
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(z)), count: 8192)
        XCTAssertTrue(bytes.allSatisfy { $0 == 0 })
    }

    /// The pool built from a memory map spans holes and never hands out reserved pages.
    func testPoolFromMemoryMapSkipsReserved() {
        let a = Arena(megabytes: 16)
        var map = MemoryMap()
        map.addRAM(PhysicalRange(base: a.base, size: a.size))
        let hole = PhysicalRange(base: a.base + (6 << 20), size: 1 << 20)
        map.reserve(hole, .bootModule)
        map.reserve(PhysicalRange(base: a.base, size: 1 << 20), .hypervisor)
        var p = PageAllocator(memory: map)
        var pages: [UInt64] = []
        while let page = p.allocate(pages: 1) { pages.append(page) }
        XCTAssertFalse(pages.isEmpty)
        for page in pages {
            XCTAssertFalse(page >= hole.base && page < hole.end, "page in the reserved hole")
            XCTAssertGreaterThanOrEqual(page, a.base + (1 << 20), "page in the hypervisor range")
            XCTAssertLessThan(page, a.base + a.size)
        }
        // 16 MiB minus 2 MiB reserved minus the bitmap page(s).
        XCTAssertGreaterThan(pages.count, 3500)
        XCTAssertLessThanOrEqual(pages.count, 3584)
    }

    /// The word-at-a-time bitmap agrees with a page-by-page model over thousands of
    /// random allocations (sizes 1...700 pages, 4 KiB to 2 MiB alignment, both ends) and frees.
    func testAgreesWithAPageByPageModel() {
        let a = Arena(megabytes: 16)
        var p = PageAllocator(pool: PhysicalRange(base: a.base, size: a.size))
        let base = p.base, count = p.pageCount
        var used = [Bool](repeating: false, count: count)
        func modelFirstFit(_ n: Int, _ align: UInt64) -> Int? {
            var i = 0
            while i + n <= count {
                let address = base + UInt64(i) * 4096
                if address % align != 0 { i = Int(((address + align - 1) / align * align - base) / 4096); continue }
                if let u = (i..<i + n).first(where: { used[$0] }) { i = u + 1; continue }
                return i
            }
            return nil
        }
        let seed: UInt64 = 0x5041_4745_0000_0001   // seeded: a failure replays
        var rng = SplitMix64(seed: seed)
        var live: [(UInt64, Int)] = []
        for step in 0..<4000 {
            if live.isEmpty || Int.random(in: 0..<5, using: &rng) < 3 {
                let n = Int.random(in: 1...(step % 7 == 0 ? 700 : 40), using: &rng)
                let align = UInt64(4096) << UInt64(Int.random(in: 0...9, using: &rng))
                if Bool.random(using: &rng) {
                    let expect = modelFirstFit(n, align)
                    let got = p.allocate(pages: n, align: align)
                    XCTAssertEqual(got.map { Int(($0 - base) / 4096) }, expect, "step \(step) \(SplitMix64.describe(seed)): \(n) pages aligned \(align)")
                    if let got { live.append((got, n)); for k in 0..<n { used[Int((got - base) / 4096) + k] = true } }
                } else if let got = p.allocateHigh(pages: n, align: align, minimum: base) {
                    let first = Int((got - base) / 4096)
                    XCTAssertFalse(used[first..<first + n].contains(true), "step \(step) \(SplitMix64.describe(seed)): high range overlaps")
                    XCTAssertEqual(got % align, 0)
                    live.append((got, n)); for k in 0..<n { used[first + k] = true }
                }
            } else {
                let (addr, n) = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                let after = Int((addr - base) / 4096) + n
                if after >= count || !used[after] {
                    XCTAssertFalse(p.free(addr + 4096, pages: n), "a range reaching a free page is refused")
                }
                XCTAssertTrue(p.free(addr, pages: n))
                for k in 0..<n { used[Int((addr - base) / 4096) + k] = false }
            }
            XCTAssertEqual(p.freePages, used.filter { !$0 }.count, "step \(step) \(SplitMix64.describe(seed))")
        }
    }
}
