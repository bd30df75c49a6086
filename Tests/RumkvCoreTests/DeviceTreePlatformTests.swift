// DeviceTreePlatformTests: discovery finds the RAM, CPUs and reservations libfdt sees.
//
// On QEMU's own trees and on copies edited the way firmware edits them
// (/reserved-memory children, memory-reservation entries, a disabled CPU,
// 32-bit and 64-bit cell counts), `DeviceTreePlatform.discover` must match
// the libfdt oracle and the hand-computed free memory.

import XCTest
import RumkvCore

final class DeviceTreePlatformTests: XCTestCase {
    static let expectedMachines: [String: (ram: PhysicalRangeValue, cpus: [UInt64])] = [
        "riscv64 smp2 256M": (PhysicalRangeValue(base: 0x8000_0000, size: 256 << 20), [0, 1]),
        "riscv64 smp4 1G": (PhysicalRangeValue(base: 0x8000_0000, size: 1 << 30), [0, 1, 2, 3]),
        "aarch64 smp2 512M": (PhysicalRangeValue(base: 0x4000_0000, size: 512 << 20), [0, 1]),
    ]

    func testQEMUTreesMatchLibFDTAndTheCommandLine() throws {
        for t in try QEMUTrees.all() {
            let p = try t.blob.discover()
            XCTAssertEqual(Discovered(p), DiscoveryOracle.expected(t.blob), t.label)
            let machine = try XCTUnwrap(Self.expectedMachines[t.label])
            XCTAssertEqual(Discovered(p).ram, [machine.ram], t.label)
            XCTAssertEqual(Discovered(p).cpuIDs, machine.cpus, t.label)
            XCTAssertEqual(p.memory.totalFree, machine.ram.size - p.memory.reservedBytesInRAM, t.label)
        }
    }

    /// Reservations as OpenSBI/TF-A add them, overlapping and outside RAM.
    func testFirmwareReservations() throws {
        for t in try QEMUTrees.all() {
            let ram = try XCTUnwrap(Self.expectedMachines[t.label]).ram
            let b = ram.base
            let e = try TreeEdit(t.packed)
            try e.addReservation(b, 0x8_0000)
            try e.addReservation(0x1000, 0x1000)                 // below RAM
            try e.addNode("/", "reserved-memory")
            try e.set("/reserved-memory", "#address-cells", cells: [2])
            try e.set("/reserved-memory", "#size-cells", cells: [2])
            try e.set("/reserved-memory", "ranges", bytes: [])
            for (name, reg) in [("mmode_resv0", [b, 0x4_0000]), ("mmode_resv1", [b + 0x4_0000, 0x2_0000]),
                                ("split", [b + 0x10_0000, 0x1000, b + 0x20_0000, 0x2000])] {
                try e.addNode("/reserved-memory", "\(name)@\(String(reg[0], radix: 16))")
                try e.set("/reserved-memory/\(name)@\(String(reg[0], radix: 16))", "reg",
                          cells: reg.flatMap { [UInt32($0 >> 32), UInt32(truncatingIfNeeded: $0)] })
            }
            try e.addNode("/reserved-memory", "dynamic-pool")    // no reg: nothing to reserve
            try e.set("/reserved-memory/dynamic-pool", "size", cells: [0, 0x10_0000])
            let blob = try e.finish()

            let p = try blob.discover()
            let found = Discovered(p)
            XCTAssertEqual(found, DiscoveryOracle.expected(blob), t.label)
            XCTAssertEqual(Set(found.reserved.map(\.description)), Set([
                PhysicalRangeValue(base: b, size: 0x4_0000), PhysicalRangeValue(base: b + 0x4_0000, size: 0x2_0000),
                PhysicalRangeValue(base: b + 0x10_0000, size: 0x1000), PhysicalRangeValue(base: b + 0x20_0000, size: 0x2000),
                PhysicalRangeValue(base: b, size: 0x8_0000), PhysicalRangeValue(base: 0x1000, size: 0x1000),
            ].map(\.description)), t.label)
            XCTAssertEqual(found.reservedKinds.filter { $0 == .firmware }.count, 4, t.label)
            XCTAssertEqual(Array(found.reservedKinds.suffix(2)), [.other, .other], "reservation block comes last")
            XCTAssertEqual(p.memory.totalFree, ram.size - 0x8_0000 - 0x1000 - 0x2000, t.label)
            XCTAssertEqual(p.memory.freeRanges, [
                PhysicalRangeValue(base: b + 0x8_0000, size: 0x8_0000),
                PhysicalRangeValue(base: b + 0x10_1000, size: 0xF_F000),
                PhysicalRangeValue(base: b + 0x20_2000, size: ram.size - 0x20_2000),
            ], t.label)
        }
    }

    /// One-cell reserved-memory children, a disabled CPU, 64-bit CPU ids.
    func testCellCountsAndDisabledCPU() throws {
        for t in try QEMUTrees.all() {
            let machine = try XCTUnwrap(Self.expectedMachines[t.label])
            let b = machine.ram.base
            let e = try TreeEdit(t.packed)
            try e.addNode("/", "reserved-memory")
            try e.set("/reserved-memory", "#address-cells", cells: [1])
            try e.set("/reserved-memory", "#size-cells", cells: [1])
            try e.addNode("/reserved-memory", "small@\(String(b, radix: 16))")
            try e.set("/reserved-memory/small@\(String(b, radix: 16))", "reg", cells: [UInt32(b), 0x2000, 0xFFFF])
            try e.set("/cpus", "#address-cells", cells: [2])
            for (i, _) in machine.cpus.enumerated() {
                try e.set("/cpus/cpu@\(i)", "reg", cells: [0x1, UInt32(0x100 + i)])
            }
            try e.set("/cpus/cpu@1", "status", string: "disabled")
            let blob = try e.finish()

            let found = Discovered(try blob.discover())
            XCTAssertEqual(found, DiscoveryOracle.expected(blob), t.label)
            XCTAssertEqual(found.reserved, [PhysicalRangeValue(base: b, size: 0x2000)], "trailing half pair ignored")
            var ids = machine.cpus.map { 0x1_0000_0100 + $0 }
            ids.remove(at: 1)
            XCTAssertEqual(found.cpuIDs, ids, t.label)
        }
    }

    /// Cell counts the decoder does not support leave reg undecoded rather than misread.
    func testUnsupportedCellCountsAreIgnored() throws {
        for t in try QEMUTrees.all() {
            let e = try TreeEdit(t.packed)
            try e.set("/", "#address-cells", cells: [3])
            try e.set("/cpus", "#address-cells", cells: [0])
            let blob = try e.finish()
            let found = Discovered(try blob.discover())
            XCTAssertEqual(found.ram, [], t.label)
            XCTAssertEqual(found.cpuCount, 0, t.label)
        }
    }
}

extension MemoryMap {
    var freeRanges: [PhysicalRangeValue] {
        var r: [PhysicalRangeValue] = []
        forEachFree { r.append(PhysicalRangeValue($0)) }
        return r
    }

    /// Bytes of RAM covered by at least one reservation (a sweep over the sorted overlaps).
    var reservedBytesInRAM: UInt64 {
        var total: UInt64 = 0
        for i in 0..<ramCount {
            let ram = ramRange(i)
            var pieces: [(UInt64, UInt64)] = []
            for j in 0..<reservedCount {
                let r = reservedRange(j).0
                let lo = max(r.base, ram.base), hi = min(r.end, ram.end)
                if lo < hi { pieces.append((lo, hi)) }
            }
            pieces.sort { $0.0 < $1.0 }
            var cursor = ram.base
            for (lo, hi) in pieces where hi > cursor {
                total += hi - max(lo, cursor)
                cursor = hi
            }
        }
        return total
    }
}
