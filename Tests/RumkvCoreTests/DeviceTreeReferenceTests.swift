// DeviceTreeReferenceTests: the DTB reader agrees with libfdt on QEMU's trees.
//
// Every node (name, depth, position), every property (name, length, bytes) and
// the #address-cells/#size-cells each node inherits are compared between
// `DeviceTree.walk` and libfdt, for the riscv64 and aarch64 `virt` machines.

import XCTest
import RumkvCore

final class DeviceTreeReferenceTests: XCTestCase {
    /// Names looked up through the public StaticString API on every node.
    static let knownNames: [StaticString] = [
        "reg", "compatible", "device_type", "status", "#address-cells", "#size-cells",
        "riscv,isa", "timebase-frequency", "stdout-path", "interrupts", "interrupts-extended",
        "interrupt-parent", "phandle", "ranges", "clock-frequency", "enable-method", "model",
        "mmu-type", "riscv,isa-extensions", "no-such-property",
    ]

    func testHeaderAccepted() throws {
        for t in try QEMUTrees.all() {
            XCTAssertEqual(LibFDTReference.checkFull(t.blob), 0, t.label)
            let dt = try DeviceTree(validating: t.blob.raw)
            XCTAssertEqual(dt.totalSize, Int(t.blob.be32(FDTHeader.totalSize)), t.label)
            XCTAssertEqual(DeviceTree.peekTotalSize(t.blob.pointer), Int(t.blob.be32(FDTHeader.totalSize)), t.label)
        }
    }

    func testNodesMatchLibFDT() throws {
        for t in try QEMUTrees.all() {
            let dt = try DeviceTree(validating: t.blob.raw)
            let ours = try XCTUnwrap(OurTree.nodes(dt, t.blob), t.label)
            let ref = LibFDTReference.nodes(t.blob)
            XCTAssertGreaterThan(ref.count, 10, t.label)
            XCTAssertEqual(ours.count, ref.count, t.label)
            for (o, r) in zip(ours, ref) {
                XCTAssertEqual(o.name, r.name, t.label)
                XCTAssertEqual(o.node.depth, r.depth, "\(t.label) \(r.name)")
                XCTAssertEqual(o.nameOffset, t.blob.structStart + Int(r.offset) + 4, "\(t.label) \(r.name)")
            }
        }
    }

    func testEveryPropertyMatchesLibFDT() throws {
        for t in try QEMUTrees.all() {
            let dt = try DeviceTree(validating: t.blob.raw)
            let ours = try XCTUnwrap(OurTree.nodes(dt, t.blob))
            var compared = 0
            for (o, r) in zip(ours, LibFDTReference.nodes(t.blob)) {
                let listed = OurTree.listProperties(t.blob, o.node).map {
                    RefProperty(name: String(decoding: $0.name ?? [], as: UTF8.self),
                                value: Array(t.blob.raw[$0.offset..<($0.offset + $0.length)]))
                }
                XCTAssertEqual(listed, r.properties, "\(t.label) \(r.name)")
                for name in Self.knownNames {
                    let mine = OurTree.checked(dt.property(o.node, name), t.blob)
                    XCTAssertEqual(mine, r.property(name.description)?.value, "\(t.label) \(r.name) \(name)")
                    compared += 1
                }
            }
            XCTAssertGreaterThan(compared, 100, t.label)
        }
    }

    func testInheritedCellsMatchLibFDT() throws {
        for t in try QEMUTrees.all() {
            let dt = try DeviceTree(validating: t.blob.raw)
            let ours = try XCTUnwrap(OurTree.nodes(dt, t.blob))
            for (o, r) in zip(ours, LibFDTReference.nodes(t.blob)) where r.parent >= 0 {
                XCTAssertEqual(Int32(o.node.addressCells), LibFDTReference.addressCells(t.blob, r.parent), "\(t.label) \(r.name)")
                XCTAssertEqual(Int32(o.node.sizeCells), LibFDTReference.sizeCells(t.blob, r.parent), "\(t.label) \(r.name)")
            }
        }
    }

    func testRegNumbersAndStringLists() throws {
        let compatibles: [StaticString] = ["ns16550a", "arm,pl011", "virtio,mmio", "simple-bus", "riscv",
                                           "riscv,cpu-intc", "arm,armv8", "arm,gic-v3", "qemu,fw-cfg-mmio"]
        for t in try QEMUTrees.all() {
            let dt = try DeviceTree(validating: t.blob.raw)
            let ours = try XCTUnwrap(OurTree.nodes(dt, t.blob))
            let ref = LibFDTReference.nodes(t.blob)
            for (o, r) in zip(ours, ref) {
                if let reg = r.property("reg"), r.parent >= 0 {
                    let a = Int(o.node.addressCells)
                    XCTAssertEqual(dt.property(o.node, "reg")?.number(at: 0, cells: UInt32(a)),
                                   DiscoveryOracle.number(reg, at: 0, a), "\(t.label) \(r.name)")
                    XCTAssertNil(dt.property(o.node, "reg")?.cell(reg.value.count / 4), "past the end")
                    XCTAssertNil(dt.property(o.node, "reg")?.cell(-1))
                }
                for c in compatibles {
                    let expected = r.property("compatible").map { DiscoveryOracle.lists($0, c.description) } ?? false
                    XCTAssertEqual(dt.property(o.node, "compatible")?.containsString(c) ?? false, expected,
                                   "\(t.label) \(r.name) \(c)")
                }
            }
            // findDevice: the first node listing the compatible that has a reg.
            for c in compatibles {
                let first = zip(ours, ref).first { _, r in
                    r.property("reg") != nil && (r.property("compatible").map { DiscoveryOracle.lists($0, c.description) } ?? false)
                }
                let expected = first.flatMap { o, r in DiscoveryOracle.number(r.property("reg")!, at: 0, Int(o.node.addressCells)) }
                XCTAssertEqual(DeviceTreePlatform.findDevice(dt, compatible: c), expected, "\(t.label) \(c)")
            }
            let chosen = ref.first { $0.depth == 1 && $0.name == "chosen" }
            let stdout = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "stdout-path")
            XCTAssertEqual(stdout.map { Array($0.bytes) }, chosen?.property("stdout-path")?.value, t.label)
            XCTAssertNotNil(stdout, t.label)
            XCTAssertTrue(stdout?.hasPrefix("/") ?? false, t.label)
        }
    }
}
