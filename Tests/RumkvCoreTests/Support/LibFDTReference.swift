// LibFDTReference: what libfdt says a tree contains, in plain Swift values.
//
// libfdt (dtc's reference library) is the oracle the DeviceTree reader is
// compared with. Nodes are walked with fdt_next_node until the root closes,
// properties with fdt_first/next_property_offset and fdt_getprop_by_offset.
// Only call the walkers on a tree that passed fdt_check_full.

import CLibFDT

struct RefProperty: Equatable {
    let name: String
    let value: [UInt8]
}

struct RefNode {
    /// Offset of the FDT_BEGIN_NODE token inside the struct block.
    let offset: Int32
    let depth: Int
    let nameBytes: [UInt8]
    let properties: [RefProperty]
    /// Offset of the parent node (-1 for the root).
    let parent: Int32

    var name: String { String(decoding: nameBytes, as: UTF8.self) }

    func property(_ name: String) -> RefProperty? { properties.first { $0.name == name } }

    /// Name up to '@', as `DeviceTree.nameIs` compares it.
    var baseName: Substring { name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0] }
}

enum LibFDTReference {
    static func checkHeader(_ b: Blob) -> Int32 { fdt_check_header(b.pointer) }
    static func checkFull(_ b: Blob) -> Int32 { fdt_check_full(b.pointer, b.count) }

    /// Every node in document order, stopping when the root closes.
    static func nodes(_ b: Blob) -> [RefNode] {
        let fdt = UnsafeRawPointer(b.pointer)
        var result: [RefNode] = []
        var stack: [Int32] = []
        var depth: Int32 = -1
        var off = fdt_next_node(fdt, -1, &depth)
        while off >= 0 && depth >= 0 {
            stack.removeSubrange(min(Int(depth), stack.count)...)
            var len: Int32 = 0
            let namePtr = fdt_get_name(fdt, off, &len)
            let name = namePtr.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(max(len, 0)))) } ?? []
            result.append(RefNode(offset: off, depth: Int(depth), nameBytes: name,
                                  properties: properties(b, off), parent: stack.last ?? -1))
            stack.append(off)
            off = fdt_next_node(fdt, off, &depth)
        }
        return result
    }

    static func properties(_ b: Blob, _ node: Int32) -> [RefProperty] {
        let fdt = UnsafeRawPointer(b.pointer)
        var result: [RefProperty] = []
        var p = fdt_first_property_offset(fdt, node)
        while p >= 0 {
            var namePtr: UnsafePointer<CChar>? = nil
            var len: Int32 = 0
            if let value = fdt_getprop_by_offset(fdt, p, &namePtr, &len), let namePtr {
                result.append(RefProperty(name: String(cString: namePtr),
                                          value: Array(UnsafeRawBufferPointer(start: value, count: Int(len)))))
            }
            p = fdt_next_property_offset(fdt, p)
        }
        return result
    }

    /// The memory-reservation block (fdt_num_mem_rsv / fdt_get_mem_rsv).
    static func memoryReservations(_ b: Blob) -> [PhysicalRangeValue] {
        let n = fdt_num_mem_rsv(b.pointer)
        guard n > 0 else { return [] }
        return (0..<n).map { i in
            var address: UInt64 = 0, size: UInt64 = 0
            _ = fdt_get_mem_rsv(b.pointer, i, &address, &size)
            return PhysicalRangeValue(base: address, size: size)
        }
    }

    static func addressCells(_ b: Blob, _ node: Int32) -> Int32 { fdt_address_cells(b.pointer, node) }
    static func sizeCells(_ b: Blob, _ node: Int32) -> Int32 { fdt_size_cells(b.pointer, node) }
}

/// A physical range as a plain value, for comparisons and messages.
struct PhysicalRangeValue: Equatable, CustomStringConvertible {
    let base: UInt64
    let size: UInt64
    var description: String { "0x\(String(base, radix: 16))+0x\(String(size, radix: 16))" }
}

extension RefProperty {
    /// Big-endian cell `i`.
    func cell(_ i: Int) -> UInt64 {
        value[(i * 4)..<(i * 4 + 4)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// NUL-separated entries (a trailing unterminated entry counts).
    var strings: [String] {
        value.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }
}
