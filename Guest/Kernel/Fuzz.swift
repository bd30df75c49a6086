// Fuzz: a hypercall fuzzer (test_payload = "fuzz").
//
// Makes random calls, forever, in rounds of `round` calls: a random
// extension of the port's list (`HostilePort.fuzzExtension`, which includes
// Rumkv's own) or a random number, a random function (mostly small) and
// argument registers drawn from values that hit edges (0, -1, the guest's RAM
// bounds, its SysTable, 2^32, 2^63, random). Calls that would end the guest
// (`HostilePort.fuzzEndsGuest`: shutdown, reset, stopping its only vCPU) are
// skipped and counted. After each round it prints the totals by result:
//
//   rumpk: fuzz: 20000 calls: ok 812, -1 3, -2 17022, -3 1409, -5 700, other 54, skipped 1000
//
// The generator is SplitMix64 from a fixed seed, so every run makes the same
// calls (the seed is printed first). `rumkv soak fuzz` reads these lines.

import RumABI

public enum Fuzz<P: GuestPort & HostilePort> {
    public static var seed: UInt64 { 0x5EED_CA11_0000_0001 }
    static var round: Int { 10_000 }

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> UInt64 { n <= 1 ? 0 : next() % n }
    }

    /// Counts by result: index 0 for 0 (success), 1...8 for -1...-8, 9 other.
    struct Tally {
        var byResult: InlineArray<10, UInt64> = .init(repeating: 0)
        var skipped: UInt64 = 0
        var calls: UInt64 = 0
        mutating func add(_ e: Int64) {
            calls += 1
            let i = e == 0 ? 0 : (e < 0 && e >= -8) ? Int(-e) : 9
            byResult[i] += 1
        }
    }

    static func argument(_ g: inout Generator, _ c: AttackContext) -> UInt64 {
        switch g.below(16) {
        case 0: return 0
        case 1: return 1
        case 2: return UInt64.max
        case 3: return c.ramBase
        case 4: return c.ramEnd &- 8
        case 5: return c.ramEnd
        case 6: return c.sysTable
        case 7: return 1 << 32
        case 8: return 1 << 63
        case 9: return 0x1000
        case 10: return g.below(64)
        case 11: return c.ramBase &+ g.below(c.ramEnd &- c.ramBase)
        default: return g.next()
        }
    }

    public static func run(_ t: UnsafePointer<SysTable>) -> Never {
        let ram = t.pointee.mem.0
        let c = AttackContext(ramBase: ram.base, ramEnd: ram.base &+ ram.size,
                              sysTable: UInt64(UInt(bitPattern: t)), devTable: t.pointee.devtable)
        var extensions = 0
        while P.fuzzExtension(extensions) != nil { extensions += 1 }
        var g = Generator(state: seed)
        var tally = Tally()
        Console<P>.say("rumpk: fuzz: seed "); Console<P>.hex(seed); Console<P>.say(", ")
        Console<P>.dec(UInt64(extensions)); Console<P>.say(" extensions, reporting every ")
        Console<P>.dec(UInt64(round)); Console<P>.say(" calls\n")
        while true {
            for _ in 0..<round {
                let pick = g.below(UInt64(extensions) + 2)
                let ext = pick < UInt64(extensions) ? P.fuzzExtension(Int(pick))! : g.next() & 0xFFFF_FFFF
                let fid = g.below(4) == 0 ? g.next() : g.below(8)
                let a0 = argument(&g, c), a1 = argument(&g, c), a2 = argument(&g, c)
                if P.fuzzEndsGuest(ext, fid, a0, a1) {
                    tally.skipped += 1
                    continue
                }
                tally.add(P.rawCall(ext, fid, a0, a1, a2).0)
            }
            report(tally)
        }
    }

    static func report(_ t: Tally) {
        Console<P>.say("rumpk: fuzz: "); Console<P>.dec(t.calls &+ t.skipped); Console<P>.say(" calls: ok ")
        Console<P>.dec(t.byResult[0])
        for i in 1..<9 where t.byResult[i] > 0 {
            Console<P>.say(", -"); Console<P>.dec(UInt64(i)); Console<P>.say(" "); Console<P>.dec(t.byResult[i])
        }
        Console<P>.say(", other "); Console<P>.dec(t.byResult[9])
        Console<P>.say(", skipped "); Console<P>.dec(t.skipped); Console<P>.say("\n")
    }
}
