// PageAllocatorTests: the page pool hands out, aligns and takes back pages exactly.

import XCTest
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
}
