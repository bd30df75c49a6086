// FakeArch: an Architecture for host tests whose console is a byte array.
//
// `consoleWrite` appends to `output`; `consoleRead` pops from `input`. The
// power-off and halt hooks must never return, so they stop the test process:
// tests do not call them (no `shutdown`, no `refuse`).

import RumkvCore

enum FakeArch: Architecture {
    nonisolated(unsafe) static var output: [UInt8] = []
    nonisolated(unsafe) static var input: [UInt8] = []

    static var name: StaticString { "fake" }
    static func consoleWrite(_ byte: UInt8) { output.append(byte) }
    static func consoleRead() -> UInt8? { input.isEmpty ? nil : input.removeFirst() }
    static func relax() {}
    static func counter() -> UInt64 { 0 }
    static var counterFrequency: UInt64 { 1_000_000 }
    static func powerOff() -> Never { fatalError("FakeArch.powerOff: tests must not power off") }
    static func halt() -> Never { fatalError("FakeArch.halt: tests must not halt") }
    static func provokeTrap() {}

    /// Runs `body` and returns what it wrote to the console.
    static func capture(_ body: () -> Void) -> String {
        output.removeAll()
        body()
        defer { output.removeAll() }
        return String(decoding: output, as: UTF8.self)
    }
}
