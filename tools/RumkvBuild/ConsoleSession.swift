// ConsoleSession: drives a booted image's serial console from a program.
//
// Starts the emulator with the console on pipes, collects everything it
// prints, and offers `send` and `expect(_:timeout:)` so tests and `rumkv ctl`
// can type commands and wait for replies. Every wait has a deadline, so a hung
// guest or hypervisor fails fast with the transcript instead of blocking.

import Foundation

public final class ConsoleSession: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let lock = NSLock()
    var buffer = Data()
    /// Offset in `buffer` up to which `expect` has consumed output.
    var consumed = 0
    public let arch: Arch
    /// Files to delete when the session ends.
    var cleanup: [URL] = []
    /// Where the console bytes come from when the emulator writes them elsewhere (Bochs).
    var socketReader: ((ConsoleSession) -> Void)?
    var socketWriter: ((Data) -> Void)?

    init(arch: Arch) { self.arch = arch }

    /// Boots `images` under the emulator for `arch`.
    public static func boot(_ arch: Arch, _ images: Images, options: EmulatorOptions = EmulatorOptions()) throws -> ConsoleSession {
        try Emulator.validate(options)
        switch arch {
        case .riscv64, .aarch64:
            let s = ConsoleSession(arch: arch)
            s.process.executableURL = URL(fileURLWithPath: try Emulator.locate(arch))
            s.process.arguments = Emulator.qemuArguments(arch, images, options, interactive: false)
            try s.start()
            return s
        case .x86_64:
            return try BochsSession.boot(images, options: options)
        }
    }

    func start() throws {
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.append(d)
        }
        try process.run()
    }

    func append(_ d: Data) {
        lock.lock(); buffer.append(d); lock.unlock()
    }

    /// Everything the console printed so far.
    public var transcript: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Types `text` into the console, one byte at a time with a short gap
    /// (emulated UARTs have tiny receive FIFOs).
    public func send(_ text: String, gapMicroseconds: UInt32 = 2000) {
        for b in text.utf8 {
            let d = Data([b])
            if let w = socketWriter { w(d) } else { try? input.fileHandleForWriting.write(contentsOf: d) }
            usleep(gapMicroseconds)
        }
    }

    /// Sends a command line and waits for the reply up to the next prompt;
    /// returns the reply text without the echoed command and the prompt.
    public func command(_ line: String, timeout: TimeInterval = 10) throws -> String {
        send(line + "\r")
        let text = try expect("rumkv> ", timeout: timeout)
        var lines = text.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
        if let first = lines.first, first.hasSuffix(line) { lines.removeFirst() }
        if let last = lines.last, last.hasPrefix("rumkv> ") || last.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Waits until `needle` appears after what earlier calls consumed; returns
    /// the text up to and including it. Throws with the transcript on timeout
    /// or if the emulator exits first.
    @discardableResult
    public func expect(_ needle: String, timeout: TimeInterval = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let n = Data(needle.utf8)
        while true {
            lock.lock()
            let from = consumed
            let found = buffer.range(of: n, in: from..<buffer.count)
            if let r = found {
                let text = String(decoding: buffer[from..<r.upperBound], as: UTF8.self)
                consumed = r.upperBound
                lock.unlock()
                return text
            }
            lock.unlock()
            if !process.isRunning {
                usleep(100_000)
                lock.lock(); let again = buffer.range(of: n, in: from..<buffer.count); lock.unlock()
                if again != nil { continue }
                throw BuildError("emulator exited (status \(process.terminationStatus)) before printing '\(needle)'. Transcript:\n\(transcript)")
            }
            if Date() > deadline {
                throw BuildError("timed out after \(Int(timeout)) s waiting for '\(needle)'. Transcript:\n\(transcript)")
            }
            usleep(20_000)
        }
    }

    /// Waits for the emulator to exit; returns false on timeout.
    public func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    public var isRunning: Bool { process.isRunning }

    /// Stops the emulator if it still runs and removes temporary files.
    public func terminate() {
        if process.isRunning {
            process.terminate()
            _ = waitForExit(timeout: 3)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        output.fileHandleForReading.readabilityHandler = nil
        for f in cleanup { try? FileManager.default.removeItem(at: f) }
    }

    deinit { terminate() }
}
