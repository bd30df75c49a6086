// SplitMix64: a tiny seeded PRNG so every corruption run can be replayed.
//
// Steele, Lea and Flood, "Fast splittable pseudorandom number generators"
// (OOPSLA 2014). Failures print the seed; rerun with it to reproduce.

struct SplitMix64: RandomNumberGenerator {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// "(seed 0x…)", for failure messages.
    static func describe(_ seed: UInt64) -> String { "(seed 0x\(String(seed, radix: 16)))" }
}
