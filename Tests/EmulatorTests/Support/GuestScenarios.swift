// GuestScenarios: guest scenarios that read the same on every architecture.
//
// Each is a function of the architecture (and of the few answers that differ
// by architecture: the unknown-call error, the guest's own fatal-trap line),
// booting its own partition so that no scenario depends on another's order.
// RISCV64GuestTests, AArch64GuestTests and X86_64GuestTests call them; a scenario checks
// several things on one boot where that keeps the slow emulators (Bochs)
// within minutes.

import Foundation
import XCTest
import RumkvBuild

enum GuestScenarios {
    /// Three guests sharing the CPUs: all run and their heartbeats advance;
    /// `info`, `stats`, every lifecycle command with its errors, pause/resume,
    /// stop/start, then `restarts` restarts leave the free memory unchanged.
    /// `exits`: the exit counters that must be non-zero in beta's `info` on this
    /// architecture (how an idle guest shows: wfi traps, or slice ticks where it polls).
    /// `cpu`: a QEMU CPU model other than the default; `bannerLines`: what the banner must also say.
    /// `busyCPUs`: CPUs whose `stats` row must count guest exits (each ran guests);
    /// `alphaLines`: lines alpha's backlog must show once its heartbeats advanced.
    static func runAndManage(_ arch: Arch, smp: Int = 2, cpus: String = "0,1", cpu: String? = nil, bannerLines: [String] = [],
                             restarts: Int, exits nonZero: [String], busyCPUs: [Int] = [], alphaLines: [String] = []) throws {
        let (s, banner) = try ConsoleSession.bootGuests("verbose-three", arch: arch, smp: smp, cpu: cpu,
                                                        harts: smp == 2 ? nil : smp)
        defer { s.terminate() }
        for line in bannerLines { XCTAssertTrue(banner.contains(line), "missing '\(line)' in:\n\(banner)") }
        XCTAssertTrue(banner.contains("Rumkv 0.1.0 (\(arch.rawValue))"), banner)
        XCTAssertTrue(banner.contains("guests: 3 in the boot bundle"), banner)
        XCTAssertTrue(banner.contains("alpha: started") && banner.contains("beta: started"), banner)
        XCTAssertFalse(banner.contains("gamma: started"), "gamma has autostart = false")
        if !busyCPUs.isEmpty { XCTAssertFalse(banner.contains("did not start"), banner) }
        XCTAssertEqual(try s.row("gamma").state, "stopped")
        XCTAssertEqual(try s.command("start gamma"), "gamma: started")

        let list = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(list.map(\.name), ["alpha", "beta", "gamma"])
        XCTAssertEqual(list.map(\.state), ["running", "running", "running"])
        XCTAssertEqual(list.map(\.cpus), [cpus, cpus, cpus])
        XCTAssertEqual(list.map(\.memory), ["4 MiB", "4 MiB", "4 MiB"])
        // Uptime is the time since that guest started, read without -icount: seconds
        // right after boot (not the machine's counter since power-on), gamma's the least.
        let uptimes = list.map { Int($0.uptime.dropLast()) ?? -1 }
        XCTAssertEqual(list.map { $0.uptime.last }, ["s", "s", "s"])
        XCTAssertTrue(uptimes.allSatisfy { (0...120).contains($0) }, "uptimes just after boot: \(uptimes)")
        XCTAssertLessThanOrEqual(uptimes[2], uptimes[0], "gamma started after alpha: \(uptimes)")

        let first = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        let ready = try s.backlog("alpha")
        XCTAssertTrue(ready.contains("rumpk[alpha]: ready (\(arch.rawValue), abi \(abi), restarts 0)"), ready)
        sleep(2)
        let second = try ["alpha", "beta", "gamma"].map { try s.lastHeartbeat($0) }
        for (a, b) in zip(first, second) { XCTAssertGreaterThan(b, a, "heartbeats advance: \(first) -> \(second)") }
        if !alphaLines.isEmpty {
            let alpha = try s.backlog("alpha")
            for line in alphaLines { XCTAssertTrue(alpha.contains(line), "\(line):\n\(alpha)") }
        }

        let info = try s.command("info beta")
        XCTAssertTrue(info.contains("guest 1 'beta': running"), info)
        XCTAssertTrue(info.contains("memory  gpa 0x80000000 size 4 MiB -> host"), info)
        XCTAssertTrue(info.contains("image signed NPL, verified"), info)
        XCTAssertTrue(info.contains("last fault: none"), info)
        let exits = ConsoleParser.exits(info)
        XCTAssertGreaterThan(exits["console"] ?? 0, 0, info)
        for name in nonZero { XCTAssertGreaterThan(exits[name] ?? 0, 0, "\(name) exits on \(arch.rawValue): \(info)") }
        XCTAssertEqual(exits["stage2"], 0, info)
        let stats = try s.command("stats")
        XCTAssertTrue(stats.contains("cpu 0"), stats)
        XCTAssertNotNil(ConsoleParser.stats(stats).counts("beta"), "stats has a row per guest:\n\(stats)")
        for c in busyCPUs {
            let row = ConsoleParser.stats(stats).counts("cpu \(c)") ?? []
            XCTAssertGreaterThan(row.reduce(0, +), 0, "cpu \(c) ran guests:\n\(stats)")
        }

        // Errors.
        XCTAssertEqual(try s.command("start alpha"), "error: guest 'alpha' is already running")
        XCTAssertEqual(try s.command("resume alpha"), "error: guest 'alpha' is not paused")
        XCTAssertEqual(try s.command("stop nosuch"), "error: no guest 'nosuch' (see 'list')")
        XCTAssertEqual(try s.command("stop 7"), "error: no guest '7' (see 'list')")
        XCTAssertEqual(try s.command("stop"), "error: 'stop' needs one guest name or id")
        XCTAssertEqual(try s.command("list all"), "error: 'list' takes no arguments")
        XCTAssertEqual(try s.command("info nosuch"), "error: no guest 'nosuch' (see 'list')")

        // pause: heartbeats stop advancing; resume: they go on.
        XCTAssertEqual(try s.command("pause alpha"), "alpha: paused")
        XCTAssertEqual(try s.row("alpha").state, "paused")
        XCTAssertEqual(try s.command("pause alpha"), "error: guest 'alpha' is not running")
        let p1 = try s.lastHeartbeat("alpha")
        sleep(1)
        XCTAssertEqual(try s.lastHeartbeat("alpha"), p1, "a paused guest does not run")
        XCTAssertEqual(try s.command("resume alpha"), "alpha: resumed")
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), p1)

        // stop frees the guest; start and restart boot fresh instances; none leaks memory.
        let free = try s.freePages()
        XCTAssertEqual(try s.command("stop 1"), "beta: stopped")
        XCTAssertEqual(try s.row("beta").state, "stopped")
        XCTAssertEqual(try s.command("stop beta"), "error: guest 'beta' is already stopped")
        XCTAssertGreaterThan(try s.freePages().now, free.now, "a stopped guest's memory is free")
        XCTAssertEqual(try s.command("start beta"), "beta: started")
        for i in 0..<restarts {
            let name = ["beta", "gamma"][i % 2]
            XCTAssertEqual(try s.command("restart \(name)", timeout: 10), "\(name): restarted", "cycle \(i)")
        }
        let row = try s.waitFor("beta") { $0.state == "running" }
        XCTAssertEqual(row.restarts, (restarts + 1) / 2)
        XCTAssertEqual(try s.freePages().now, free.now, "free pages after \(restarts) restarts")
        sleep(1)
        let log = try s.backlog("beta")
        XCTAssertTrue(log.contains("[rumkv: new instance]"), "the backlog marks new instances:\n\(log)")
        XCTAssertTrue(log.contains("rumpk[beta]: ready (\(arch.rawValue), abi \(abi), restarts \((restarts + 1) / 2))"), log)
        XCTAssertEqual(try s.row("alpha").restarts, 0, "the others were not touched")
        let after = try ["alpha", "beta"].map { Int(try s.row($0).uptime.dropLast()) ?? -1 }
        XCTAssertGreaterThanOrEqual(after[0], uptimes[0], "alpha's uptime went on")
        XCTAssertLessThanOrEqual(after[1], after[0], "beta's uptime counts from its restart: \(after)")
        try ConsoleBehaviour.checkShutdown(s)
    }

    /// What the hostile scenario's answers look like on one architecture.
    struct HostileAnswers {
        /// The error both unknown calls get, as the guest prints it.
        var unknownCall: String
        /// The guest's own report of the illegal instruction.
        var fatalTrap: String
        /// The unassigned MMIO address the guest touches, as printed.
        var mmio: String
    }

    /// The hostile guest tries every attack in turn (one instance each); each
    /// is contained and reported, and the other guests keep running.
    static func hostile(_ arch: Arch, _ answers: HostileAnswers, smp: Int = 2) throws {
        let (s, _) = try ConsoleSession.bootGuests("hostile", arch: arch, smp: smp)
        defer { s.terminate() }
        let before = try s.lastHeartbeat("alpha")
        let evil = try s.waitFor("evil", timeout: 40) { $0.restarts >= 6 }
        XCTAssertEqual(evil.state, "running", "the last instance spins forever, time-sliced")
        sleep(1)
        let log = try s.backlog("evil")
        XCTAssertTrue(log.contains("hostile: console write with pointers outside my RAM"), log)
        XCTAssertTrue(log.contains("bad pointers answered 5 5 5 (negated)"), "the address error for each bad buffer:\n\(log)")
        XCTAssertTrue(log.contains("unknown calls answered \(answers.unknownCall) \(answers.unknownCall)"), log)
        XCTAssertTrue(log.contains("hostile: reading past my RAM"), log)
        XCTAssertTrue(log.contains("hostile: writing the hypervisor's read-only SysTable page"), log)
        XCTAssertTrue(log.contains("hostile: touching unassigned MMIO at \(answers.mmio)"), log)
        XCTAssertTrue(log.contains("hostile: executing an illegal instruction"), log)
        XCTAssertTrue(log.contains(answers.fatalTrap), "the guest's own handler saw the illegal instruction:\n\(log)")
        XCTAssertTrue(log.contains("hostile: spinning forever without yielding"), log)
        XCTAssertFalse(log.contains("NOT CONTAINED"), log)

        let info = try s.command("info evil")
        let exits = ConsoleParser.exits(info)
        XCTAssertEqual(exits["stage2"], 3, "three stage-2 faults (read, write, MMIO):\n\(info)")
        XCTAssertGreaterThan(exits["tick"] ?? 0, 10, "the spinning instance is preempted by the slice timer")
        XCTAssertTrue(info.contains("last fault: guest reported a crash"), info)

        // Sleeping forever is contained too: the guest just never runs again.
        XCTAssertTrue(try s.backlog("sleeper").contains("waiting for an interrupt that never comes"))
        XCTAssertEqual(try s.row("sleeper").state, "running")
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), before + 2, "alpha kept running during the attacks")
        XCTAssertGreaterThan(try s.lastHeartbeat("beta"), 2)
        XCTAssertEqual(try s.row("alpha").restarts, 0)
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0 arch \(arch.rawValue)"), "the hypervisor console still answers")
    }

    /// restart = "never": a crashed guest stays crashed with its fault recorded.
    static func neverRestart(_ arch: Arch) throws {
        let (s, _) = try ConsoleSession.bootGuests("never", arch: arch, smp: 1)
        defer { s.terminate() }
        let row = try s.waitFor("once") { $0.state == "crashed" }
        XCTAssertEqual(row.restarts, 0)
        let info = try s.command("info once")
        XCTAssertTrue(info.contains("last fault: guest reported a crash"), info)
        XCTAssertTrue(info.contains("restart policy never"), info)
        XCTAssertEqual(try s.command("stop once"), "once: stopped")
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("steady"), 0)
    }

    /// A tampered image and an unsigned one are refused; the other guests run.
    static func tamperedImages(_ arch: Arch) throws {
        try requireEmulator(arch)
        let images = try TestImages.images(arch)
        let bundleURL = try Builder(root: TestImages.root).bundle(config: try TestConfigs.url("verbose-three", arch: arch), images: images, arch: arch)
        var data = try Data(contentsOf: bundleURL)
        let (_, guests) = try BundleWriter.parse(data)
        let beta = Int(guests[1].image_offset), gamma = Int(guests[2].image_offset)
        data[beta + 128 + 100] ^= 0x01                      // one bit of beta's kernel body
        data[gamma] = 0x00                                  // gamma's NPL magic
        let tampered = images.directory.appendingPathComponent("bundle-tampered.bin")
        try data.write(to: tampered)
        var o = EmulatorOptions()
        o.bundle = tampered
        let s = try ConsoleSession.boot(arch, images, options: o)
        defer { s.terminate() }
        let boot = try s.expect("rumkv> ", timeout: 60)
        XCTAssertTrue(boot.contains("alpha: started"), boot)
        XCTAssertTrue(boot.contains("error: guest 'beta' image refused: signature does not verify with a trusted key"), boot)
        XCTAssertEqual(try s.command("start gamma"), "error: guest 'gamma' image refused: not a signed NPL image (bad magic)")
        XCTAssertEqual(try s.command("start beta"), "error: guest 'beta' image refused: signature does not verify with a trusted key")
        let rows = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(rows.map(\.state), ["running", "refused", "refused"])
        XCTAssertTrue(try s.command("info alpha").contains("image signed NPL, verified"))
        sleep(1)
        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), 0)
    }

    /// Every guest spins without yielding; the console still answers and
    /// guests can still be stopped and restarted, because slices are preemptive.
    static func consoleWhileSpinning(_ arch: Arch) throws {
        let (s, _) = try ConsoleSession.bootGuests("spinners", arch: arch)
        defer { s.terminate() }
        sleep(1)
        for _ in 0..<5 {
            XCTAssertTrue(try s.command("version", timeout: 5).contains("Rumkv 0.1.0"))
        }
        let info = ConsoleParser.exits(try s.command("info spin2"))
        XCTAssertGreaterThan(info["tick"] ?? 0, 5, "spinning vCPUs are preempted by the slice timer")
        XCTAssertEqual(try s.command("stop spin1", timeout: 5), "spin1: stopped")
        XCTAssertEqual(try s.command("restart spin2", timeout: 5), "spin2: restarted")
        XCTAssertEqual(ConsoleParser.guests(try s.command("list")).map(\.state), ["stopped", "running", "running"])
    }

    /// Typed input reaches the attached guest, and Ctrl-] gives the console back.
    static func typedInput(_ arch: Arch) throws {
        let (s, _) = try ConsoleSession.bootGuests("echo", arch: arch)
        defer { s.terminate() }
        s.send("console echoer\r")
        try s.expect("echo: ready", timeout: 20)
        s.send("hello rumkv\r")
        try s.expect("echo: HELLO RUMKV", timeout: 10)
        s.send("quit\r")
        try s.expect("echo: bye", timeout: 10)
        s.send("\u{1D}")
        try s.expect("[detached]", timeout: 10)
        try s.expect("rumkv> ", timeout: 5)
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0"), "the shell has the console again")
    }

    /// The attack suite (Guest/Kernel/Attacks.swift plus the port's cases):
    /// at least `minimumCases` distinct attempts, each with one "contained"
    /// verdict (a fatal one by the fault the next instance reads from its
    /// SysTable, a call by its exact error), `fatal` of them ending an
    /// instance, the lines of `expected` among them, while the others run on.
    static func attackSuite(_ arch: Arch, minimumCases: Int, fatal: Int, expected: [String]) throws {
        let (s, _) = try ConsoleSession.bootGuests("attacks", arch: arch)
        defer { s.terminate() }
        let before = try s.lastHeartbeat("alpha")
        // Follow evil's console from its first instance: the suite prints more than a backlog holds.
        XCTAssertEqual(try s.command("start evil"), "evil: started")
        s.send("console evil\r")
        let log = try s.expect("rumpk: attacks: done", timeout: 150).replacingOccurrences(of: "\r", with: "")
        s.send("\u{1D}")
        _ = try s.expect("rumkv> ", timeout: 10)

        let cases = try XCTUnwrap(log.components(separatedBy: "rumpk: attacks: ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) }, "the suite announces its size:\n\(log)")
        XCTAssertGreaterThanOrEqual(cases, minimumCases)
        let lines = log.components(separatedBy: "\n")
        var names = Set<String>()
        for i in 0..<cases {
            let tag = String(format: "rumpk: attack %02d ", i)
            let verdicts = lines.filter { $0.contains(tag) && $0.contains(": contained (") }
            XCTAssertEqual(verdicts.count, 1, "attack \(i) has one 'contained' verdict:\n\(lines.filter { $0.contains(tag) })")
            if let v = verdicts.first, let r = v.range(of: tag) {
                names.insert(String(v[r.upperBound...].prefix { $0 != ":" }))
            }
        }
        XCTAssertEqual(names.count, cases, "every case is a distinct attack")
        XCTAssertFalse(log.contains("NOT CONTAINED"), log)
        for line in expected { XCTAssertTrue(log.contains(line), "missing '\(line)' in:\n\(log)") }

        XCTAssertGreaterThan(try s.lastHeartbeat("alpha"), before, "alpha kept running during the attacks")
        XCTAssertGreaterThan(try s.lastHeartbeat("beta"), 0)
        XCTAssertEqual(try s.row("alpha").restarts, 0)
        XCTAssertEqual(try s.row("beta").restarts, 0)
        let evil = try s.row("evil")
        XCTAssertEqual(evil.state, "running", "the last instance runs on as a normal guest")
        XCTAssertGreaterThanOrEqual(evil.restarts, fatal, "one instance per fatal attack")
        XCTAssertTrue(try s.command("version").contains("Rumkv 0.1.0 arch \(arch.rawValue)"), "hypervisor console still answers")
        XCTAssertNil(Soak.panicReport(s.transcript), "the hypervisor never trapped in its own code")
    }
}
