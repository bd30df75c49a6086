// Soak: long runs against a booted partition, `rumkv soak fuzz` and
// `rumkv soak restart`, shared with the emulator tests (which run them short).
//
// fuzz: a guest running the hypercall fuzzer (test_payload "fuzz",
// Guest/Kernel/Fuzz.swift) beside two heartbeating guests; the run follows
// the fuzzer's console until it has made the calls asked for, then checks
// that the others kept their heartbeats and stayed up, and that the console
// answers.
//
// restart: a guest that crashes as soon as it is up (test_payload
// "crash-loop", restart = "on-crash") beside the same two; the run follows its
// console for the cycles asked for, takes each restart's time from the
// guest's own lines (instance k up minus instance k-1 crashing, guest
// counter), stops it and checks that free memory is back to what it was
// before it started.
//
// Either run fails if the hypervisor takes a trap in its own code ("rumkv:
// unexpected trap", printed with the faulting pc), if the console stops
// answering, or if a well-behaved guest stops or restarts.

import Foundation

public struct SoakReport: Sendable {
    /// The lines `rumkv soak` prints.
    public var lines: [String] = []
    /// Why the run failed; empty if it passed.
    public var failures: [String] = []
    public var passed: Bool { failures.isEmpty }

    // fuzz
    public var calls = 0
    /// Result counts as the fuzzer printed them ("ok", "-1", ..., "other", "skipped").
    public var results: [(String, Int)] = []
    // restart
    public var cycles = 0
    /// Restart times in microseconds of guest time, in cycle order.
    public var restartMicros: [Double] = []
    public var freePagesBefore = 0
    public var freePagesAfter = 0
    /// "[rumkv: new instance]" lines seen on the attached console, and chunks with a stray "rumkv> " in them.
    public var newInstanceMarkers = 0
    public var promptsWhileAttached = 0

    public var report: String { lines.joined(separator: "\n") }
}

public enum Soak {
    /// What the hypervisor prints when it traps in its own code (Hypervisor/<arch>/Traps.swift).
    public static let panicMarker = "rumkv: unexpected trap"

    static func boot(_ builder: Builder, _ arch: Arch, _ images: Images, config: String) throws -> ConsoleSession {
        var o = EmulatorOptions()
        o.smp = 2
        o.bundle = try builder.bundle(config: builder.root.appendingPathComponent("configs/soak/\(config).toml"),
                                      images: images, arch: arch)
        let s = try ConsoleSession.boot(arch, images, options: o)
        try s.expect("rumkv> ", timeout: 120)
        return s
    }

    /// The hypervisor's own trap report, from the first marker to the end of its register dump.
    public static func panicReport(_ transcript: String) -> String? {
        guard let r = transcript.range(of: panicMarker) else { return nil }
        return transcript[r.lowerBound...].components(separatedBy: "\n").prefix(11).joined(separator: "\n")
    }

    /// Checks shared by both runs, after the guest under test was detached.
    static func checkTheRest(_ s: ConsoleSession, _ r: inout SoakReport, beats: [String: Int], since start: Date) {
        let elapsed = Date().timeIntervalSince(start)
        for g in ["alpha", "beta"] {
            do {
                let now = try s.lastHeartbeat(g)
                let row = try s.row(g)
                // Heartbeats come every 0.5 s of guest time; ask for half that rate.
                let expected = Int(elapsed)
                r.lines.append("  \(g): heartbeat \(beats[g] ?? -1) -> \(now) in \(String(format: "%.1f", elapsed)) s, \(row.state), \(row.restarts) restarts")
                if now - (beats[g] ?? 0) < max(expected, 1) { r.failures.append("\(g) missed heartbeats: \(beats[g] ?? -1) -> \(now) in \(Int(elapsed)) s") }
                if row.state != "running" || row.restarts != 0 { r.failures.append("\(g) is \(row.state) with \(row.restarts) restarts") }
            } catch {
                r.failures.append("the console stopped answering: \(error)")
                return
            }
        }
        let asked = Date()
        if (try? s.command("version", timeout: 5))?.contains("Rumkv") != true {
            r.failures.append("the console did not answer `version` within 5 s")
        }
        r.lines.append("  console: `version` answered in \(Int(Date().timeIntervalSince(asked) * 1000)) ms")
        if let p = panicReport(s.transcript) { r.failures.append("the hypervisor trapped in its own code:\n\(p)") }
    }

    /// Runs the hypercall fuzzer for at least `calls` calls.
    public static func fuzz(_ builder: Builder, _ arch: Arch, _ images: Images, calls: Int) throws -> SoakReport {
        let s = try boot(builder, arch, images, config: "\(arch.rawValue)-fuzz")
        defer { s.terminate() }
        var r = SoakReport()
        let beats = ["alpha": try s.lastHeartbeat("alpha"), "beta": try s.lastHeartbeat("beta")]
        let start = Date()
        guard try s.command("start fuzzer") == "fuzzer: started" else { throw BuildError("could not start the fuzzer guest") }
        s.send("console fuzzer\r")
        let head = try s.expect("reporting every", timeout: 30)
        let seed = head.range(of: "fuzz: seed ").map { String(head[$0.upperBound...].prefix { $0 != "," }) } ?? "?"
        // Rounds of 10,000 calls; allow 60 s per round before calling it stuck.
        var last = ""
        while r.calls < calls {
            let chunk: String
            do { chunk = try s.expect(" skipped ", timeout: 60) + (try s.expect("\n", timeout: 5)) } catch {
                r.failures.append("the fuzzer stopped reporting after \(r.calls) calls")
                break
            }
            if let p = panicReport(chunk) { r.failures.append("the hypervisor trapped in its own code:\n\(p)"); break }
            guard let line = chunk.components(separatedBy: "\n").last(where: { $0.contains("rumpk: fuzz: ") && $0.contains(" calls: ") }),
                  let n = Int(line.components(separatedBy: "rumpk: fuzz: ").last!.prefix { $0.isNumber }) else { continue }
            r.calls = n
            last = line.replacingOccurrences(of: "\r", with: "")
        }
        s.send("\u{1D}")
        _ = try? s.expect("rumkv> ", timeout: 10)
        let wall = Date().timeIntervalSince(start)
        if let colon = last.range(of: " calls: ") {
            r.results = last[colon.upperBound...].components(separatedBy: ", ").compactMap { item in
                let parts = item.split(whereSeparator: { $0 == " " || $0.isNewline })
                guard parts.count == 2, let n = Int(parts[1]) else { return nil }
                return (String(parts[0]), n)
            }
        }
        r.lines.append("rumkv soak fuzz (\(arch.rawValue)): \(r.calls) calls from seed \(seed) in \(String(format: "%.1f", wall)) s (\(Int(Double(r.calls) / max(wall, 0.001))) calls/s)")
        r.lines.append("  results: " + r.results.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        if let row = try? s.row("fuzzer") {
            r.lines.append("  fuzzer: \(row.state), \(row.restarts) restarts")
            if row.state != "running" || row.restarts != 0 { r.failures.append("the fuzzer guest itself did not survive: \(row.state), \(row.restarts) restarts") }
        }
        checkTheRest(s, &r, beats: beats, since: start)
        r.lines.append(r.passed ? "  PASS" : "  FAIL: " + r.failures.joined(separator: "; "))
        return r
    }

    /// Runs at least `cycles` crash-restart cycles of the crash-loop guest.
    public static func restart(_ builder: Builder, _ arch: Arch, _ images: Images, cycles: Int) throws -> SoakReport {
        let s = try boot(builder, arch, images, config: "\(arch.rawValue)-restart")
        defer { s.terminate() }
        var r = SoakReport()
        r.freePagesBefore = try s.freePages().now
        let beats = ["alpha": try s.lastHeartbeat("alpha"), "beta": try s.lastHeartbeat("beta")]
        let start = Date()
        guard try s.command("start crasher") == "crasher: started" else { throw BuildError("could not start the crash-loop guest") }
        s.send("console crasher\r")
        var up: [Int: UInt64] = [:], down: [Int: UInt64] = [:]
        var hz: UInt64 = 0
        var text = ""
        let deadline = Date().addingTimeInterval(Double(cycles) * 0.2 + 60)
        while up.keys.max() ?? 0 < cycles {
            guard Date() < deadline else { r.failures.append("only \(up.count) instances came up before the deadline"); break }
            let chunk: String
            do { chunk = try s.expect("crashing at ", timeout: 30) + (try s.expect("\n", timeout: 5)) } catch {
                r.failures.append("the crash-loop guest stopped coming back after \(up.count) instances")
                break
            }
            text += chunk
            // While attached, each new instance is marked and the hypervisor's prompt stays out.
            r.newInstanceMarkers += chunk.components(separatedBy: "[rumkv: new instance]").count - 1
            if chunk.contains("rumkv> ") { r.promptsWhileAttached += 1 }
            if let p = panicReport(text) { r.failures.append("the hypervisor trapped in its own code:\n\(p)"); break }
            // Parse only complete lines; keep the unfinished tail.
            var lines = text.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
            text = lines.removeLast()
            for line in lines {
                if let a = line.range(of: "rumpk: soak: instance ") {
                    let words = line[a.upperBound...].split(separator: " ")
                    if words.count >= 6, let k = Int(words[0]), let t = UInt64(words[3]) {
                        up[k] = t
                        hz = UInt64(words[5]) ?? hz   // "up at T (timebase N Hz)"
                    }
                } else if let a = line.range(of: "rumpk: soak: crashing at "), let t = UInt64(line[a.upperBound...].prefix { $0.isNumber }),
                          let k = up.keys.max() {
                    down[k] = t
                }
            }
        }
        s.send("\u{1D}")
        _ = try? s.expect("rumkv> ", timeout: 10)
        _ = try s.command("stop crasher", timeout: 20)
        _ = try? s.waitFor("crasher", timeout: 20) { $0.state == "stopped" }
        r.freePagesAfter = try s.freePages().now
        r.cycles = up.keys.max() ?? 0
        if hz > 0 {
            for k in 1...max(r.cycles, 1) {
                guard let u = up[k], let d = down[k - 1], u > d else { continue }
                r.restartMicros.append(Double(u - d) * 1_000_000 / Double(hz))
            }
        }
        let sorted = r.restartMicros.sorted()
        func us(_ v: Double?) -> String { v.map { String(format: "%.0f us", $0) } ?? "-" }
        r.lines.append("rumkv soak restart (\(arch.rawValue)): \(r.cycles) crash-restart cycles in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        r.lines.append("  restart time (crash to the new instance's first line, guest time): min \(us(sorted.first)), median \(us(sorted.isEmpty ? nil : sorted[sorted.count / 2])), max \(us(sorted.last)) over \(sorted.count) cycles")
        r.lines.append("  free pages: \(r.freePagesBefore) before, \(r.freePagesAfter) after")
        if r.freePagesAfter != r.freePagesBefore { r.failures.append("free memory is not back to its baseline: \(r.freePagesBefore) pages before, \(r.freePagesAfter) after") }
        r.lines.append("  attached console: \(r.newInstanceMarkers) new-instance markers, \(r.promptsWhileAttached) stray prompts")
        if r.newInstanceMarkers < r.cycles { r.failures.append("only \(r.newInstanceMarkers) '[rumkv: new instance]' markers for \(r.cycles) restarts") }
        if r.promptsWhileAttached > 0 { r.failures.append("'rumkv> ' appeared in the attached guest's output") }
        if r.cycles > 0, sorted.count < r.cycles * 9 / 10 { r.failures.append("only \(sorted.count) of \(r.cycles) restarts could be timed") }
        checkTheRest(s, &r, beats: beats, since: start)
        r.lines.append(r.passed ? "  PASS" : "  FAIL: " + r.failures.joined(separator: "; "))
        return r
    }
}
