// LoaderFuzzTests: seeded mutations of valid ELF files and tar archives never crash the parsers.
//
// 20,000 mutants each, from a fixed seed so a failure reproduces: bit
// flips, random bytes, random 16/32/64-bit values written over header
// fields, truncation and extension. Host builds run with bounds checks on
// every buffer access, so an out-of-range read traps the test. Whatever the
// parsers accept must keep their promises: every ELF segment inside the
// window (and the load stays inside its buffer), every tar member's data
// inside the archive.

import Foundation
import XCTest
import RumLoader
import RumkvBuild
import TestSupport

final class LoaderFuzzTests: XCTestCase {
    static let mutants = 20_000

    /// Applies 1...4 random edits, mostly inside the first `hot` bytes.
    static func mutate(_ base: [UInt8], _ rng: inout SplitMix64, hot: Int) -> [UInt8] {
        var b = base
        for _ in 0...rng.below(4) {
            guard !b.isEmpty else { break }
            let at = rng.below(4) == 0 ? rng.below(b.count) : rng.below(min(hot, b.count))
            switch rng.below(7) {
            case 0: b[at] ^= UInt8(1) << UInt8(rng.below(8))
            case 1: b[at] = UInt8(truncatingIfNeeded: rng.next())
            case 2, 3:
                let width = [2, 4, 8][rng.below(3)]
                let special: [UInt64] = [0, 1, UInt64.max, UInt64(Int64.max), 0x8010_0000, 0x8020_0000, 0xFFF, 0x1000, UInt64(b.count)]
                let v = rng.below(2) == 0 ? special[rng.below(special.count)] : rng.next()
                for i in 0..<width where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
            case 4: b.removeLast(rng.below(b.count))
            case 5: b += [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: rng.below(600))
            default: b[at] = [0, 0x20, 0x30, 0x37, 0x38, 0xFF][rng.below(6)]
            }
        }
        return b
    }

    func testELFParserAndLoaderSurviveMutants() {
        var rng = SplitMix64(seed: 0x5EED_E1F0)
        let base = ELFBuilder.standard().build()
        let windowBase: UInt64 = 0x8010_0000
        var window = [UInt8](repeating: 0, count: 0x3000)
        var accepted = 0
        for _ in 0..<Self.mutants {
            let m = Self.mutate(base, &rng, hot: 64 + 56 * 3)
            let result: ELFImage? = m.withUnsafeBytes { f in
                window.withUnsafeMutableBytes { w in try? ELF.load(f, machine: ELF.machineRISCV, into: w, at: windowBase) }
            }
            guard let image = result else { continue }
            accepted += 1
            for i in 0..<image.segmentCount {
                let s = image.segment(i)
                XCTAssertTrue(s.address >= windowBase && s.address + s.memorySize <= windowBase + 0x3000)
                XCTAssertTrue(s.fileOffset + s.fileSize <= m.count && UInt64(s.fileSize) <= s.memorySize)
            }
        }
        XCTAssertGreaterThan(accepted, 100, "some mutants stay valid, so the load path is fuzzed too")
        print("ELF fuzz: \(accepted) of \(Self.mutants) mutants accepted")
    }

    func testTarReaderSurvivesMutants() {
        var rng = SplitMix64(seed: 0x7A2_5EED)
        let base = [UInt8](PayloadStore.ustar([
            .init(name: "hello.npl", data: Data(repeating: 0x41, count: 700)),
            .init(name: "autorun", data: Data("hello\n".utf8)),
        ]))
        var accepted = 0
        for _ in 0..<Self.mutants {
            let m = Self.mutate(base, &rng, hot: 512 + 1024 + 512)
            m.withUnsafeBytes { b in
                let tar = TarArchive(b)
                var cursor = 0, steps = 0
                do {
                    while let member = try tar.next(&cursor) {
                        XCTAssertTrue(member.data.lowerBound >= 0 && member.data.upperBound <= b.count)
                        XCTAssertTrue(member.name.count > 0 && member.name.upperBound <= b.count)
                        steps += 1
                        XCTAssertLessThan(steps, b.count / 512 + 1, "the walk always moves forward")
                    }
                    accepted += 1
                } catch {}
            }
        }
        XCTAssertGreaterThan(accepted, 100)
        print("tar fuzz: \(accepted) of \(Self.mutants) mutants walked to the end")
    }
}
