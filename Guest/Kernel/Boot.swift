// Boot: from a valid SysTable to running fibers.
//
// Sets the kernel state, gives the fiber slots their stacks, starts the
// heartbeat fiber; if the guest has a payload store, the two ION rings and
// the exec and shell fibers; if it has devices, the I/O page and the
// `devices` fiber; one fiber per channel; turns interrupts on if devices or
// channels can use them; then enters the scheduler loop for good. Arena
// sizes: 8 stacks of 32 KiB, two rings of 8 packets, the service table, the
// 4 KiB I/O page; guest.ld reserves 320 KiB.

import RumABI
import CRumpk

enum Boot<P: GuestPort> {
    static var ringCapacity: UInt32 { 8 }

    static func start(_ t: UnsafePointer<SysTable>) -> Never {
        kernel.table = t
        kernel.verbose = t.pointee.flags & RUM_SYSTABLE_F_VERBOSE != 0
        kernel.bench = kernel.verbose || UInt64(t.pointee.test_payload) == HostileOp.bench.rawValue
        var arena = Arena()
        guard Scheduler<P>.setUp(&arena) else { fail("the static arena is too small for the fiber stacks") }
        _ = Scheduler<P>.spawn(.heartbeat, "heartbeat", .system)
        startPayloads(t, &arena)
        let devices = startDevices(t, &arena)
        let channels = startChannels(t)
        if devices || channels { kernel.interrupts = P.enableInterrupts(devices: devices, doorbells: channels) }
        Scheduler<P>.run()
    }

    /// The I/O page and the `devices` fiber; true if some device has an interrupt to route.
    static func startDevices(_ t: UnsafePointer<SysTable>, _ arena: inout Arena) -> Bool {
        guard let table = DeviceTableView.open(t), table.count > 0 else { return false }
        guard let page = arena.take(Virtqueue.bytes, align: 4096) else { fail("the static arena is too small for the I/O page") }
        kernel.ioPage = page
        let controller = P.interruptControllerStart(table.table.pointee.irqchip)
        _ = Scheduler<P>.spawn(.devices, "devices", .system)
        var irq = false
        for i in 0..<table.count where table.device(i).irq != 0 { irq = true }
        return irq && controller
    }

    /// One fiber per channel; true if there is any.
    static func startChannels(_ t: UnsafePointer<SysTable>) -> Bool {
        let n = min(Int(t.pointee.channel_count), Int(RUM_SYSTABLE_CHANNELS))
        for i in 0..<n { _ = Scheduler<P>.spawn(.channel, "channel", .system, arg: UInt64(i)) }
        return n > 0
    }

    static func startPayloads(_ t: UnsafePointer<SysTable>, _ arena: inout Arena) {
        let store: PayloadStore?
        do { store = try PayloadStore.open(t) } catch {
            Console<P>.say("rumpk: payload store "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        guard let store else { return }
        let ringBytes = IONRing.bytes(capacity: ringCapacity)
        guard let a = arena.take(ringBytes), let b = arena.take(ringBytes),
              let s = arena.take(UInt64(MemoryLayout<rum_payload_services_t>.size), align: 16),
              let requests = try? IONRing.format(a, capacity: ringCapacity),
              let replies = try? IONRing.format(b, capacity: ringCapacity) else {
            fail("the static arena is too small for the ION rings")
        }
        let services = s.baseAddress!.assumingMemoryBound(to: rum_payload_services_t.self)
        Services<P>.prepare(services, timebase: t.pointee.timebase_hz)
        kernel.store = store
        kernel.requests = requests
        kernel.replies = replies
        kernel.services = services
        kernel.execFiber = Scheduler<P>.spawn(.exec, "exec", .system) ?? -1
        kernel.shellFiber = Scheduler<P>.spawn(.shell, "shell", .interactive) ?? -1
    }

    /// Sleeps half a second of guest time per beat; prints the beat when verbose.
    static func heartbeat() {
        guard let t = kernel.table else { return }
        let period = max(t.pointee.timebase_hz / 2, 1)
        var beat: UInt64 = 0
        var next = P.counter() + period
        while true {
            Scheduler<P>.sleep(until: next)
            next += period
            beat += 1
            if Console<P>.verbose() { Console<P>.say("heartbeat "); Console<P>.dec(beat); Console<P>.say("\n") }
        }
    }

    static func fail(_ why: StaticString) -> Never {
        Console<P>.say("rumpk: "); Console<P>.say(why); Console<P>.say("\n")
        P.exit(1)
    }
}
