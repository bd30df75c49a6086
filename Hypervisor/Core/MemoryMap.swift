// MemoryMap: the machine's RAM, what is reserved in it, and what is free.
//
// Filled once at boot from the firmware's description (device tree or
// multiboot), then queried by the `mem` command and, later, by the guest
// memory allocator. Fixed capacity, no heap: an entry that does not fit is
// refused (and counted) rather than dropped silently. Free memory is RAM minus
// every reserved range, computed on demand.

/// A half-open physical range [base, base + size).
public struct PhysicalRange: Equatable {
    public var base: UInt64
    public var size: UInt64
    public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
    /// End of the range, saturating at the top of the address space.
    public var end: UInt64 { size > UInt64.max - base ? UInt64.max : base + size }
}

/// Why a range is reserved.
public enum ReservedKind: UInt8 {
    case firmware       // M-mode firmware, EL3 monitor, BIOS areas
    case hypervisor     // the Rumkv image, its stacks and bss
    case deviceTree     // the DTB the firmware handed over
    case bootModule     // initrd / multiboot module (guest bundle)
    case other          // anything else the firmware marked reserved

    public var label: StaticString {
        switch self {
        case .firmware: "firmware"
        case .hypervisor: "hypervisor"
        case .deviceTree: "device tree"
        case .bootModule: "boot module"
        case .other: "reserved"
        }
    }
}

public struct MemoryMap {
    public static let capacity = 16

    var ram: InlineArray<16, PhysicalRange> = .init(repeating: PhysicalRange(base: 0, size: 0))
    var reserved: InlineArray<16, PhysicalRange> = .init(repeating: PhysicalRange(base: 0, size: 0))
    var reservedKinds: InlineArray<16, ReservedKind> = .init(repeating: .other)
    public private(set) var ramCount = 0
    public private(set) var reservedCount = 0
    /// Entries refused because the table was full, the range was empty/wrapped
    /// or (RAM only) it overlapped RAM already recorded.
    public private(set) var dropped = 0

    public init() {}

    /// Adds a RAM range. Empty or wrapping ranges are refused, and so are ranges
    /// overlapping recorded RAM: RAM stays disjoint, so free ranges never repeat
    /// and the totals cannot overflow whatever the firmware claims.
    @discardableResult
    public mutating func addRAM(_ r: PhysicalRange) -> Bool {
        guard r.size > 0, r.size <= UInt64.max - r.base, ramCount < MemoryMap.capacity, !overlapsRAM(r) else {
            dropped += 1; return false
        }
        ram[ramCount] = r
        ramCount += 1
        return true
    }

    func overlapsRAM(_ r: PhysicalRange) -> Bool {
        for i in 0..<ramCount where r.base < ram[i].end && ram[i].base < r.end { return true }
        return false
    }

    /// Marks a range reserved. Ranges may overlap each other and need not lie in RAM.
    @discardableResult
    public mutating func reserve(_ r: PhysicalRange, _ kind: ReservedKind) -> Bool {
        guard r.size > 0, reservedCount < MemoryMap.capacity else { dropped += 1; return false }
        reserved[reservedCount] = r
        reservedKinds[reservedCount] = kind
        reservedCount += 1
        return true
    }

    public func ramRange(_ i: Int) -> PhysicalRange { ram[i] }
    public func reservedRange(_ i: Int) -> (PhysicalRange, ReservedKind) { (reserved[i], reservedKinds[i]) }

    public var totalRAM: UInt64 {
        var t: UInt64 = 0
        for i in 0..<ramCount { t += ram[i].size }
        return t
    }

    public var totalFree: UInt64 {
        var t: UInt64 = 0
        forEachFree { t += $0.size }
        return t
    }

    /// Calls `body` for each maximal free range, in ascending order within each RAM range.
    public func forEachFree(_ body: (PhysicalRange) -> Void) {
        for i in 0..<ramCount {
            var cursor = ram[i].base
            let end = ram[i].end
            while cursor < end {
                // The lowest reserved range that covers or follows the cursor.
                var nextStart = end
                var coveredUntil = cursor
                for j in 0..<reservedCount {
                    let r = reserved[j]
                    if r.base <= cursor && r.end > cursor {
                        coveredUntil = max(coveredUntil, r.end)
                    } else if r.base > cursor && r.base < nextStart {
                        nextStart = r.base
                    }
                }
                if coveredUntil > cursor {
                    cursor = min(coveredUntil, end)
                    continue
                }
                body(PhysicalRange(base: cursor, size: nextStart - cursor))
                cursor = nextStart
            }
        }
    }
}
