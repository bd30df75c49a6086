// DiscoveryOracle: what DeviceTreePlatform.discover should find, per libfdt.
//
// RAM is every depth-1 node whose device_type lists "memory"; CPUs are the
// /cpus children whose device_type lists "cpu" and whose status is not
// "disabled"; reservations are the /reserved-memory children and the memory
// reservation block. `reg` is decoded with fdt_address_cells/fdt_size_cells
// of the parent. The expected values go through a fresh `Platform` so table
// capacity and refusals apply the same way to both sides.

import RumkvCore

/// The parts of a `Platform` that discovery fills, as comparable values.
struct Discovered: Equatable, CustomStringConvertible {
    var ram: [PhysicalRangeValue] = []
    var reserved: [PhysicalRangeValue] = []
    var reservedKinds: [ReservedKind] = []
    var cpuIDs: [UInt64] = []
    var cpuCount = 0
    var dropped = 0

    init(_ p: Platform) {
        let m = p.memory
        ram = (0..<m.ramCount).map { PhysicalRangeValue(m.ramRange($0)) }
        for i in 0..<m.reservedCount {
            let (r, k) = m.reservedRange(i)
            reserved.append(PhysicalRangeValue(r)); reservedKinds.append(k)
        }
        cpuCount = p.cpuCount
        cpuIDs = (0..<min(p.cpuCount, Platform.cpuIDCapacity)).map { p.cpuIDs[$0] }
        dropped = m.dropped
    }

    var description: String {
        "ram \(ram) reserved \(reserved) kinds \(reservedKinds) cpus \(cpuIDs) (\(cpuCount)) dropped \(dropped)"
    }
}

extension PhysicalRangeValue {
    init(_ r: PhysicalRange) { self.init(base: r.base, size: r.size) }
}

enum DiscoveryOracle {
    /// Expected discovery for a tree that passed fdt_check_full; nil when libfdt
    /// and the Devicetree spec leave the answer open (malformed or duplicated
    /// #address-cells/#size-cells).
    static func expected(_ blob: Blob) -> Discovered? {
        let nodes = LibFDTReference.nodes(blob)
        var byOffset: [Int32: RefNode] = [:]
        for n in nodes { byOffset[n.offset] = n }
        var p = Platform()
        for n in nodes where n.depth == 1 || n.depth == 2 {
            guard let parent = byOffset[n.parent],
                  n.depth == 1 || parent.baseName == "reserved-memory" || parent.baseName == "cpus" else { continue }
            guard let cells = cells(blob, parent) else { return nil }
            if n.depth == 1 {
                if n.property("device_type").map({ lists($0, "memory") }) ?? false {
                    for r in ranges(n.property("reg"), cells) { p.memory.addRAM(r) }
                }
            } else if parent.baseName == "reserved-memory" {
                for r in ranges(n.property("reg"), cells) { p.memory.reserve(r, .firmware) }
            } else if parent.baseName == "cpus" {
                let isCPU = n.property("device_type").map { lists($0, "cpu") } ?? false
                let disabled = n.property("status")?.value.starts(with: "disabled".utf8) ?? false
                if isCPU && !disabled, let reg = n.property("reg"), let id = number(reg, at: 0, cells.address) {
                    p.addCPU(id)
                }
            }
        }
        for r in LibFDTReference.memoryReservations(blob) {
            p.memory.reserve(PhysicalRange(base: r.base, size: r.size), .other)
        }
        return Discovered(p)
    }

    /// The parent's cell counts, or nil if libfdt calls them malformed or they are duplicated.
    static func cells(_ blob: Blob, _ parent: RefNode) -> (address: Int, size: Int)? {
        for name in ["#address-cells", "#size-cells"] where parent.properties.filter({ $0.name == name }).count > 1 {
            return nil
        }
        let a = LibFDTReference.addressCells(blob, parent.offset)
        let s = LibFDTReference.sizeCells(blob, parent.offset)
        guard a >= 0, s >= 0 else { return nil }
        return (Int(a), Int(s))
    }

    static func lists(_ p: RefProperty, _ s: String) -> Bool {
        p.value.split(separator: 0, omittingEmptySubsequences: false).contains { Array($0) == Array(s.utf8) }
    }

    static func number(_ p: RefProperty, at i: Int, _ cells: Int) -> UInt64? {
        guard cells == 1 || cells == 2, (i + cells) * 4 <= p.value.count else { return nil }
        return cells == 1 ? p.cell(i) : p.cell(i) << 32 | p.cell(i + 1)
    }

    /// Every complete (address, size) pair of a reg value; none unless both counts are 1 or 2.
    static func ranges(_ reg: RefProperty?, _ cells: (address: Int, size: Int)) -> [PhysicalRange] {
        guard let reg, (1...2).contains(cells.address), (1...2).contains(cells.size) else { return [] }
        var result: [PhysicalRange] = []
        var i = 0
        while (i + cells.address + cells.size) * 4 <= reg.value.count {
            result.append(PhysicalRange(base: number(reg, at: i, cells.address)!,
                                        size: number(reg, at: i + cells.address, cells.size)!))
            i += cells.address + cells.size
        }
        return result
    }
}
