// ControlClient: driving the hypervisor console from scripts (`rumkv ctl`).
//
// The emulator exposes the Rumkv console on a Unix socket (`rumkv run
// --console-socket PATH`). The client connects, returns the console to the
// shell (Ctrl-] detaches a console, Ctrl-U clears a half-typed line), sends one
// command, and reads up to the next `rumkv> ` prompt. Replies are the console
// text; `ConsoleParser` turns the tabular ones into records for --json.

import Foundation

public final class ControlClient {
    let fd: Int32

    /// Connects to the console socket at `path`.
    public init(socketPath path: String, timeout: TimeInterval = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BuildError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd); throw BuildError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if r == 0 { break }
            if Date() > deadline {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw BuildError("cannot connect to the console socket \(path): \(reason) (is `rumkv run --console-socket \(path)` running?)")
            }
            usleep(100_000)
        }
    }

    deinit { close(fd) }

    func write(_ s: String) throws {
        let bytes = Array(s.utf8)
        for b in bytes {
            var c = b
            guard Foundation.write(fd, &c, 1) == 1 else { throw BuildError("console socket closed") }
            usleep(1500)
        }
    }

    /// Reads until `needle` arrives or the timeout passes.
    func read(until needle: String, timeout: TimeInterval) throws -> String {
        var data = Data()
        let n = Data(needle.utf8)
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.range(of: n) == nil {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw BuildError("no prompt from the hypervisor within \(Int(timeout)) s; got:\n" + String(decoding: data, as: UTF8.self))
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left, 0.2) * 1000))
            if r > 0 {
                let got = Foundation.read(fd, &buf, buf.count)
                if got <= 0 { throw BuildError("console socket closed by the emulator") }
                data.append(contentsOf: buf[0..<got])
            }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Drains whatever the console printed so far.
    func drain() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0, Foundation.read(fd, &buf, buf.count) > 0 else { return }
        }
    }

    /// Runs one console command and returns its reply (without echo and prompt).
    public func run(_ command: String, timeout: TimeInterval = 10) throws -> String {
        guard !command.contains("\r"), !command.contains("\n") else { throw BuildError("one command per call") }
        try write("\u{1D}\u{15}")          // leave an attached console; clear the line
        drain()
        try write(command + "\r")
        let text: String
        do { text = try read(until: "\nrumkv> ", timeout: timeout) } catch {
            // `shutdown` ends the emulator, and with it the socket: that is success.
            if command.trimmingCharacters(in: .whitespaces) == "shutdown" { return "rumkv: powering off" }
            throw error
        }
        return ConsoleParser.reply(text, command: command)
    }
}

/// Turns console replies into structured records.
public enum ConsoleParser {
    /// The reply text between the echoed command and the next prompt.
    public static func reply(_ raw: String, command: String) -> String {
        var lines = raw.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
        if let i = lines.firstIndex(where: { $0.hasSuffix(command) }) { lines.removeFirst(i + 1) }
        if let last = lines.last, last.hasPrefix("rumkv> ") || last.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The first `error:` line of a reply, if any.
    public static func error(_ reply: String) -> String? {
        reply.components(separatedBy: "\n").first { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) }
    }

    public struct GuestRow: Codable, Equatable {
        public var id: Int
        public var name: String
        public var state: String
        public var vcpus: Int
        public var cpus: String
        public var memory: String
        public var restarts: Int
        public var uptime: String
    }

    /// Parses the `list` table.
    public static func guests(_ reply: String) -> [GuestRow] {
        reply.components(separatedBy: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 9, let id = Int(f[0]), let vcpus = Int(f[3]), let restarts = Int(f[7]) else { return nil }
            return GuestRow(id: id, name: f[1], state: f[2], vcpus: vcpus, cpus: f[4],
                            memory: f[5] + " " + f[6], restarts: restarts, uptime: f[8])
        }
    }

    /// The `stats` table: its column labels and, per row label ("alpha", "cpu 1"), one count
    /// per column. A row whose count of numbers differs from the header's is left out, so a
    /// caller that needs a row learns it is missing instead of reading a short one.
    public struct StatsTable: Equatable {
        public var columns: [String] = []
        public var rows: [(label: String, counts: [UInt64])] = []

        public func counts(_ label: String) -> [UInt64]? { rows.first { $0.label == label }?.counts }

        public static func == (a: StatsTable, b: StatsTable) -> Bool {
            a.columns == b.columns && a.rows.map(\.label) == b.rows.map(\.label) && a.rows.map(\.counts) == b.rows.map(\.counts)
        }
    }

    /// Parses the `stats` reply (header "guest  call  ...", guest rows, then "cpu N" rows).
    public static func stats(_ reply: String) -> StatsTable {
        var t = StatsTable()
        for line in reply.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let first = f.first else { continue }
            if first == "guest" && t.columns.isEmpty { t.columns = Array(f.dropFirst()); continue }
            guard !t.columns.isEmpty, first != "free" else { continue }
            let labelWords = (first == "cpu" && f.count > 1) ? 2 : 1
            let nums = f.dropFirst(labelWords).compactMap { UInt64($0) }
            guard nums.count == t.columns.count, f.count == labelWords + nums.count else { continue }
            t.rows.append((f.prefix(labelWords).joined(separator: " "), nums))
        }
        return t
    }

    /// Parses `key=value` pairs on the `exits` line of `info`.
    public static func exits(_ reply: String) -> [String: UInt64] {
        guard let line = reply.components(separatedBy: "\n").first(where: { $0.hasPrefix("  exits") }) else { return [:] }
        var r: [String: UInt64] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let kv = pair.split(separator: "=")
            if kv.count == 2, let v = UInt64(kv[1]) { r[String(kv[0])] = v }
        }
        return r
    }
}
