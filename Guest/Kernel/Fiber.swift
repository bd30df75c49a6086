// Fiber: the table of Rumpk's cooperative fibers.
//
// A fiber is a slot in a fixed table: its state, time class, saved stack
// pointer, stack bounds and what it runs. Stacks come from the arena at boot,
// one per slot, and are reused when a slot is freed. The table is one global
// value touched only by the single hart that runs Rumpk, and only between
// context switches, so it needs no lock. The scheduler (Scheduler.swift)
// moves fibers between states; docs/design/003-rumpk-scheduler.md explains
// the states and the time classes.

/// What a fiber runs; `Rumpk.fiberMain` dispatches on it (no function pointers).
enum FiberBody: UInt8 {
    case heartbeat, shell, exec, payload
    /// The virtio drivers (Devices.swift), one device after another.
    case devices
    /// One channel's ping or pong side (Channels.swift); `arg` = its SysTable index.
    case channel
}

/// Scheduling class, served in the harmonic pattern of Scheduler.pick.
enum TimeClass: Int {
    /// Kernel services that must stay timely (heartbeat, exec, devices, channels).
    case system = 0
    /// Fibers acting for someone waiting (the shell).
    case interactive = 1
    /// Payloads and other throughput work.
    case batch = 2

    static let count = 3
}

enum FiberState: UInt8 {
    /// Unused slot.
    case free
    /// In its class's run queue, or running.
    case runnable
    /// Waiting for the counter to reach `wake`, or for one of `events` (Scheduler.wait).
    case sleeping
    /// Waiting for another fiber to `unpark` it.
    case parked
    /// Finished; `exitCode` is valid until its joiner collects it.
    case done
}

struct Fiber {
    var state = FiberState.free
    var timeClass = TimeClass.batch
    var body = FiberBody.heartbeat
    var sp: UInt64 = 0
    var stackLow: UInt64 = 0
    var stackHigh: UInt64 = 0
    var wake: UInt64 = 0
    /// Interrupt events (`Event` bits) that end this fiber's sleep early.
    var events: UInt64 = 0
    var arg: UInt64 = 0
    var exitCode: Int64 = 0
    /// The fiber waiting in `join` for this one, or -1 (then the slot is freed at exit).
    var joiner: Int8 = -1
    var name: StaticString = ""
}

/// A FIFO of fiber indices; each fiber is in at most one queue, so `slots` entries suffice.
struct RunQueue {
    var items: InlineArray<8, Int8> = .init(repeating: -1)
    var head = 0
    var count = 0

    mutating func push(_ f: Int) {
        items[(head + count) & 7] = Int8(f)
        count += 1
    }

    mutating func pop() -> Int? {
        guard count > 0 else { return nil }
        let f = Int(items[head])
        head = (head + 1) & 7
        count -= 1
        return f
    }
}

struct FiberTable {
    static let slots = 8
    static let stackBytes: UInt64 = 32 * 1024
    /// Written at a stack's lowest word; a fiber that overwrote it overflowed.
    static let canary: UInt64 = 0x5354_4143_4B5F_454E   // "NE_KCATS" little-endian
    /// Painted over free stack so the high-water mark can be measured.
    static let paint: UInt64 = 0xFEED_FACE_FEED_FACE

    var fibers: InlineArray<8, Fiber> = .init(repeating: Fiber())
    var queues: InlineArray<3, RunQueue> = .init(repeating: RunQueue())
    /// The fiber on the CPU, or -1 while the scheduler loop runs.
    var current = -1
    /// The scheduler loop's saved stack pointer.
    var schedulerSP: UInt64 = 0
    /// Scheduling decisions so far (drives the harmonic pattern).
    var decisions: UInt64 = 0
    var switches: UInt64 = 0
}

nonisolated(unsafe) var fiberTable = FiberTable()
