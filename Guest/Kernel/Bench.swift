// Bench: measurements a guest makes of its hypervisor, printed as one line each.
//
// Run under QEMU -icount shift=0, where the retired-instruction counter is
// deterministic and counts every privilege level, so an instruction delta
// around a call is the full round trip through the hypervisor. `rumkv bench`
// boots a guest with `test_payload = "bench"` and parses these lines:
//   BENCH null_call_instructions=N         median of 64 null hypercalls
//   BENCH timer_set_instructions=N         median of 64 timer re-arms
//   BENCH timer_wake_ticks=N               median wake-up delay past the deadline, in timer ticks
//   BENCH timebase_hz=N
// The device and channel benchmarks (virtio-blk interrupt latency, doorbell
// round trip, channel throughput) are printed by their fibers after their
// demos; docs/design/006-virtio-and-channels.md lists them. `Samples` below
// serves both.

import RumABI

enum Bench<P: GuestPort & HostilePort> {
    static func run(_ t: UnsafePointer<SysTable>) {
        var samples: InlineArray<64, UInt64> = .init(repeating: 0)
        P.benchCounterStart()
        // Null call: instructions from before to after one hypercall, minus the
        // cost of the two counter reads themselves.
        let bias = measureEmpty()
        for i in 0..<64 {
            let a = P.benchInstructions()
            P.nullCall()
            let b = P.benchInstructions()
            samples[i] = b &- a &- bias
        }
        report("null_call_instructions", median(&samples))

        for i in 0..<64 {
            let deadline = P.counter() + 1_000_000
            let a = P.benchInstructions()
            armTimer(deadline)
            let b = P.benchInstructions()
            samples[i] = b &- a &- bias
        }
        armTimer(UInt64.max)
        report("timer_set_instructions", median(&samples))

        let tick = max(t.pointee.timebase_hz / 1000, 1)    // 1 ms ahead
        for i in 0..<16 {
            let deadline = P.counter() + tick
            P.sleep(until: deadline)
            samples[i] = P.counter() &- deadline
        }
        for i in 16..<64 { samples[i] = samples[i % 16] }
        report("timer_wake_ticks", median(&samples))
        report("timebase_hz", t.pointee.timebase_hz)
        Rumpk<P>.say("BENCH done\n")
    }

    static func measureEmpty() -> UInt64 {
        let a = P.benchInstructions()
        let b = P.benchInstructions()
        return b &- a
    }

    static func armTimer(_ deadline: UInt64) { P.setTimer(deadline) }

    static func median(_ s: inout InlineArray<64, UInt64>) -> UInt64 {
        for i in 1..<64 {
            var j = i
            while j > 0 && s[j - 1] > s[j] { s.swapAt(j - 1, j); j -= 1 }
        }
        return s[32]
    }

    static func report(_ name: StaticString, _ value: UInt64) {
        Rumpk<P>.say("BENCH "); Rumpk<P>.say(name); Rumpk<P>.say("="); Rumpk<P>.dec(value); Rumpk<P>.say("\n")
    }
}

/// Up to 64 measurements and their median (for the device and channel benchmarks).
struct Samples {
    var values: InlineArray<64, UInt64> = .init(repeating: 0)
    var count = 0

    mutating func add(_ v: UInt64) {
        guard count < 64 else { return }
        values[count] = v
        count += 1
    }

    /// The median (upper middle for an even count); 0 if empty.
    func median() -> UInt64 {
        guard count > 0 else { return 0 }
        var s = values
        for i in 1..<count {
            var j = i
            while j > 0 && s[j - 1] > s[j] { s.swapAt(j - 1, j); j -= 1 }
        }
        return s[count / 2]
    }
}
