// AcpiTests: counting CPUs from the MADT over a fake physical memory.
//
// The tables are laid out in a byte array standing in for physical memory at
// `FakePhysical.base` (RSDP, XSDT or RSDT, MADT, with correct checksums per
// ACPI 6.5 5.2); the reader refuses anything outside it, as the identity map
// refuses anything above 4 GiB. Hostile cases: bad checksums, lengths that
// run off the end or wrap, entry lengths of zero, pointers anywhere, random bytes.

import XCTest
import RumkvCore
import TestSupport
@testable import X86_64Parsers

/// Physical memory [base, base + bytes.count); every read must fit inside.
struct FakePhysical {
    static let base: UInt64 = 0xE0000
    var bytes = [UInt8](repeating: 0, count: 0x4000)
    var reads = 0

    func read(_ address: UInt64, _ count: Int, in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard count >= 0, address >= FakePhysical.base else { return nil }
        let offset = address - FakePhysical.base
        guard offset <= UInt64(buffer.count), UInt64(count) <= UInt64(buffer.count) - offset else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[Int(offset)..<(Int(offset) + count)])
    }

    mutating func put(_ offset: Int, _ table: [UInt8]) { bytes.replaceSubrange(offset..<(offset + table.count), with: table) }
}

enum AcpiBuilder {
    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// Fixes the checksum byte at `at` so `bytes[range]` sums to zero.
    static func fixChecksum(_ bytes: inout [UInt8], _ range: Range<Int>, at: Int) {
        bytes[at] = 0
        let sum = bytes[range].reduce(UInt8(0)) { $0 &+ $1 }
        bytes[at] = 0 &- sum
    }

    /// A system description table: 36-byte header then `body`.
    static func table(_ signature: String, _ body: [UInt8]) -> [UInt8] {
        var t = Array(signature.utf8) + le(UInt64(36 + body.count), 4) + [1, 0] + Array("RUMKV ".utf8)
            + Array("TESTTBL ".utf8) + le(1, 4) + Array("RUMK".utf8) + le(1, 4)
        XCTAssertEqual(t.count, 36)
        t += body
        fixChecksum(&t, 0..<t.count, at: 9)
        return t
    }

    static func rsdp(revision: UInt8, rsdt: UInt32, xsdt: UInt64) -> [UInt8] {
        var r = Array("RSD PTR ".utf8) + [0] + Array("RUMKV ".utf8) + [revision] + le(UInt64(rsdt), 4)
        r += le(36, 4) + le(xsdt, 8) + [0, 0, 0, 0]
        fixChecksum(&r, 0..<20, at: 8)
        fixChecksum(&r, 0..<36, at: 32)
        return revision >= 2 ? r : Array(r.prefix(20))
    }

    /// MADT: local APIC address and flags, then the given structures.
    static func madt(_ entries: [[UInt8]]) -> [UInt8] { table("APIC", le(0xFEE0_0000, 4) + le(1, 4) + entries.flatMap { $0 }) }

    static func localAPIC(_ uid: UInt8, _ apicID: UInt8, enabled: Bool = true) -> [UInt8] {
        [0, 8, uid, apicID] + le(enabled ? 1 : 0, 4)
    }

    static func x2APIC(_ id: UInt32, enabled: Bool = true) -> [UInt8] {
        [9, 16, 0, 0] + le(UInt64(id), 4) + le(enabled ? 1 : 0, 4) + le(0, 4)
    }

    static func ioAPIC() -> [UInt8] { [1, 12, 0, 0] + le(0xFEC0_0000, 4) + le(0, 4) }
}

final class AcpiTests: XCTestCase {
    typealias B = AcpiBuilder
    let madtAt = 0x1000, xsdtAt = 0x800, rsdtAt = 0x900

    /// Memory with an XSDT and an RSDT both pointing at a MADT with `entries`.
    func memory(_ entries: [[UInt8]]) -> FakePhysical {
        var m = FakePhysical()
        let madt = FakePhysical.base + UInt64(madtAt)
        m.put(xsdtAt, B.table("XSDT", B.le(FakePhysical.base + 0x2000, 8) + B.le(madt, 8)))   // first entry: nothing there
        m.put(rsdtAt, B.table("RSDT", B.le(madt, 4)))
        m.put(madtAt, B.madt(entries))
        return m
    }

    func rsdp(_ revision: UInt8 = 2) -> [UInt8] {
        B.rsdp(revision: revision, rsdt: UInt32(FakePhysical.base) + UInt32(rsdtAt), xsdt: FakePhysical.base + UInt64(xsdtAt))
    }

    /// Runs discovery; returns the CPU ids added, or nil if it refused.
    func discover(_ m: FakePhysical, _ rsdp: [UInt8]) -> [UInt64]? {
        m.bytes.withUnsafeBytes { mem in
            rsdp.withUnsafeBytes { r in
                var platform = Platform()
                guard Acpi.discoverCPUs(rsdp: r, memory: { m.read($0, $1, in: mem) }, into: &platform) else {
                    XCTAssertEqual(platform.cpuCount, 0, "a refusal adds no CPU")
                    return nil
                }
                return (0..<platform.cpuCount).map { $0 < Platform.cpuIDCapacity ? platform.cpuIDs[$0] : UInt64.max }
            }
        }
    }

    func testLocalAPICsThroughXSDTAndRSDT() {
        let m = memory([B.localAPIC(0, 0), B.ioAPIC(), B.localAPIC(1, 4), B.localAPIC(2, 6, enabled: false), B.x2APIC(0x100)])
        XCTAssertEqual(discover(m, rsdp(2)), [0, 4, 0x100], "enabled processors only, I/O APIC ignored")
        XCTAssertEqual(discover(m, rsdp(0)), [0, 4, 0x100], "ACPI 1.0: the RSDT")
    }

    func testMoreCPUsThanTheIDTableAreCounted() {
        let m = memory((0..<20).map { B.localAPIC(UInt8($0), UInt8($0)) })
        let ids = discover(m, rsdp())
        XCTAssertEqual(ids?.count, 20)
        XCTAssertEqual(ids?.prefix(16).map { $0 }, (0..<16).map { UInt64($0) })
    }

    func testBadXSDTFallsBackToRSDT() {
        var m = memory([B.localAPIC(0, 3)])
        m.bytes[xsdtAt + 20] ^= 0xFF                                  // breaks the XSDT checksum
        XCTAssertEqual(discover(m, rsdp()), [3])
    }

    func testRefusals() {
        let good = memory([B.localAPIC(0, 0)])
        XCTAssertNil(discover(good, Array(rsdp().prefix(19))), "RSDP truncated")
        var r = rsdp(); r[0] = UInt8(ascii: "X")
        XCTAssertNil(discover(good, r), "RSDP signature")
        r = rsdp(0); r[19] ^= 1
        XCTAssertNil(discover(good, r), "RSDP checksum")

        var m = good
        m.bytes[madtAt + 40] ^= 0x55
        XCTAssertNil(discover(m, rsdp()), "MADT checksum")

        XCTAssertNil(discover(memory([]), rsdp()), "a MADT without processors")
        XCTAssertNil(discover(memory([[0, 0, 0, 0, 0, 0, 0, 0]]), rsdp()), "an entry of length 0 would loop forever")
        XCTAssertNil(discover(memory([[0, 1]]), rsdp()), "an entry shorter than its header")
        XCTAssertNil(discover(memory([[0, 200, 0, 0, 1, 0, 0, 0]]), rsdp()), "an entry running past the table")
    }

    func testTableLengthsThatRunOffOrWrap() {
        for length: UInt64 in [0, 35, 0x1_0000, 0x10_0001, 0xFFFF_FFFF] {
            var m = memory([B.localAPIC(0, 0)])
            m.bytes.replaceSubrange((madtAt + 4)..<(madtAt + 8), with: B.le(length, 4))
            XCTAssertNil(discover(m, rsdp()), "MADT length \(length)")
        }
    }

    func testPointersOutsideMemory() {
        let m = memory([B.localAPIC(0, 0)])
        for address: UInt64 in [0, 1, FakePhysical.base - 1, FakePhysical.base + 0x3FF0, UInt64.max, UInt64.max - 35, 1 << 63] {
            let r = B.rsdp(revision: 2, rsdt: UInt32(truncatingIfNeeded: address), xsdt: address)
            XCTAssertNil(discover(m, r), "root table at \(address)")
        }
        XCTAssertNil(Acpi.identityMapped(UInt64.max - 10, 36), "the machine reader refuses wrapping addresses")
        XCTAssertNil(Acpi.identityMapped(Acpi.mappedLimit - 35, 36), "and anything above 4 GiB")
        XCTAssertNil(Acpi.identityMapped(0x1000, -1))
        XCTAssertNil(Acpi.identityMapped(0, 36))
        XCTAssertNotNil(Acpi.identityMapped(Acpi.mappedLimit - 36, 36))
    }

    /// Random corruption of valid tables: discovery refuses or returns ids, never reads outside.
    func testFuzzMutatedTables() {
        let seed: UInt64 = 0xAC91_0000_0000_0001
        var rng = SplitMix64(seed: seed)
        let valid = memory([B.localAPIC(0, 0), B.ioAPIC(), B.localAPIC(1, 1), B.x2APIC(7)])
        var refused = 0, answered = 0
        for _ in 0..<3000 {
            var m = valid
            var r = rsdp(rng.below(2) == 0 ? 2 : 0)
            for _ in 0..<rng.int(1...6) {
                switch rng.below(4) {
                case 0: m.bytes[madtAt + rng.below(60)] = UInt8(truncatingIfNeeded: rng.next())
                case 1: m.bytes[[xsdtAt, rsdtAt][rng.below(2)] + rng.below(52)] = UInt8(truncatingIfNeeded: rng.next())
                case 2: r[rng.below(r.count)] = UInt8(truncatingIfNeeded: rng.next())
                default:
                    let at = [madtAt + 4, xsdtAt + 4, rsdtAt + 4, xsdtAt + 36, rsdtAt + 36][rng.below(5)]
                    m.bytes.replaceSubrange(at..<(at + 4), with: B.le(rng.next(), 4))
                }
            }
            if rng.below(3) == 0 {   // checksums made right again: only the structure is hostile
                B.fixChecksum(&m.bytes, madtAt..<(madtAt + min(60, Int(m.bytes[madtAt + 4]) | 36)), at: madtAt + 9)
            }
            if discover(m, r) == nil { refused += 1 } else { answered += 1 }
        }
        XCTAssertGreaterThan(refused, 0, SplitMix64.describe(seed))
        XCTAssertGreaterThan(answered, 0, SplitMix64.describe(seed))
    }

    /// Random physical memory and random RSDPs.
    func testFuzzRandomBytes() {
        let seed: UInt64 = 0xAC91_0000_0000_0002
        var rng = SplitMix64(seed: seed)
        for _ in 0..<150 {
            var m = FakePhysical()
            m.bytes = rng.bytes(0x4000)
            var r = rng.bytes(rng.int(0...40))
            if r.count >= 20, rng.below(2) == 0 {
                r.replaceSubrange(0..<8, with: Array("RSD PTR ".utf8))
                let address = FakePhysical.base + UInt64(rng.below(0x4000))
                r.replaceSubrange(16..<20, with: B.le(address, 4))
                if r.count >= 32 { r.replaceSubrange(24..<32, with: B.le(address, 8)) }
                B.fixChecksum(&r, 0..<20, at: 8)
                // A plausible root header at that address with a checksum that holds.
                let off = Int(address - FakePhysical.base)
                if off + 44 <= m.bytes.count {
                    m.bytes.replaceSubrange(off..<(off + 4), with: Array("RSDT".utf8))
                    m.bytes.replaceSubrange((off + 4)..<(off + 8), with: B.le(UInt64(rng.int(36...44)), 4))
                    B.fixChecksum(&m.bytes, off..<(off + Int(m.bytes[off + 4])), at: off + 9)
                }
            }
            _ = discover(m, r)
        }
    }
}
