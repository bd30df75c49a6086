// DeviceTreeFuzzTests: thousands of seeded corruptions of QEMU's trees.
//
// Each mutant flips bits, rewrites bytes or whole tokens in the struct and
// strings blocks of a QEMU tree. The reader must refuse it or walk it without
// leaving the blob; when libfdt's fdt_check_full also accepts the mutant, both
// readers must list the same nodes and discovery must match the libfdt oracle.
// Every failure names the mutant's seed; `mutate(_:seed:)` replays it.

import XCTest
import RumkvCore
import TestSupport

final class DeviceTreeFuzzTests: XCTestCase {
    static let mutantsPerTree = 5000
    static let runSeed: UInt64 = 0x5EED_D7B0_0000_0000

    func testSeededMutationsOfQEMUTrees() throws {
        for (index, t) in try QEMUTrees.all().enumerated() {
            var rng = SplitMix64(seed: Self.runSeed + UInt64(index))
            var stats = (walked: 0, malformed: 0, agreed: 0, oracle: 0, stricter: 0)
            let blob = t.packed.copy()
            let pristine = blob.array
            for _ in 0..<Self.mutantsPerTree {
                let seed = rng.next()
                let changed = Self.mutate(blob, seed: seed)
                check(blob, t.label, seed, &stats)
                for off in changed { blob[off] = pristine[off] }
            }
            XCTAssertEqual(blob.array, pristine, "mutations were undone")
            XCTAssertGreaterThan(stats.agreed, Self.mutantsPerTree / 10, "\(t.label): too few mutants both readers accept")
            XCTAssertGreaterThan(stats.malformed, Self.mutantsPerTree / 10, "\(t.label): too few mutants refused")
            // Refused by us only: so far always a property length of 0xFFFFFFFF,
            // which libfdt 1.6's int arithmetic reads as -1 and steps backwards over.
            XCTAssertLessThan(stats.stricter, Self.mutantsPerTree / 100, "\(t.label): we refuse much that libfdt accepts")
            print("fuzz \(t.label): \(stats)")
        }
    }

    func check(_ blob: Blob, _ label: String, _ seed: UInt64,
               _ stats: inout (walked: Int, malformed: Int, agreed: Int, oracle: Int, stricter: Int)) {
        let context = "\(label) mutant \(SplitMix64.describe(seed))"
        let outcome = HostileTree.exercise(blob, context: context)
        let libfdtAccepts = LibFDTReference.checkFull(blob) == 0
        switch outcome {
        case .rejected(let e):
            XCTFail("header untouched but rejected (\(e)): \(context)")
        case .malformed:
            stats.malformed += 1
            if libfdtAccepts { stats.stricter += 1 }
        case .walked:
            stats.walked += 1
            guard libfdtAccepts else { return }
            stats.agreed += 1
            compare(blob, context, &stats.oracle)
        }
    }

    /// Both readers accepted the mutant: same nodes, same discovery.
    func compare(_ blob: Blob, _ context: String, _ oracleRuns: inout Int) {
        guard let ours = try? blob.withTree({ dt in OurTree.nodes(dt, blob, context: context) }) ?? nil else {
            return XCTFail("walk changed its mind \(context)")
        }
        let ref = LibFDTReference.nodes(blob)
        XCTAssertEqual(ours.map(\.nameBytes), ref.map(\.nameBytes), "node names \(context)")
        XCTAssertEqual(ours.map(\.node.depth), ref.map(\.depth), "node depths \(context)")
        guard let expected = DiscoveryOracle.expected(blob) else { return }
        oracleRuns += 1
        XCTAssertEqual(try? Discovered(blob.discover()), expected, "discovery \(context)")
    }

    /// Applies 1-4 seeded corruptions to the struct (mostly) or strings block;
    /// returns the offsets it touched.
    static func mutate(_ blob: Blob, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var touched: [Int] = []
        let interesting: [UInt32] = [0, 1, 2, 3, 4, 9, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFC]
        for _ in 0..<(1 + rng.below(4)) {
            let inStrings = rng.below(8) == 0 && blob.stringsEnd > blob.stringsStart
            let lo = inStrings ? blob.stringsStart : blob.structStart
            let hi = inStrings ? blob.stringsEnd : blob.structEnd
            let at = lo + rng.below(hi - lo)
            let word = lo + (rng.below(hi - lo) & ~3)
            switch rng.below(5) {
            case 0:
                blob[at] ^= UInt8(1) << UInt8(rng.below(8)); touched.append(at)
            case 1:
                blob[at] = UInt8(truncatingIfNeeded: rng.next()); touched.append(at)
            case 2 where word + 4 <= hi:
                blob.setBE32(word, interesting[rng.below(interesting.count)]); touched += Array(word..<(word + 4))
            case 3 where word + 4 <= hi:
                blob.setBE32(word, UInt32(rng.below(hi - lo + 16))); touched += Array(word..<(word + 4))
            case 4 where word + 4 <= hi:
                let from = lo + (rng.below(hi - lo) & ~3)
                if from + 4 <= hi { blob.setBE32(word, blob.be32(from)); touched += Array(word..<(word + 4)) }
            default:
                blob[at] ^= 0xFF; touched.append(at)
            }
        }
        return touched
    }
}
