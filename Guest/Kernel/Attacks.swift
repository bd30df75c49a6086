// Attacks: the attack suite a hostile test guest walks through, one case
// after another, next to well-behaved guests (test_payload = "attacks").
//
// Each case is something a guest must not be able to do. The portable cases
// come from the SysTable (the guest's own RAM, the read-only SysTable and
// device table pages, the channel window, Rumkv's own hypercalls); a port
// adds its platform's MMIO map, privileged instructions and its firmware
// calls through `HostilePort.portAttack`. A case is either
//
//  - fatal: the hypervisor must stop the instance (a stage-2 fault, a
//    hypervisor-only instruction). The guest restarts (restart = "on-crash")
//    and the next instance checks SysTable.last_fault against what was tried:
//    kind, access and address. Instance k therefore starts after the k-th
//    fatal case; or
//  - answered: a call with hostile arguments that must come back with one
//    exact error, checked at once.
//
// Every case prints "rumpk: attack NN name: ..." with its verdict,
// "contained (...)" or "NOT CONTAINED (...)", and the last instance prints
// "rumpk: attacks: done, N cases" and then runs as a normal Rumpk guest.

import RumABI

public struct Attack {
    public enum Action {
        case load(UInt64)
        case store(UInt64)
        case execute(UInt64)
        /// A firmware or hypervisor call that must answer `expect`.
        case call(ext: UInt64, fid: UInt64, a0: UInt64, a1: UInt64, a2: UInt64, expect: Int64)
        /// A Rumkv hypercall (RUM_HC_*) that must answer `expect`.
        case hypercall(fid: UInt32, a0: UInt64, a1: UInt64, expect: Int64)
        /// Port instruction `id` (HostilePort.attackInstruction), which must end
        /// the instance with fault `fault` (RUM_FAULT_*) and, if not nil, that detail.
        case instruction(id: Int, fault: UInt32, detail: UInt64?)
    }

    public let name: StaticString
    public let action: Action

    public init(_ name: StaticString, _ action: Action) { self.name = name; self.action = action }

    var isFatal: Bool {
        switch action {
        case .call, .hypercall: false
        case .load, .store, .execute, .instruction: true
        }
    }
}

/// What the attack cases need to know about the guest, from its SysTable.
public struct AttackContext {
    public let ramBase: UInt64
    public let ramEnd: UInt64
    public let sysTable: UInt64
    public let devTable: UInt64
}

public enum Attacks<P: GuestPort & HostilePort> {
    /// Cases every port runs.
    static var portableCount: Int { 16 }

    static func portable(_ i: Int, _ c: AttackContext) -> Attack? {
        let addressError = Int64(RUM_HC_ERR_ADDRESS), invalid = Int64(RUM_HC_ERR_INVALID)
        switch i {
        case 0: return Attack("ram-end-load", .load(c.ramEnd))
        case 1: return Attack("ram-end-store", .store(c.ramEnd))
        case 2: return Attack("ram-end-execute", .execute(c.ramEnd))
        case 3: return Attack("far-above-ram", .load(c.ramBase &+ 0x1000_0000))
        case 4: return Attack("below-systable", .load(c.sysTable &- 0x1000))
        case 5: return Attack("systable-store", .store(c.sysTable))
        case 6: return Attack("devtable-store", .store(c.devTable))
        case 7: return Attack("systable-execute", .execute(c.sysTable))
        case 8: return Attack("channel-window", .load(RUM_GUEST_CHANNEL_GPA))
        case 9: return Attack("hc-console-null", .hypercall(fid: RUM_HC_CONSOLE_WRITE, a0: 0x1000, a1: 16, expect: addressError))
        case 10: return Attack("hc-console-past-ram", .hypercall(fid: RUM_HC_CONSOLE_WRITE, a0: c.ramEnd &- 8, a1: 64, expect: addressError))
        case 11: return Attack("hc-console-wrap", .hypercall(fid: RUM_HC_CONSOLE_WRITE, a0: c.ramBase, a1: UInt64.max, expect: addressError))
        case 12: return Attack("hc-console-systable", .hypercall(fid: RUM_HC_CONSOLE_WRITE, a0: c.sysTable, a1: 16, expect: addressError))
        case 13: return Attack("hc-doorbell-unowned", .hypercall(fid: RUM_HC_DOORBELL, a0: 0, a1: 0, expect: invalid))
        case 14: return Attack("hc-doorbell-huge", .hypercall(fid: RUM_HC_DOORBELL, a0: 1 << 40, a1: 0, expect: invalid))
        case 15: return Attack("hc-unknown-function", .hypercall(fid: 77, a0: 0, a1: 0, expect: Int64(RUM_HC_ERR_UNSUPPORTED)))
        default: return nil
        }
    }

    static func attack(_ i: Int, _ c: AttackContext) -> Attack? {
        i < portableCount ? portable(i, c) : P.portAttack(i - portableCount, c)
    }

    static func say(_ s: StaticString) { Console<P>.say(s) }

    /// "rumpk: attack NN name: ".
    static func begin(_ i: Int, _ a: Attack) {
        say("rumpk: attack ")
        if i < 10 { say("0") }
        Console<P>.dec(UInt64(i)); say(" "); say(a.name); say(": ")
    }

    public static func run(_ t: UnsafePointer<SysTable>) {
        let ram = t.pointee.mem.0
        let c = AttackContext(ramBase: ram.base, ramEnd: ram.base &+ ram.size,
                              sysTable: UInt64(UInt(bitPattern: t)), devTable: t.pointee.devtable)
        // Where this instance starts: after the k-th fatal case.
        let k = t.pointee.restart_count
        var i = 0, fatalSeen: UInt32 = 0
        while fatalSeen < k, let a = attack(i, c) {
            if a.isFatal { fatalSeen += 1 }
            i += 1
        }
        if k == 0 {
            var n = 0
            while attack(n, c) != nil { n += 1 }
            say("rumpk: attacks: "); Console<P>.dec(UInt64(n)); say(" cases\n")
        } else if fatalSeen == k, let previous = attack(i - 1, c) {
            verify(i - 1, previous, t)
        }
        while let a = attack(i, c) {
            begin(i, a)
            perform(a)
            i += 1
        }
        say("rumpk: attacks: done, "); Console<P>.dec(UInt64(i)); say(" cases\n")
    }

    /// Makes the attempt; returns only for answered cases (and uncontained fatal ones).
    static func perform(_ a: Attack) {
        switch a.action {
        case .load(let address):
            say("load "); Console<P>.hex(address); say("\n")
            let v = P.load(address)
            uncontained("the load returned "); Console<P>.hex(v); say(")\n")
            P.exit(1)
        case .store(let address):
            say("store "); Console<P>.hex(address); say("\n")
            P.store(address, 0x5555)
            uncontained("the store went through"); say(")\n")
            P.exit(1)
        case .execute(let address):
            say("jump to "); Console<P>.hex(address); say("\n")
            P.execute(address)
            uncontained("the jump returned"); say(")\n")
            P.exit(1)
        case .instruction(let id, _, _):
            say("instruction\n")
            P.attackInstruction(id)
            uncontained("the instruction ran"); say(")\n")
            P.exit(1)
        case .call(let ext, let fid, let a0, let a1, let a2, let expect):
            let (e, _) = P.rawCall(ext, fid, a0, a1, a2)
            answered(e, expect)
        case .hypercall(let fid, let a0, let a1, let expect):
            answered(P.rumkvCall(fid, a0, a1), expect)
        }
    }

    static func uncontained(_ why: StaticString) { say("rumpk: attack: NOT CONTAINED ("); say(why) }

    static func answered(_ e: Int64, _ expect: Int64) {
        if e == expect {
            say("contained (answered "); Console<P>.signed(e); say(")\n")
        } else {
            say("NOT CONTAINED (answered "); Console<P>.signed(e); say(", expected "); Console<P>.signed(expect); say(")\n")
        }
    }

    /// The previous instance tried fatal case `i`: did the hypervisor stop it there?
    static func verify(_ i: Int, _ a: Attack, _ t: UnsafePointer<SysTable>) {
        let kind = t.pointee.last_fault, access = t.pointee.last_fault_access, address = t.pointee.last_fault_address
        var ok: Bool
        switch a.action {
        case .load(let x): ok = kind == RUM_FAULT_STAGE2 && access == RUM_ACCESS_READ && address == x
        case .store(let x): ok = kind == RUM_FAULT_STAGE2 && access == RUM_ACCESS_WRITE && address == x
        case .execute(let x): ok = kind == RUM_FAULT_STAGE2 && access == RUM_ACCESS_EXECUTE && address == x
        case .instruction(_, let fault, let detail): ok = kind == fault && (detail == nil || detail == address)
        case .call, .hypercall: ok = false
        }
        begin(i, a)
        say(ok ? "contained (" : "NOT CONTAINED (previous instance ended with ")
        switch kind {
        case RUM_FAULT_NONE: say("no fault")
        case RUM_FAULT_STAGE2:
            say("stage-2 fault, ")
            say(access == RUM_ACCESS_READ ? "read" : access == RUM_ACCESS_WRITE ? "write" : "execute")
        case RUM_FAULT_VIRTUAL_INSTRUCTION: say("virtual instruction")
        case RUM_FAULT_ILLEGAL_INSTRUCTION: say("illegal instruction")
        case RUM_FAULT_CRASH_REPORT: say("its own crash report")
        default: say("fault "); Console<P>.dec(UInt64(kind))
        }
        say(" at "); Console<P>.hex(address); say(")\n")
    }
}
