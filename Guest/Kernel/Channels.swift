// Channels: one fiber per SysTable channel, following the peer through restarts.
//
// The fiber waits until the peer's side is up, then starts a session: it
// formats its own ring (the hypervisor wiped both when either side came
// up), rings the doorbell so a waiting peer notices, and attaches the
// peer's ring once the peer has formatted it. Side A plays ping, side B
// pong (ChannelPingPong.swift). A session lasts while the peer keeps the
// generation it had at the start; when the peer goes down or comes back as
// a new instance the fiber prints "peer down", drops its view of both rings
// and starts over, so a restarted peer gets a fresh session (and ping a new
// round). Lines: "rumpk[<guest>]: channel N: peer up (generation G)" and
// "... channel N: peer down". Waiting is on the doorbell event, with a
// fallback period (a poll period where the port has no interrupts).

import RumABI

enum Channels<P: GuestPort> {
    static func run(_ index: Int) {
        guard let t = kernel.table, let link = ChannelLink.open(t, index) else {
            Console<P>.begin(); Console<P>.say("channel "); Console<P>.dec(UInt64(index))
            Console<P>.say(": malformed descriptor or shared header\n")
            return
        }
        while true {
            let generation = waitForPeer(link)
            if var session = ChannelSession<P>.start(link, generation) {
                if link.side == Int(RUM_CHANNEL_SIDE_A) { Ping<P>.serve(&session) } else { Pong<P>.serve(&session) }
            }
            line(link, "peer down")
        }
    }

    /// Waits until the peer's side is up; returns its generation.
    static func waitForPeer(_ link: ChannelLink) -> UInt32 {
        while true {
            let p = link.peer
            if p.up {
                Console<P>.begin(); Console<P>.say("channel "); Console<P>.dec(UInt64(link.index))
                Console<P>.say(": peer up (generation "); Console<P>.dec(UInt64(p.generation)); Console<P>.say(")\n")
                return p.generation
            }
            Scheduler<P>.wait(for: Event.doorbell, until: P.counter() + period)
        }
    }

    /// How long a channel fiber sleeps when no doorbell comes: a safety net with
    /// interrupts (100 ms), the poll period without them (1 ms).
    static var period: UInt64 {
        let hz = kernel.table?.pointee.timebase_hz ?? 10_000_000
        return kernel.interrupts ? hz / 10 : max(hz / 1000, 1)
    }

    static func line(_ link: ChannelLink, _ text: StaticString) {
        Console<P>.begin(); Console<P>.say("channel "); Console<P>.dec(UInt64(link.index))
        Console<P>.say(": "); Console<P>.say(text); Console<P>.say("\n")
    }
}

/// Both rings of a channel, for as long as the peer keeps one generation.
struct ChannelSession<P: GuestPort> {
    let link: ChannelLink
    let generation: UInt32
    var tx: IONRing
    var rx: IONRing
    /// Doorbells this side rang in the session.
    var rung: UInt64 = 0

    /// Formats this side's ring and attaches the peer's; nil if the peer left first.
    static func start(_ link: ChannelLink, _ generation: UInt32) -> ChannelSession? {
        guard var tx = try? IONRing.format(link.tx, capacity: link.capacity) else { return nil }
        _ = P.doorbell(link.doorbell)
        while true {
            let rx = try? IONRing.attach(link.rx)
            let p = link.peer               // after the attach: a ring of a newer peer shows its generation
            guard p.up, p.generation == generation else { return nil }
            if let rx { return ChannelSession(link: link, generation: generation, tx: tx, rx: rx) }
            if !tx.isFormatted || tx.count > UInt64(tx.capacity) {      // wiped under us: the peer restarted
                guard let again = try? IONRing.format(link.tx, capacity: link.capacity) else { return nil }
                tx = again
                _ = P.doorbell(link.doorbell)
            }
            Scheduler<P>.wait(for: Event.doorbell, until: P.counter() + Channels<P>.period)
        }
    }

    /// The peer is still the instance this session started with.
    var peerHere: Bool {
        let p = link.peer
        return p.up && p.generation == generation
    }

    mutating func ring() {
        _ = P.doorbell(link.doorbell)
        rung += 1
    }

    /// Empties this side's ring again if its counters became impossible (a stale
    /// `head` store of the peer's previous instance); the peer re-attaches.
    mutating func repairOwnRing() {
        guard tx.count > UInt64(tx.capacity), let again = try? IONRing.format(link.tx, capacity: link.capacity) else { return }
        tx = again
    }

    /// Waits for a doorbell after checking once more (behind a fence) that nothing came.
    func waitForPackets() {
        if rx.stillEmpty() { Scheduler<P>.wait(for: Event.doorbell, until: P.counter() + Channels<P>.period) }
        else { Scheduler<P>.yield() }
    }
}
