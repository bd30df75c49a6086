// PageAllocator: the hypervisor's physical page allocator.
//
// Manages the span from the lowest to the highest free byte of RAM in 4 KiB
// pages, with a bitmap placed in the largest free range; pages that are not
// free at boot (firmware, hypervisor, DTB, boot bundle, holes) are marked used
// for good. First fit
// with alignment, so guest RAM can be 2 MiB aligned for megapage mappings.
// Every page handed out is accounted for: `freePages` returns to its boot value
// when everything is freed, which the restart tests assert.

public struct PageAllocator {
    public static let pageSize: UInt64 = 4096

    /// First page managed (after the bitmap).
    public private(set) var base: UInt64 = 0
    public private(set) var pageCount = 0
    public private(set) var freePages = 0
    var bitmap: UnsafeMutablePointer<UInt64>? = nil

    public init() {}

    /// Takes over every free range of `memory`.
    public init(memory: MemoryMap) {
        var low = UInt64.max, high: UInt64 = 0, largest = PhysicalRange(base: 0, size: 0)
        memory.forEachFree { r in
            low = min(low, r.base); high = max(high, r.end)
            if r.size > largest.size { largest = r }
        }
        let page = PageAllocator.pageSize
        let start = (low + page - 1) & ~(page - 1)
        guard high > start + 2 * page else { return }
        let totalPages = Int((high - start) / page)
        let words = (totalPages + 63) / 64
        let bitmapBytes = UInt64(words * 8)
        let mapAt = (largest.base + page - 1) & ~(page - 1)
        guard largest.end > mapAt + bitmapBytes + page,
              let map = UnsafeMutablePointer<UInt64>(bitPattern: UInt(mapAt)) else { return }
        map.initialize(repeating: ~0, count: words)
        bitmap = map
        base = start
        pageCount = totalPages
        freePages = 0
        let mapEnd = (mapAt + bitmapBytes + page - 1) & ~(page - 1)
        memory.forEachFree { r in
            var a = (r.base + page - 1) & ~(page - 1)
            while a + page <= r.end {
                if a < mapAt || a >= mapEnd {
                    mark(Int((a - start) / page), 1, used: false)
                    freePages += 1
                }
                a += page
            }
        }
    }

    /// Takes over [range.base, range.end): the bitmap comes out of its start.
    public init(pool range: PhysicalRange) {
        let start = (range.base + PageAllocator.pageSize - 1) & ~(PageAllocator.pageSize - 1)
        guard range.end > start + 2 * PageAllocator.pageSize else { return }
        let totalPages = Int((range.end - start) / PageAllocator.pageSize)
        let words = (totalPages + 63) / 64
        let bitmapPages = (words * 8 + Int(PageAllocator.pageSize) - 1) / Int(PageAllocator.pageSize)
        guard let map = UnsafeMutablePointer<UInt64>(bitPattern: UInt(start)) else { return }
        map.initialize(repeating: 0, count: words)
        bitmap = map
        base = start + UInt64(bitmapPages) * PageAllocator.pageSize
        pageCount = totalPages - bitmapPages
        freePages = pageCount
    }

    func isUsed(_ i: Int) -> Bool { bitmap![i / 64] & (1 << UInt64(i % 64)) != 0 }

    /// The bits of word `w` that pages `i..<end` cover, and how many pages that is.
    static func span(_ i: Int, _ end: Int) -> (word: Int, mask: UInt64, pages: Int) {
        let bit = i % 64, n = min(64 - bit, end - i)
        let ones: UInt64 = n == 64 ? ~0 : (1 << UInt64(n)) - 1
        return (i / 64, ones << UInt64(bit), n)
    }

    /// The first used page in `first..<first + count`, if any (a word at a time).
    func firstUsed(_ first: Int, _ count: Int) -> Int? {
        var i = first
        let end = first + count
        while i < end {
            let s = Self.span(i, end)
            let used = bitmap![s.word] & s.mask
            if used != 0 { return s.word * 64 + used.trailingZeroBitCount }
            i += s.pages
        }
        return nil
    }

    /// The first free page at or after `i` (pageCount if none).
    func firstFree(from start: Int) -> Int {
        var i = start
        while i < pageCount {
            let s = Self.span(i, pageCount)
            let free = ~bitmap![s.word] & s.mask
            if free != 0 { return s.word * 64 + free.trailingZeroBitCount }
            i += s.pages
        }
        return pageCount
    }

    /// Whether every page in `first..<first + count` is used.
    func allUsed(_ first: Int, _ count: Int) -> Bool {
        var i = first
        let end = first + count
        while i < end {
            let s = Self.span(i, end)
            if ~bitmap![s.word] & s.mask != 0 { return false }
            i += s.pages
        }
        return true
    }

    mutating func mark(_ first: Int, _ count: Int, used: Bool) {
        var i = first
        let end = first + count
        while i < end {
            let s = Self.span(i, end)
            if used { bitmap![s.word] |= s.mask } else { bitmap![s.word] &= ~s.mask }
            i += s.pages
        }
    }

    /// Allocates `pages` contiguous pages whose physical address is a multiple
    /// of `align` bytes (a power of two >= 4 KiB). Memory is not zeroed. First
    /// fit; the bitmap is scanned a word (64 pages) at a time.
    @inline(never)
    public mutating func allocate(pages: Int, align: UInt64 = 4096) -> UInt64? {
        guard pages > 0, pages <= freePages, bitmap != nil, align.nonzeroBitCount == 1 else { return nil }
        var i = firstFree(from: 0)
        while i + pages <= pageCount {
            let address = base + UInt64(i) * PageAllocator.pageSize
            if address & (align - 1) != 0 {
                let aligned = (address + align - 1) & ~(align - 1)
                i = Int((aligned - base) / PageAllocator.pageSize)
                continue
            }
            if let used = firstUsed(i, pages) {
                i = firstFree(from: used + 1)
                continue
            }
            mark(i, pages, used: true)
            freePages -= pages
            return address
        }
        return nil
    }

    /// Like `allocate`, but takes the highest fitting range at or above `minimum`.
    @inline(never)
    public mutating func allocateHigh(pages: Int, align: UInt64, minimum: UInt64) -> UInt64? {
        guard pages > 0, pages <= freePages, bitmap != nil, align.nonzeroBitCount == 1, pageCount >= pages else { return nil }
        var top = base + UInt64(pageCount) * PageAllocator.pageSize
        while true {
            guard top >= UInt64(pages) * PageAllocator.pageSize else { return nil }
            let address = (top - UInt64(pages) * PageAllocator.pageSize) & ~(align - 1)
            guard address >= base, address >= minimum else { return nil }
            let first = Int((address - base) / PageAllocator.pageSize)
            if firstUsed(first, pages) == nil {
                mark(first, pages, used: true)
                freePages -= pages
                return address
            }
            top = address + UInt64(pages) * PageAllocator.pageSize - align
        }
    }

    /// Returns pages obtained from `allocate`. Refuses (returns false) ranges
    /// outside the pool or pages that are not allocated, without changing anything.
    @discardableResult
    @inline(never)
    public mutating func free(_ address: UInt64, pages: Int) -> Bool {
        guard bitmap != nil, pages > 0, address >= base, address & (PageAllocator.pageSize - 1) == 0 else { return false }
        let first = Int((address - base) / PageAllocator.pageSize)
        guard first + pages <= pageCount, allUsed(first, pages) else { return false }
        mark(first, pages, used: false)
        freePages += pages
        return true
    }

    /// Allocates and zeroes pages.
    @inline(never)
    public mutating func allocateZeroed(pages: Int, align: UInt64 = 4096) -> UInt64? {
        guard let a = allocate(pages: pages, align: align) else { return nil }
        zeroPhysical(a, bytes: UInt64(pages) * PageAllocator.pageSize)
        return a
    }
}

/// Zeroes physical memory (identity-mapped), 8 bytes at a time.
public func zeroPhysical(_ address: UInt64, bytes: UInt64) {
    guard let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)) else { return }
    p.update(repeating: 0, count: Int(bytes / 8))
}

/// Copies bytes between identity-mapped physical addresses.
public func copyPhysical(to dst: UInt64, from src: UInt64, bytes: UInt64) {
    guard let d = UnsafeMutableRawPointer(bitPattern: UInt(dst)),
          let s = UnsafeRawPointer(bitPattern: UInt(src)) else { return }
    d.copyMemory(from: s, byteCount: Int(bytes))
}
