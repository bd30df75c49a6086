// ConsoleSession+Guests: reading a booted partition's guests from the console.
//
// The backlog of a guest (attach, wait, detach), its heartbeats, its `list`
// row and the free memory `stats` reports: what the emulator tests and
// `rumkv soak` check, through the same commands a person types.

import Foundation

extension ConsoleSession {
    /// The guest's console backlog, read by attaching and detaching.
    public func backlog(_ guest: String) throws -> String {
        send("console \(guest)\r")
        try expect("Ctrl-] returns to rumkv>]", timeout: 10)
        usleep(300_000)
        send("\u{1D}")
        let text = try expect("[detached]", timeout: 10)
        try expect("rumkv> ", timeout: 5)
        // "\r\n" is one Character in Swift: drop the CRs so lines split on "\n".
        return text.replacingOccurrences(of: "\r", with: "")
    }

    /// Highest heartbeat number in a guest's backlog, or -1 if none.
    public func lastHeartbeat(_ guest: String) throws -> Int {
        let text = try backlog(guest)
        var best = -1
        for line in text.components(separatedBy: "\n") {
            if let r = line.range(of: "rumpk[\(guest)]: heartbeat ") {
                let digits = line[r.upperBound...].prefix { $0.isNumber }
                if let n = Int(digits) { best = max(best, n) }
            }
        }
        return best
    }

    /// The `list` row of `guest`.
    public func row(_ guest: String) throws -> ConsoleParser.GuestRow {
        let rows = ConsoleParser.guests(try command("list"))
        guard let r = rows.first(where: { $0.name == guest }) else {
            throw BuildError("no row for \(guest) in list; transcript:\n\(transcript)")
        }
        return r
    }

    /// Polls `list` until `guest` satisfies `condition` or the timeout passes.
    public func waitFor(_ guest: String, timeout: TimeInterval = 20, _ condition: (ConsoleParser.GuestRow) -> Bool) throws -> ConsoleParser.GuestRow {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try row(guest)
            if condition(r) { return r }
            if Date() > deadline { throw BuildError("timed out waiting on \(guest): last row \(r)") }
            usleep(300_000)
        }
    }

    /// Free pages reported by `stats` ("free memory ... (N pages; M at boot)").
    public func freePages() throws -> (now: Int, boot: Int) {
        let s = try command("stats")
        guard let line = s.components(separatedBy: "\n").first(where: { $0.hasPrefix("free memory") }),
              let open = line.firstIndex(of: "(") else { throw BuildError("no free memory line in:\n\(s)") }
        let nums = line[open...].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard nums.count >= 2 else { throw BuildError("cannot parse \(line)") }
        return (nums[0], nums[1])
    }
}
