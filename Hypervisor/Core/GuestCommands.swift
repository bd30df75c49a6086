// GuestCommands: the console commands that manage guests.
//
// A command line is parsed into a `GuestCommand` (name, argument count, guest
// resolved by name or id), then run. Each command checks the guest exists and
// that the request fits its state before changing anything, and answers a
// misfit with one `error:` line. The reports (list, info, ...) are in
// GuestReports.swift.

import RumABI

/// A guest-management command and the guest it names.
enum GuestCommand {
    case list, stats, devices, channels
    case info(Int), start(Int), stop(Int), restart(Int), pause(Int), resume(Int), console(Int)
}

enum GuestCommands<A: GuestHosting> {
    typealias M = Machine<A>
    typealias O = Out<A>

    /// Runs `w` if it is a guest command; false if not one of ours.
    static func run(_ w: Words) -> Bool {
        switch parse(w) {
        case .notOurs: return false
        case .refused: return true
        case .command(let c): execute(c); return true
        }
    }

    enum Parsed { case notOurs, refused, command(GuestCommand) }

    /// Parses a line; a malformed line of ours prints its `error:` line (`.refused`).
    static func parse(_ w: Words) -> Parsed {
        if w.word(0, is: "list") { return args(w, 0) ? .command(.list) : .refused }
        if w.word(0, is: "stats") { return args(w, 0) ? .command(.stats) : .refused }
        if w.word(0, is: "devices") { return args(w, 0) ? .command(.devices) : .refused }
        if w.word(0, is: "channels") { return args(w, 0) ? .command(.channels) : .refused }
        let make: (Int) -> GuestCommand
        if w.word(0, is: "info") { make = { .info($0) } }
        else if w.word(0, is: "start") { make = { .start($0) } }
        else if w.word(0, is: "stop") { make = { .stop($0) } }
        else if w.word(0, is: "restart") { make = { .restart($0) } }
        else if w.word(0, is: "pause") { make = { .pause($0) } }
        else if w.word(0, is: "resume") { make = { .resume($0) } }
        else if w.word(0, is: "console") { make = { .console($0) } }
        else { return .notOurs }
        guard args(w, 1), let g = resolve(w) else { return .refused }
        return .command(make(g))
    }

    static func execute(_ c: GuestCommand) {
        switch c {
        case .list: list()
        case .stats: stats()
        case .devices: listDevices()
        case .channels: listChannels()
        case .info(let g): info(g)
        case .start(let g): start(g)
        case .stop(let g): stop(g)
        case .restart(let g): restart(g)
        case .pause(let g): pause(g)
        case .resume(let g): resume(g)
        case .console(let g): ConsoleService<A>.attach(g)
        }
    }

    static func args(_ w: Words, _ n: Int) -> Bool {
        guard w.count != n + 1 else { return true }
        O.str("error: '"); O.printable(w[0])
        if n == 0 { O.line("' takes no arguments") } else { O.line("' needs one guest name or id") }
        return false
    }

    static func resolve(_ w: Words) -> Int? {
        let m = M.shared
        for g in 0..<m.pointee.guestCount where m.pointee.guests[g].nameIs(w[1]) { return g }
        if let id = w.number(1), id < UInt64(m.pointee.guestCount) { return Int(id) }
        O.str("error: no guest '"); O.printable(w[1]); O.line("' (see 'list')")
        return nil
    }

    static func fail(_ g: Int, _ reason: StaticString) {
        O.str("error: guest '")
        M.shared.pointee.guests[g].withName { O.printable($0) }
        O.str("' "); O.line(reason)
    }

    /// "error: guest 'x' image refused: <reason>".
    static func refusedLine(_ g: Int) {
        O.str("error: guest '")
        M.shared.pointee.guests[g].withName { O.printable($0) }
        O.str("' image ")
        O.line(M.shared.pointee.guests[g].refusal?.text ?? "refused")
    }

    static func done(_ g: Int, _ what: StaticString) {
        M.shared.pointee.guests[g].withName { O.printable($0) }
        O.str(": "); O.line(what)
    }

    static func start(_ g: Int) {
        let m = M.shared
        BigLock<A>.acquire()
        let st = m.pointee.guests[g].state
        if st == .refused {
            BigLock<A>.release(); refusedLine(g); return
        }
        guard st == .stopped || st == .crashed, m.pointee.pending[g] == .none else {
            BigLock<A>.release()
            fail(g, st == .paused ? "is paused (use resume)" : st == .starting ? "is starting" : "is already running")
            return
        }
        m.pointee.destroy(g)
        let job: GuestBuild
        do { job = try m.pointee.reserve(g, builder: A.currentCPU()) } catch {
            BigLock<A>.release()
            if error == .refused { refusedLine(g) } else { fail(g, error.reason) }
            return
        }
        BigLock<A>.release()
        job.fill()                              // outside the lock: the other CPUs keep running
        BigLock<A>.acquire()
        do { try m.pointee.finish(g) } catch {
            BigLock<A>.release(); fail(g, error.reason); return
        }
        m.pointee.settle(g)
        BigLock<A>.release()
        done(g, "started")
    }

    /// Records `action` and waits (bounded) until the guest's vCPUs have left
    /// every CPU and the action is carried out. False if that took too long:
    /// the action stays recorded and is carried out when they leave.
    static func requestAndSettle(_ g: Int, _ action: PendingAction) -> Bool {
        let m = M.shared
        BigLock<A>.acquire()
        m.pointee.request(g, action)
        kickGuest(g)
        BigLock<A>.release()
        let deadline = A.counter() + A.counterFrequency / 2
        while A.counter() < deadline {
            BigLock<A>.acquire()
            if m.pointee.pending[g] != .none { m.pointee.settle(g) }
            let settled = m.pointee.pending[g] == .none
            BigLock<A>.release()
            if settled { return true }
            A.relax()
        }
        return false
    }

    static func stop(_ g: Int) {
        let m = M.shared
        BigLock<A>.acquire()
        let st = m.pointee.guests[g].state
        guard st == .running || st == .paused || st == .crashed || st == .starting else {
            BigLock<A>.release(); fail(g, "is already stopped"); return
        }
        if st == .crashed && m.pointee.guests[g].ramHost == 0 && m.pointee.pending[g] == .none {
            m.pointee.guests[g].state = .stopped
            BigLock<A>.release(); done(g, "stopped"); return
        }
        BigLock<A>.release()
        if requestAndSettle(g, .stop) { done(g, "stopped") } else { pendingLine(g, "stop") }
    }

    static func restart(_ g: Int) {
        let st = M.shared.pointee.guests[g].state
        if st == .stopped || st == .crashed {
            start(g); return
        }
        guard requestAndSettle(g, .restart) else { pendingLine(g, "restart"); return }
        let now = M.shared.pointee.guests[g].state
        if now == .running || now == .starting { done(g, "restarted") } else { fail(g, LifecycleError.outOfMemory.reason) }
    }

    /// "x: stop pending: a vCPU has not left its CPU yet; it happens when it does".
    static func pendingLine(_ g: Int, _ what: StaticString) {
        M.shared.pointee.guests[g].withName { O.printable($0) }
        O.str(": "); O.str(what)
        O.line(" pending: a vCPU has not left its CPU yet (see 'list')")
    }

    /// Makes every CPU running guest `g` leave it now. Lock held.
    static func kickGuest(_ g: Int) {
        let m = M.shared
        for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g && m.pointee.vcpus[k].runningOn >= 0 {
            m.pointee.kick(k)
        }
    }

    static func pause(_ g: Int) {
        BigLock<A>.acquire()
        guard M.shared.pointee.guests[g].state == .running else { BigLock<A>.release(); fail(g, LifecycleError.notRunning.reason); return }
        M.shared.pointee.guests[g].state = .paused
        kickGuest(g)
        BigLock<A>.release()
        done(g, "paused")
    }

    static func resume(_ g: Int) {
        BigLock<A>.acquire()
        guard M.shared.pointee.guests[g].state == .paused else { BigLock<A>.release(); fail(g, LifecycleError.notPaused.reason); return }
        M.shared.pointee.guests[g].state = .running
        BigLock<A>.release()
        done(g, "resumed")
    }
}
