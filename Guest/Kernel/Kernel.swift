// Kernel: Rumpk's portable entry, generic over the guest port.
//
// Rumpk is a single-address-space unikernel that runs as a Rumkv guest. The
// port's assembly entry calls `Rumpk<Port>.main` with the SysTable address
// the hypervisor passed. The kernel checks the SysTable (magic, revision,
// size) and refuses to run on a mismatch, prints its one ready line (the
// silence doctrine) and then runs. A verbose guest also prints a heartbeat
// line every half second of guest time.

import RumABI

/// What Rumpk needs from the machine it runs on (a guest port).
public protocol GuestPort {
    /// Architecture name for the ready line.
    static var name: StaticString { get }
    /// Writes bytes to the guest console (a hypercall on every port).
    static func consoleWrite(_ bytes: UnsafeRawBufferPointer)
    /// Stops this guest for good: code 0 is a clean shutdown, others a crash.
    static func exit(_ code: UInt64) -> Never
    /// The guest's time counter.
    static func counter() -> UInt64
    /// Sleeps until the counter reaches `deadline` (timer + wait for interrupt).
    static func sleep(until deadline: UInt64)
    /// Arms the guest timer for `deadline` (UInt64.max disarms).
    static func setTimer(_ deadline: UInt64)
    /// Installs the guest's own trap handler (faults are reported, then exit).
    static func installTrapHandler()
}

public enum Rumpk<P: GuestPort & HostilePort> {
    public static func main(sysTable address: UInt64) -> Never {
        P.installTrapHandler()
        guard let t = validSysTable(address) else {
            say("rumpk: no valid SysTable at "); hex(address); say(": refusing to run\n")
            P.exit(1)
        }
        let table = t.pointee
        sayName(table); say("ready ("); say(P.name); say(", abi "); dec(UInt64(table.revision))
        say(", restarts "); dec(UInt64(table.restart_count)); say(")\n")
        if table.reserved.0 != 0 { Hostile<P>.run(table.reserved.0, t) }
        let verbose = table.flags & RUM_SYSTABLE_F_VERBOSE != 0
        let period = max(table.timebase_hz / 2, 1)
        var beat: UInt64 = 0
        var next = P.counter() + period
        while true {
            P.sleep(until: next)
            next += period
            beat += 1
            if verbose { sayName(table); say("heartbeat "); dec(beat); say("\n") }
        }
    }

    /// The SysTable, if the address holds one this kernel understands.
    static func validSysTable(_ address: UInt64) -> UnsafePointer<SysTable>? {
        guard address != 0, address & 7 == 0,
              let p = UnsafePointer<SysTable>(bitPattern: UInt(address)) else { return nil }
        guard p.pointee.magic == RUM_SYSTABLE_MAGIC,
              UInt32(p.pointee.revision) == RUM_ABI_REVISION,
              Int(p.pointee.size) == MemoryLayout<SysTable>.size else { return nil }
        return p
    }

    static func sayName(_ t: SysTable) {
        say("rumpk[")
        withUnsafeBytes(of: t.name) { n in
            var len = 0
            while len < n.count && n[len] != 0 && n[len] >= 0x20 && n[len] < 0x7F { len += 1 }
            P.consoleWrite(UnsafeRawBufferPointer(rebasing: n[0..<len]))
        }
        say("]: ")
    }

    public static func say(_ s: StaticString) {
        s.withUTF8Buffer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }

    public static func dec(_ v: UInt64) {
        var buf: InlineArray<20, UInt8> = .init(repeating: 0)
        var n = 0, x = v
        repeat { buf[19 - n] = UInt8(x % 10) + 48; x /= 10; n += 1 } while x > 0
        buf.span.withUnsafeBufferPointer { P.consoleWrite(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0[(20 - n)...]))) }
    }

    public static func hex(_ v: UInt64) {
        var buf: InlineArray<18, UInt8> = .init(repeating: 0)
        buf[0] = 48; buf[1] = 120
        for i in 0..<16 {
            let d = UInt8((v >> UInt64(60 - 4 * i)) & 0xF)
            buf[2 + i] = d < 10 ? d + 48 : d + 87
        }
        buf.span.withUnsafeBufferPointer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }
}
