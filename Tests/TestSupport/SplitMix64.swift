// SplitMix64: the one seeded generator every randomized host test draws from.
//
// Steele, Lea and Flood, "Fast splittable pseudorandom number generators"
// (OOPSLA 2014): tiny, fast and good enough to drive test inputs. Every run
// takes a fixed seed and failures print it, so a failing case reproduces.

public struct SplitMix64: RandomNumberGenerator {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n`; 0 when n <= 1.
    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// "(seed 0x…)", for failure messages.
    public static func describe(_ seed: UInt64) -> String { "(seed 0x\(String(seed, radix: 16)))" }
}
