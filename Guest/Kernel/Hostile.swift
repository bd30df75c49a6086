// Hostile: test payloads that attack the hypervisor's isolation.
//
// A partition config can give a guest `test_payload`; the hypervisor passes
// its number in SysTable.test_payload. Each payload tries one thing a guest
// must not be able to do and prints what it tries first, so the test reads
// the attempt from the guest console and the containment from `info`. In
// `all` mode instance k (restart_count k) makes attempt k of a fixed sequence,
// so a restart-on-crash guest walks through every attack in turn and ends
// spinning forever.

import RumABI

public enum HostileOp: UInt64 {
    case none = 0, readOtherGuest, writeHypervisor, touchUnassignedMMIO, badSBIPointer
    case unknownSBI, spinForever, wfiForever, illegalInstruction, all, bench, attacks, fuzz, crashLoop
    case noSyndromeAccess, el2Register
}

/// Raw operations the payloads need from the port.
public protocol HostilePort {
    static func load(_ address: UInt64) -> UInt64
    static func store(_ address: UInt64, _ value: UInt64)
    /// A raw hypercall with an extension/function number: (error, value).
    static func rawCall(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64) -> (Int64, Int64)
    static func illegalInstruction()
    static func waitForever() -> Never
    /// The port's console-write hypercall with raw, unchecked arguments; returns its error code.
    static func consoleWriteRaw(address: UInt64, length: UInt64) -> Int64
    /// A device MMIO address no guest is given (the platform UART).
    static var unassignedMMIO: UInt64 { get }
    /// The cheapest hypercall there is (SBI get_spec_version, HVC version, ...).
    static func nullCall()
    /// Starts the counter `benchInstructions` reads.
    static func benchCounterStart()
    /// Instructions retired at every privilege level (under QEMU -icount), for
    /// the bench payload's hypercall timing: `instructionsRetired` unless the
    /// port has a finer counter for a vCPU that never migrates.
    static func benchInstructions() -> UInt64
    /// A Rumkv hypercall (RUM_HC_*) with raw arguments; returns its error code (RUM_HC_*).
    static func rumkvCall(_ fid: UInt32, _ a0: UInt64, _ a1: UInt64) -> Int64
    /// Jumps to `address` (the attack suite's instruction-fetch cases).
    static func execute(_ address: UInt64)
    /// The port's attack cases after the portable ones (Attacks): its platform's
    /// MMIO map, privileged instructions and firmware calls; nil past the last.
    static func portAttack(_ i: Int, _ c: AttackContext) -> Attack?
    /// Runs the privileged instruction of port case `.instruction(id:)`.
    static func attackInstruction(_ id: Int)
    /// Extension (or hypercall family) `i` the fuzzer calls; nil past the last.
    static func fuzzExtension(_ i: Int) -> UInt64?
    /// True if the call would end the guest (shutdown, reset, stopping its last vCPU): the fuzzer skips it.
    static func fuzzEndsGuest(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64) -> Bool
    /// A store to the virtual interrupt controller that gives the hypervisor no
    /// instruction syndrome (aarch64: `stp`, ISV = 0); false where there is none.
    static func noSyndromeAccess() -> Bool
    /// Writes a hypervisor (EL2) system register from the guest; false where there is none.
    static func el2Register() -> Bool
}

extension HostilePort {
    public static func execute(_ address: UInt64) {
        unsafeBitCast(UInt(address), to: (@convention(c) () -> Void).self)()
    }
    public static func benchCounterStart() {}
    public static func portAttack(_ i: Int, _ c: AttackContext) -> Attack? { nil }
    public static func attackInstruction(_ id: Int) {}
    public static func fuzzExtension(_ i: Int) -> UInt64? { nil }
    public static func fuzzEndsGuest(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64) -> Bool { false }
    public static func noSyndromeAccess() -> Bool { false }
    public static func el2Register() -> Bool { false }
}

extension HostilePort where Self: GuestPort {
    public static func benchInstructions() -> UInt64 { instructionsRetired() }
}

public enum Hostile<P: GuestPort & HostilePort> {
    /// Attempt k of `all` mode.
    static func sequence(_ k: UInt32) -> HostileOp {
        switch k {
        case 0: .badSBIPointer
        case 1: .unknownSBI
        case 2: .readOtherGuest
        case 3: .writeHypervisor
        case 4: .touchUnassignedMMIO
        case 5: .illegalInstruction
        default: .spinForever
        }
    }

    /// One crash-restart cycle of `rumkv soak restart`: when this instance is
    /// up, then when it crashes (counter ticks); the soak takes each restart's
    /// time as "up" of instance k minus "crashing" of instance k-1.
    static func crashLoop(_ t: UnsafePointer<SysTable>) -> Never {
        let up = P.counter()
        Rumpk<P>.say("rumpk: soak: instance "); Rumpk<P>.dec(UInt64(t.pointee.restart_count))
        Rumpk<P>.say(" up at "); Rumpk<P>.dec(up); Rumpk<P>.say(" (timebase "); Rumpk<P>.dec(t.pointee.timebase_hz)
        Rumpk<P>.say(" Hz)\n")
        let down = P.counter()
        Rumpk<P>.say("rumpk: soak: crashing at "); Rumpk<P>.dec(down); Rumpk<P>.say("\n")
        P.exit(1)
    }

    public static func run(_ n: UInt64, _ t: UnsafePointer<SysTable>) {
        guard var op = HostileOp(rawValue: n) else { return }
        if op == .bench { Bench<P>.run(t); return }
        if op == .attacks { Attacks<P>.run(t); return }
        if op == .fuzz { Fuzz<P>.run(t) }
        if op == .crashLoop { crashLoop(t) }
        let all = op == .all
        if all { op = sequence(t.pointee.restart_count) }
        let ramEnd = t.pointee.mem.0.base &+ t.pointee.mem.0.size
        Rumpk<P>.say("rumpk: hostile: ")
        switch op {
        case .none, .all, .bench, .attacks, .fuzz, .crashLoop:
            return
        case .readOtherGuest:
            Rumpk<P>.say("reading past my RAM at "); Rumpk<P>.hex(ramEnd); Rumpk<P>.say("\n")
            Rumpk<P>.hex(P.load(ramEnd))
            Rumpk<P>.say("\nrumpk: hostile: NOT CONTAINED (read succeeded)\n")
        case .writeHypervisor:
            Rumpk<P>.say("writing the hypervisor's read-only SysTable page\n")
            P.store(UInt64(UInt(bitPattern: t)), 0xDEAD_BEEF)
            Rumpk<P>.say("rumpk: hostile: NOT CONTAINED (write succeeded)\n")
        case .touchUnassignedMMIO:
            Rumpk<P>.say("touching unassigned MMIO at "); Rumpk<P>.hex(P.unassignedMMIO); Rumpk<P>.say("\n")
            P.store(P.unassignedMMIO, 0x41)
            Rumpk<P>.say("rumpk: hostile: NOT CONTAINED (MMIO write succeeded)\n")
        case .badSBIPointer:
            Rumpk<P>.say("console write with pointers outside my RAM\n")
            let e1 = P.consoleWriteRaw(address: 0x1000, length: 16)
            let e2 = P.consoleWriteRaw(address: ramEnd &- 8, length: 64)
            let e3 = P.consoleWriteRaw(address: t.pointee.mem.0.base, length: UInt64.max)
            Rumpk<P>.say("rumpk: hostile: bad pointers answered ")
            Rumpk<P>.dec(UInt64(bitPattern: -e1)); Rumpk<P>.say(" ")
            Rumpk<P>.dec(UInt64(bitPattern: -e2)); Rumpk<P>.say(" ")
            Rumpk<P>.dec(UInt64(bitPattern: -e3)); Rumpk<P>.say(" (negated)\n")
        case .unknownSBI:
            Rumpk<P>.say("calling unknown extensions\n")
            let (e1, _) = P.rawCall(0x0BAD_CAFE, 0, 0, 0, 0)
            let (e2, _) = P.rawCall(0x10, 99, 0, 0, 0)
            Rumpk<P>.say("rumpk: hostile: unknown calls answered -")
            Rumpk<P>.dec(UInt64(bitPattern: -e1)); Rumpk<P>.say(" -")
            Rumpk<P>.dec(UInt64(bitPattern: -e2)); Rumpk<P>.say("\n")
        case .spinForever:
            Rumpk<P>.say("spinning forever without yielding\n")
            while true {}
        case .wfiForever:
            Rumpk<P>.say("waiting for an interrupt that never comes\n")
            P.waitForever()
        case .noSyndromeAccess:
            Rumpk<P>.say("storing a register pair to the interrupt controller (no syndrome)\n")
            if P.noSyndromeAccess() { Rumpk<P>.say("rumpk: hostile: NOT CONTAINED (the store returned)\n") }
            else { Rumpk<P>.say("rumpk: hostile: no such access on this architecture\n") }
        case .el2Register:
            Rumpk<P>.say("writing a hypervisor system register\n")
            if P.el2Register() { Rumpk<P>.say("rumpk: hostile: NOT CONTAINED (the write returned)\n") }
            else { Rumpk<P>.say("rumpk: hostile: no such register on this architecture\n") }
        case .illegalInstruction:
            Rumpk<P>.say("executing an illegal instruction\n")
            P.illegalInstruction()
            Rumpk<P>.say("rumpk: hostile: NOT CONTAINED (illegal instruction ran)\n")
        }
        // Non-fatal attempts end the instance so `all` moves on to the next one.
        if all { P.exit(1) }
    }
}
