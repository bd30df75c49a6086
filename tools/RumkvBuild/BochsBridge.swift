// BochsBridge: the byte plumbing between Bochs's COM1 and its users.
//
// `SerialLink` is the loopback TCP port Bochs's COM1 (`mode=socket-client`)
// connects to; `ConsoleSocketServer` offers that console on a Unix socket for
// `rumkv ctl`, one client at a time like QEMU's `server=on,wait=off` (output
// with no client attached is dropped); `Terminal` puts the user's terminal in
// raw mode and watches for the Ctrl-A x escape that stops Bochs (Ctrl-] is
// Rumkv's own key for leaving a guest console); `TailBuffer` keeps the last
// output so a run can be judged by what the console printed.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin portable wrappers over the BSD socket calls the bridge uses.
enum Sockets {
    static func stream(_ family: Int32) -> Int32 {
        #if os(Linux)
        socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socket(family, SOCK_STREAM, 0)
        #endif
    }

    /// Sends all of `d`; false if the peer is gone (never raises SIGPIPE).
    @discardableResult
    static func sendAll(_ fd: Int32, _ d: Data) -> Bool {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return d.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = send(fd, raw.baseAddress! + off, raw.count - off, flags)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
    }

    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    /// Waits up to `ms` for `fd` to become readable.
    static func readable(_ fd: Int32, _ ms: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, ms) > 0
    }
}

/// The loopback TCP endpoint Bochs's COM1 connects to. Listening starts before
/// Bochs does, so its connect always finds us.
final class SerialLink: @unchecked Sendable {
    let port: UInt16
    private let lock = NSLock()
    private var listener: Int32
    private var connection: Int32 = -1
    private let connected = DispatchSemaphore(value: 0)

    private init(listener: Int32, port: UInt16) { self.listener = listener; self.port = port }

    /// Listens on 127.0.0.1 on a port the kernel picks.
    static func make() throws -> SerialLink {
        let fd = Sockets.stream(AF_INET)
        guard fd >= 0 else { throw BuildError("cannot create a socket for Bochs's serial line (errno \(errno))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            let e = errno
            Sockets.close(fd)
            throw BuildError("cannot listen on a loopback port for Bochs's serial line (errno \(e))")
        }
        return SerialLink(listener: fd, port: UInt16(bigEndian: addr.sin_port))
    }

    /// Accepts Bochs's connection (giving up when `alive` turns false), then
    /// hands every chunk received to `deliver` until Bochs closes the line.
    func pump(while alive: () -> Bool, _ deliver: (Data) -> Void) {
        var fd: Int32 = -1
        while alive() {
            if Sockets.readable(listener, 200) { fd = accept(listener, nil, nil); break }
        }
        lock.lock()
        Sockets.close(listener); listener = -1
        connection = fd
        lock.unlock()
        connected.signal()
        guard fd >= 0 else { return }
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            deliver(Data(buf[0..<n]))
        }
        shutDown()
    }

    /// Sends typed bytes, waiting (up to 30 s) for Bochs to connect first.
    func send(_ d: Data) {
        guard !d.isEmpty else { return }
        if connected.wait(timeout: .now() + 30) == .success { connected.signal() }
        lock.lock(); let fd = connection; lock.unlock()
        if fd >= 0 { Sockets.sendAll(fd, d) }
    }

    /// Closes both sockets; later sends are dropped.
    func shutDown() {
        lock.lock()
        if listener >= 0 { Sockets.close(listener); listener = -1 }
        if connection >= 0 { Sockets.close(connection); connection = -1 }
        lock.unlock()
    }
}

/// The console on a Unix socket for `rumkv ctl`: one client at a time (a new
/// one replaces the old), output with no client attached is dropped.
final class ConsoleSocketServer: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var client: Int32 = -1

    init(path: String) throws {
        self.path = path
        unlink(path)
        let fd = Sockets.stream(AF_UNIX)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard fd >= 0, bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            if fd >= 0 { Sockets.close(fd) }
            throw BuildError("cannot create the console socket \(path) (path too long or no sockets)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 && listen(fd, 1) == 0
            }
        }
        guard ok else {
            let e = errno
            Sockets.close(fd)
            throw BuildError("cannot listen on the console socket \(path) (errno \(e))")
        }
        listener = fd
    }

    /// Forwards console output to the attached client, if any.
    func deliver(_ d: Data) {
        lock.lock(); defer { lock.unlock() }
        if client >= 0 && !Sockets.sendAll(client, d) { Sockets.close(client); client = -1 }
    }

    /// Accepts clients and hands what they type to `receive` while `alive`.
    func serve(while alive: () -> Bool, _ receive: (Data) -> Void) {
        var buf = [UInt8](repeating: 0, count: 1024)
        while alive() {
            lock.lock(); let c = client; lock.unlock()
            if Sockets.readable(listener, c >= 0 ? 0 : 100) {
                let fd = accept(listener, nil, nil)
                lock.lock(); if client >= 0 { Sockets.close(client) }; client = fd; lock.unlock()
                continue
            }
            guard c >= 0, Sockets.readable(c, 100) else { continue }
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 {
                lock.lock(); if client == c { Sockets.close(c); client = -1 }; lock.unlock()
            } else {
                receive(Data(buf[0..<n]))
            }
        }
    }

    func close() {
        lock.lock()
        if client >= 0 { Sockets.close(client); client = -1 }
        if listener >= 0 { Sockets.close(listener); listener = -1 }
        lock.unlock()
        unlink(path)
    }
}

/// The controlling terminal in raw mode, bridged to the console.
enum Terminal {
    /// Copies what the user types to `send` while `alive`, in raw mode when
    /// stdin is a terminal. Ctrl-A x returns true (stop); Ctrl-A Ctrl-A sends
    /// one Ctrl-A. Returns false when `alive` turns false.
    static func bridge(while alive: () -> Bool, _ send: (Data) -> Void) -> Bool {
        var saved = termios()
        let isTerminal = isatty(0) != 0 && tcgetattr(0, &saved) == 0
        if isTerminal {
            var raw = saved
            cfmakeraw(&raw)
            tcsetattr(0, TCSANOW, &raw)
        }
        defer { if isTerminal { tcsetattr(0, TCSANOW, &saved) } }
        var buf = [UInt8](repeating: 0, count: 256)
        var escaped = false
        var inputOpen = true
        while alive() {
            guard inputOpen, Sockets.readable(0, 100) else {
                if !inputOpen { usleep(100_000) }
                continue
            }
            let n = read(0, &buf, buf.count)
            if n <= 0 { inputOpen = false; continue }
            var out = Data()
            for b in buf[0..<n] {
                if escaped {
                    escaped = false
                    if b == UInt8(ascii: "x") || b == UInt8(ascii: "X") { send(out); return true }
                    if b == 0x01 { out.append(b) }
                } else if b == 0x01 {
                    escaped = true
                } else {
                    out.append(b)
                }
            }
            send(out)
        }
        return false
    }
}

/// The last few KiB a console printed, to judge how a run ended.
final class TailBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func add(_ d: Data) {
        lock.lock(); defer { lock.unlock() }
        data.append(d)
        if data.count > 4096 { data.removeFirst(data.count - 4096) }
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
