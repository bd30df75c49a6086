// HostileTree: runs every DeviceTree entry point on an untrusted blob.
//
// Used by the corruption tests: validation either throws, or the walk,
// property lookups, decoders and discovery run to completion while every view
// they return stays inside the blob and every discovered range is spelled
// somewhere in it. Crashes (debug builds bounds-check raw buffers) fail the run.

import XCTest
import RumkvCore

enum HostileOutcome: Equatable {
    case rejected(DTBError)
    case malformed
    case walked(nodes: Int)
}

enum HostileTree {
    static let probes: [StaticString] = ["reg", "compatible", "device_type", "status", "#address-cells", "#size-cells"]

    @discardableResult
    /// `context` names the case in failure messages (tree, field, seed).
    static func exercise(_ blob: Blob, context: String = "", file: StaticString = #filePath, line: UInt = #line) -> HostileOutcome {
        withExtendedLifetime(blob) { run(blob, context: context, file: file, line: line) }
    }

    private static func run(_ blob: Blob, context: String, file: StaticString, line: UInt) -> HostileOutcome {
        let dt: DeviceTree
        do {
            dt = try DeviceTree(validating: blob.raw)
        } catch {
            return .rejected(error)
        }
        let nodes = OurTree.nodes(dt, blob, context: context, file: file, line: line)
        // Partial walks still hand nodes to callers: probe whatever the walk reaches.
        _ = try? dt.walk { node in
            for name in probes {
                guard let p = dt.property(node, name) else { continue }
                OurTree.checked(p, blob, context: context, file: file, line: line)
                _ = p.cell(0); _ = p.cell(p.length / 4); _ = p.number(at: 0, cells: node.addressCells)
                _ = p.containsString("memory"); _ = p.hasPrefix("disabled")
            }
            _ = dt.nameIs(node, "cpus")
            return true
        }
        dt.forEachReservation { _, _ in }
        var platform = Platform()
        let discovered = (try? DeviceTreePlatform.discover(dt, into: &platform)) != nil
        _ = platform.memory.totalRAM
        _ = platform.memory.totalFree
        platform.memory.forEachFree { _ in }
        _ = DeviceTreePlatform.findDevice(dt, compatible: "ns16550a")
        if let p = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "stdout-path") {
            OurTree.checked(p, blob, context: context, file: file, line: line)
        }
        if discovered { checkRangesComeFromBlob(platform, blob, context: context, file: file, line: line) }
        guard let nodes else { return .malformed }
        return .walked(nodes: nodes.count)
    }

    /// RAM and /reserved-memory ranges appear as cells in the struct block;
    /// reservation-block ranges appear as 16-byte records after off_mem_rsvmap.
    static func checkRangesComeFromBlob(_ p: Platform, _ blob: Blob, context: String, file: StaticString, line: UInt) {
        let structBytes = Array(blob.raw[blob.structStart..<blob.structEnd])
        func inStruct(_ v: UInt64) -> Bool {
            structBytes.firstRange(of: FDTWriter.be(UInt32(truncatingIfNeeded: v))) != nil
        }
        let rsvStart = Int(blob.be32(FDTHeader.offRsvmap))
        func inReservationBlock(_ r: PhysicalRange) -> Bool {
            let record = FDTWriter.be64(r.base) + FDTWriter.be64(r.size)
            var off = rsvStart
            while off + 16 <= blob.count {
                if Array(blob.raw[off..<(off + 16)]) == record { return true }
                off += 16
            }
            return false
        }
        let m = p.memory
        for i in 0..<m.ramCount where !(inStruct(m.ramRange(i).base) && inStruct(m.ramRange(i).size)) {
            XCTFail("RAM \(PhysicalRangeValue(m.ramRange(i))) not in the struct block \(context)", file: file, line: line)
        }
        for i in 0..<m.reservedCount {
            let (r, kind) = m.reservedRange(i)
            let ok = kind == .other ? inReservationBlock(r) : inStruct(r.base) && inStruct(r.size)
            if !ok { XCTFail("reservation \(PhysicalRangeValue(r)) not in the blob \(context)", file: file, line: line) }
        }
        for i in 0..<min(p.cpuCount, Platform.cpuIDCapacity) where !inStruct(p.cpuIDs[i]) {
            XCTFail("cpu id \(p.cpuIDs[i]) not in the struct block \(context)", file: file, line: line)
        }
    }
}
