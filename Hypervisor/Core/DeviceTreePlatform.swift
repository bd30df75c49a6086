// DeviceTreePlatform: fills a `Platform` from a flattened device tree.
//
// Used by the ports whose firmware passes a DTB (riscv64 and aarch64). Reads
// /memory nodes, /cpus/cpu nodes (skipping status = "disabled"), the
// memory-reservation block and /reserved-memory children. Node lookups are by
// node name up to '@' plus device_type, as the Devicetree Specification 3.4
// and 3.7 describe; nothing is assumed about QEMU's layout.

public enum DeviceTreePlatform {
    /// Adds RAM, reservations and CPUs found in `dt` to `platform`.
    public static func discover(_ dt: DeviceTree, into platform: inout Platform) throws(DTBError) {
        var inReservedMemory = false
        var inCPUs = false
        try dt.walk { node in
            if node.depth == 1 {
                inReservedMemory = dt.nameIs(node, "reserved-memory")
                inCPUs = dt.nameIs(node, "cpus")
                let isMemory = dt.property(node, "device_type")?.containsString("memory") ?? false
                if isMemory { addRanges(dt, node) { platform.memory.addRAM($0) } }
            } else if node.depth == 2 && inReservedMemory {
                addRanges(dt, node) { platform.memory.reserve($0, .firmware) }
            } else if node.depth == 2 && inCPUs {
                let isCPU = dt.property(node, "device_type")?.containsString("cpu") ?? false
                let disabled = dt.property(node, "status")?.hasPrefix("disabled") ?? false
                if isCPU && !disabled, let id = dt.property(node, "reg")?.number(at: 0, cells: node.addressCells) {
                    platform.addCPU(id)
                }
            }
            return true
        }
        dt.forEachReservation { base, size in
            platform.memory.reserve(PhysicalRange(base: base, size: size), .other)
        }
    }

    /// Decodes each (address, size) pair of the node's `reg`.
    static func addRanges(_ dt: DeviceTree, _ node: DTNode, _ add: (PhysicalRange) -> Void) {
        guard let reg = dt.property(node, "reg") else { return }
        let a = Int(node.addressCells), s = Int(node.sizeCells)
        guard a >= 1, a <= 2, s >= 1, s <= 2 else { return }
        var i = 0
        while (i + a + s) * 4 <= reg.length {
            if let base = reg.number(at: i, cells: UInt32(a)), let size = reg.number(at: i + a, cells: UInt32(s)) {
                add(PhysicalRange(base: base, size: size))
            }
            i += a + s
        }
    }

    /// First node compatible with `compatible` that has a `reg`: its base address.
    public static func findDevice(_ dt: DeviceTree, compatible: StaticString) -> UInt64? {
        var found: UInt64? = nil
        _ = try? dt.walk { node in
            guard dt.property(node, "compatible")?.containsString(compatible) ?? false,
                  let reg = dt.property(node, "reg"),
                  let base = reg.number(at: 0, cells: node.addressCells) else { return true }
            found = base
            return false
        }
        return found
    }

    /// The property `prop` of the first node whose name (before '@') is `name`
    /// and that sits at `depth`.
    public static func findProperty(_ dt: DeviceTree, node name: StaticString, depth: Int,
                                    _ prop: StaticString) -> DTProperty? {
        var found: DTProperty? = nil
        _ = try? dt.walk { node in
            guard node.depth == depth, dt.nameIs(node, name), let p = dt.property(node, prop) else { return true }
            found = p
            return false
        }
        return found
    }
}
