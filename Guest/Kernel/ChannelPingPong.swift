// ChannelPingPong: the demo protocol on a channel, and its benchmarks.
//
// Side A (ping) sends a round of `ChannelDemo.packets` RUM_CMD_PING packets,
// arg = sequence number 0..<1000, in bursts, never more outstanding than the
// smaller ring holds, and takes the RUM_CMD_PONG answers, checking that
// their sequence numbers come back in order. Side B (pong) answers every
// PING with a PONG carrying the same arg and id_lo. A producer rings the
// doorbell after a burst when the consumer may have found the ring empty
// and gone to wait (IONRing.needsWakeUp); a consumer that finds its ring
// empty checks again behind a fence and then waits for the doorbell.
// Lines: "rumpk[<guest>]: channel N ping: sent 1000, received 1000 pongs, in
// order" and "rumpk[<guest>]: channel N pong: answered 1000 pings".
//
// id_lo of a PING marks benchmark traffic: `bench` packets are not counted
// by pong, `polling` ones ask it to poll without doorbells until a packet
// without the flag comes (or 10 ms pass without any). The benchmarks run
// after a complete round when the guest is verbose or runs the bench test
// payload (docs/design/006-virtio-and-channels.md).

import RumABI

enum ChannelDemo {
    static let packets: UInt64 = 1000
    static let burst: UInt64 = 16
    static let bench: UInt64 = 1
    static let polling: UInt64 = 2
}

/// What one exchange of pings achieved.
struct Exchange {
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var inOrder = true
    var ticks: UInt64 = 0
    var doorbells: UInt64 = 0
    var peerLeft = false
    var timedOut = false
    var complete: Bool { !peerLeft && !timedOut }
}

enum Ping<P: GuestPort> {
    static func serve(_ s: inout ChannelSession<P>) {
        let x = exchange(&s, count: ChannelDemo.packets, flags: 0)
        if x.sent > 0 || x.complete {
            Console<P>.begin(); Console<P>.say("channel "); Console<P>.dec(UInt64(s.link.index))
            Console<P>.say(" ping: sent "); Console<P>.dec(x.sent); Console<P>.say(", received ")
            Console<P>.dec(x.received); Console<P>.say(" pongs, ")
            Console<P>.say(x.peerLeft ? "peer went away\n" : x.timedOut ? "timed out\n" : x.inOrder ? "in order\n" : "OUT OF ORDER\n")
        }
        if kernel.bench { if x.complete { ChannelBench<P>.run(&s) } else { ChannelBench<P>.failed("ping-pong", x) } }
        while s.peerHere { Scheduler<P>.wait(for: Event.doorbell, until: P.counter() + Channels<P>.period) }
    }

    /// Sends `count` pings (arg 0..<count, id_lo `flags`) and takes their pongs, or
    /// stops when the peer leaves or nothing moves for a second.
    static func exchange(_ s: inout ChannelSession<P>, count: UInt64, flags: UInt64) -> Exchange {
        var x = Exchange()
        let polling = flags & ChannelDemo.polling != 0
        let window = UInt64(min(s.tx.capacity, s.rx.capacity))
        let hz = kernel.table?.pointee.timebase_hz ?? 10_000_000
        let start = P.counter(), rungBefore = s.rung
        var lastMove = start, lastRing = start
        while x.received < count {
            guard s.peerHere else { x.peerLeft = true; break }
            var pushed: UInt64 = 0
            while x.sent < count, x.sent - x.received < window, pushed < ChannelDemo.burst,
                  s.tx.push(CmdPacket(kind: RUM_CMD_PING, arg: x.sent, idLow: flags)) {
                x.sent += 1
                pushed += 1
            }
            if pushed == 0 && x.sent - x.received < window && x.sent < count { s.repairOwnRing() }
            // Polling: only the first burst rings (the pong may be asleep), then nobody does.
            if pushed > 0 && (!polling || x.sent == pushed) && s.tx.needsWakeUp(afterPushing: pushed) {
                s.ring()
                lastRing = P.counter()
            }
            let got: UInt64
            do { got = try take(&s, flags, &x) } catch { x.peerLeft = true; break }
            let now = P.counter()
            if got > 0 || pushed > 0 { lastMove = now; continue }
            if now - lastMove > hz { x.timedOut = true; break }
            if polling {
                if now - lastRing > hz / 1000 { s.ring(); lastRing = now }     // a pong that gave up polling
                Scheduler<P>.yield()
            } else {
                s.waitForPackets()
            }
        }
        x.ticks = P.counter() - start
        x.doorbells = s.rung - rungBefore
        return x
    }

    /// Takes the pongs that are there; returns how many.
    static func take(_ s: inout ChannelSession<P>, _ flags: UInt64, _ x: inout Exchange) throws(IONError) -> UInt64 {
        var n: UInt64 = 0
        while let p = try s.rx.pop() {
            guard p.kind == RUM_CMD_PONG, p.id_lo == flags else { continue }
            if p.arg != x.received { x.inOrder = false }
            x.received += 1
            n += 1
        }
        return n
    }
}

enum Pong<P: GuestPort> {
    static func serve(_ s: inout ChannelSession<P>) {
        let hz = kernel.table?.pointee.timebase_hz ?? 10_000_000
        var answered: UInt64 = 0, inOrder = true, polling = false
        var lastMove = P.counter()
        while s.peerHere {
            var pushed: UInt64 = 0
            while pushed < ChannelDemo.burst && s.tx.count < UInt64(s.tx.capacity) {
                let p: CmdPacket?
                do { p = try s.rx.pop() } catch { return }       // a corrupt ring ends the session
                guard let p else { break }
                guard p.kind == RUM_CMD_PING else { continue }
                s.tx.push(CmdPacket(kind: RUM_CMD_PONG, arg: p.arg, idLow: p.id_lo))
                pushed += 1
                polling = p.id_lo & ChannelDemo.polling != 0
                guard p.id_lo & ChannelDemo.bench == 0 else { continue }
                if p.arg == 0 { answered = 0; inOrder = true }
                if p.arg != answered { inOrder = false }
                answered += 1
                if answered == ChannelDemo.packets { report(s.link, answered, inOrder) }
            }
            let now = P.counter()
            if pushed > 0 {
                lastMove = now
                if !polling && s.tx.needsWakeUp(afterPushing: pushed) { s.ring() }
            } else if polling && now - lastMove < hz / 100 {
                Scheduler<P>.yield()
            } else {
                polling = false
                s.waitForPackets()
            }
        }
    }

    static func report(_ link: ChannelLink, _ answered: UInt64, _ inOrder: Bool) {
        Console<P>.begin(); Console<P>.say("channel "); Console<P>.dec(UInt64(link.index))
        Console<P>.say(" pong: answered "); Console<P>.dec(answered)
        Console<P>.say(inOrder ? " pings\n" : " pings, OUT OF ORDER\n")
    }
}

/// Doorbell round trip and throughput, measured by ping after a complete round.
enum ChannelBench<P: GuestPort> {
    static var packets: UInt64 { 4096 }

    static func run(_ s: inout ChannelSession<P>) {
        var instructions = Samples(), ticks = Samples()
        for _ in 0..<64 {
            let i0 = P.instructionsRetired(), t0 = P.counter()
            let x = Ping<P>.exchange(&s, count: 1, flags: ChannelDemo.bench)
            guard x.complete else { return failed("doorbell round trip", x) }
            instructions.add(P.instructionsRetired() &- i0)
            ticks.add(P.counter() &- t0)
        }
        let polled = Ping<P>.exchange(&s, count: packets, flags: ChannelDemo.bench | ChannelDemo.polling)
        guard polled.complete else { return failed("polling throughput", polled) }
        let rung = Ping<P>.exchange(&s, count: packets, flags: ChannelDemo.bench)
        guard rung.complete else { return failed("doorbell throughput", rung) }
        let hz = kernel.table?.pointee.timebase_hz ?? 10_000_000
        Console<P>.bench("doorbell_roundtrip_instructions", instructions.median())
        Console<P>.bench("doorbell_roundtrip_ticks", ticks.median())
        Console<P>.bench("timebase_hz", hz)
        Console<P>.bench("channel_packets_per_second_polling", packets * hz / max(polled.ticks, 1))
        Console<P>.bench("channel_packets_per_second_doorbell", packets * hz / max(rung.ticks, 1))
        Console<P>.bench("channel_doorbells_per_4096_packets_doorbell", rung.doorbells)
        Console<P>.bench("channel_doorbells_per_4096_packets_polling", polled.doorbells)
        Console<P>.bench("channel_done", 1)
    }

    /// A phase that did not complete: says which and why, then the end marker
    /// with 0, so `rumkv bench` fails at once with the reason.
    static func failed(_ phase: StaticString, _ x: Exchange) {
        Console<P>.begin(); Console<P>.say("channel bench: "); Console<P>.say(phase)
        Console<P>.say(x.peerLeft ? ": the peer went away after " : ": nothing moved for a second after ")
        Console<P>.dec(x.received); Console<P>.say(" of "); Console<P>.dec(x.sent); Console<P>.say(" pongs\n")
        Console<P>.bench("channel_done", 0)
    }
}
