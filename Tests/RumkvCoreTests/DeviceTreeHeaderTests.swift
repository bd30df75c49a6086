// DeviceTreeHeaderTests: a bad header is refused, at least whenever libfdt refuses it.
//
// Named cases pin each DTBError; sweeps set every header word to boundary and
// seeded random values and require that `fdt_check_header` rejecting implies
// `DeviceTree(validating:)` rejecting (magic, version, block bounds). Buffers
// cut short at every length are refused before any block is read.

import XCTest
import RumkvCore
import TestSupport

final class DeviceTreeHeaderTests: XCTestCase {
    func error(_ blob: Blob) -> DTBError? {
        withExtendedLifetime(blob) { error(blob.raw) }
    }

    func error(_ raw: UnsafeRawBufferPointer) -> DTBError? {
        do { _ = try DeviceTree(validating: raw); return nil } catch { return error }
    }

    /// Fails unless a header libfdt refuses is refused by us too.
    func requireRefusal(_ mutant: Blob, _ outcome: HostileOutcome, _ what: @autoclosure () -> String) -> Bool {
        let libfdt = LibFDTReference.checkHeader(mutant)
        guard libfdt != 0 else { return false }
        if case .rejected = outcome { return true }
        XCTFail("\(what()): fdt_check_header \(libfdt), but we \(outcome)")
        return true
    }

    func patched(_ blob: Blob, _ edits: [(Int, UInt32)]) -> Blob {
        let c = blob.copy()
        for (field, value) in edits { c.setBE32(field, value) }
        return c
    }

    func testNamedErrors() {
        let good = FDTWriter.minimal().build()
        let total = UInt32(good.count)
        XCTAssertNil(error(good))
        XCTAssertEqual(error(good.copy(prefix: 39)), .tooSmall)
        XCTAssertEqual(error(good.copy(prefix: 0)), .tooSmall)
        XCTAssertEqual(error(patched(good, [(FDTHeader.magic, 0xEDFE_0DD0)])), .badMagic)
        XCTAssertEqual(error(patched(good, [(FDTHeader.version, 16)])), .unsupportedVersion)
        XCTAssertEqual(error(patched(good, [(FDTHeader.lastCompVersion, 18)])), .unsupportedVersion)
        XCTAssertEqual(error(patched(good, [(FDTHeader.totalSize, total + 1)])), .badTotalSize)
        XCTAssertEqual(error(patched(good, [(FDTHeader.totalSize, 39)])), .badTotalSize)
        XCTAssertEqual(error(good.copy(prefix: good.count - 1)), .badTotalSize)
        let blockCases: [(String, [(Int, UInt32)])] = [
            ("struct inside the header", [(FDTHeader.offStruct, 36)]),
            ("struct misaligned", [(FDTHeader.offStruct, good.be32(FDTHeader.offStruct) + 2)]),
            ("struct size not a token multiple", [(FDTHeader.sizeStruct, good.be32(FDTHeader.sizeStruct) - 2)]),
            ("struct past totalsize", [(FDTHeader.sizeStruct, total)]),
            ("struct offset past totalsize", [(FDTHeader.offStruct, total + 4)]),
            ("struct size wraps", [(FDTHeader.sizeStruct, 0xFFFF_FFFC)]),
            ("strings past totalsize", [(FDTHeader.sizeStrings, good.be32(FDTHeader.sizeStrings) + 1)]),
            ("strings offset past totalsize", [(FDTHeader.offStrings, total + 1)]),
            ("strings inside the header", [(FDTHeader.offStrings, 0)]),
            ("strings size wraps", [(FDTHeader.sizeStrings, 0xFFFF_FFFF)]),
            ("rsvmap misaligned", [(FDTHeader.offRsvmap, 44)]),
            ("rsvmap inside the header", [(FDTHeader.offRsvmap, 32)]),
            ("rsvmap has no room for an entry", [(FDTHeader.offRsvmap, (total - 8) & ~7)]),
        ]
        for (what, edits) in blockCases {
            XCTAssertEqual(error(patched(good, edits)), .badBlockBounds, what)
        }
    }

    func testPeekTotalSize() {
        let good = FDTWriter.minimal().build()
        XCTAssertEqual(DeviceTree.peekTotalSize(good.pointer), good.count)
        XCTAssertNil(DeviceTree.peekTotalSize(patched(good, [(FDTHeader.magic, 0)]).pointer))
    }

    /// Boundary values for a header word of `blob`, near every other header value, and seeded random ones.
    func candidates(_ blob: Blob, _ rng: inout SplitMix64) -> [UInt32] {
        let total = UInt32(blob.count)
        var v: [UInt32] = [0, 1, 2, 3, 4, 8, 15, 16, 17, 18, 0x27, 0x28, 0x29, 0x2C, 0x30, 0x38, 0x40,
                           total - 16, total - 15, total - 8, total - 4, total - 1, total, total + 1, total + 4,
                           0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFC, 0xFFFF_FFFF, 0xD00D_FEED]
        for f in FDTHeader.allFields { let x = blob.be32(f); v += [x &- 4, x &- 1, x &+ 1, x &+ 4] }
        for _ in 0..<120 { v.append(UInt32(truncatingIfNeeded: rng.next())) }
        for _ in 0..<40 { v.append(UInt32(rng.below(Int(total) + 64))) }
        return v
    }

    func subjects() throws -> [(String, Blob)] {
        var s: [(String, Blob)] = [("minimal", FDTWriter.minimal().build())]
        for t in (try? QEMUTrees.all()) ?? [] { s.append((t.label, t.packed)) }
        return s
    }

    func testEveryHeaderWordAgainstLibFDT() throws {
        let seed: UInt64 = 0x4844_5230_0000_0001
        var rng = SplitMix64(seed: seed)
        var disagreements = 0, cases = 0
        for (label, blob) in try subjects() {
            for field in FDTHeader.allFields {
                for value in candidates(blob, &rng) {
                    let mutant = patched(blob, [(field, value)])
                    cases += 1
                    let context = "\(label): field 0x\(String(field, radix: 16)) = 0x\(String(value, radix: 16)) \(SplitMix64.describe(seed))"
                    let outcome = HostileTree.exercise(mutant, context: context)
                    let libfdtRefused = requireRefusal(mutant, outcome, context)
                    if !libfdtRefused, case .rejected = outcome { disagreements += 1 }
                }
            }
        }
        XCTAssertGreaterThan(cases, 1000)
        print("header sweep: \(cases) cases, \(disagreements) refused by us only (stricter checks)")
    }

    /// Several header words at once, seeded.
    func testRandomHeaderCombinations() throws {
        let seed: UInt64 = 0x4844_5230_0000_0002
        var rng = SplitMix64(seed: seed)
        for (label, blob) in try subjects() {
            for i in 0..<1500 {
                var edits: [(Int, UInt32)] = []
                for _ in 0..<(1 + rng.below(3)) {
                    let field = FDTHeader.allFields[1 + rng.below(FDTHeader.allFields.count - 1)]
                    let value = rng.below(2) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.below(blob.count + 64))
                    edits.append((field, value))
                }
                let mutant = patched(blob, edits)
                let context = "\(label) case \(i): \(edits) \(SplitMix64.describe(seed))"
                _ = requireRefusal(mutant, HostileTree.exercise(mutant, context: context), context)
            }
        }
    }

    func testEveryTruncatedBufferIsRefused() throws {
        for (label, blob) in try subjects() {
            for n in 0..<blob.count {
                let e = withExtendedLifetime(blob) { error(UnsafeRawBufferPointer(rebasing: blob.raw[0..<n])) }
                XCTAssertEqual(e, n < 40 ? .tooSmall : .badTotalSize, "\(label) cut at \(n)")
            }
        }
    }

    /// The header rewritten to describe the cut-short tree: blocks clipped to the new totalsize.
    func testTruncatedTreesWithConsistentHeaders() throws {
        for (label, blob) in try subjects() {
            var walked = 0
            for n in stride(from: 40, through: blob.count, by: 1) {
                let cut = blob.copy(prefix: n)
                cut.setBE32(FDTHeader.totalSize, UInt32(n))
                let structRoom = max(0, n - cut.structStart) & ~3
                cut.setBE32(FDTHeader.sizeStruct, UInt32(min(Int(cut.be32(FDTHeader.sizeStruct)), structRoom)))
                cut.setBE32(FDTHeader.sizeStrings, UInt32(min(Int(cut.be32(FDTHeader.sizeStrings)), max(0, n - cut.stringsStart))))
                let outcome = HostileTree.exercise(cut, context: "\(label) cut at \(n)")
                _ = requireRefusal(cut, outcome, "\(label) cut at \(n)")
                if case .walked = outcome { walked += 1 }
            }
            XCTAssertGreaterThan(walked, 0, "\(label): cuts inside the strings block still walk")
        }
    }
}
