// VConsole: a guest's virtual console.
//
// Output the guest writes is kept in a ring of the last `capacity` bytes (the
// backlog `console <guest>` shows first); input typed while attached waits in a
// small ring until the guest reads it. Fixed size, no heap; the oldest output
// is overwritten, never the hypervisor's memory.

public struct VConsole {
    public static let capacity = 4096
    public static let inputCapacity = 64

    var out: InlineArray<4096, UInt8> = .init(repeating: 0)
    var outHead = 0          // next write position
    public private(set) var outCount = 0
    /// Total bytes the guest ever wrote (for stats).
    public private(set) var written: UInt64 = 0

    var input: InlineArray<64, UInt8> = .init(repeating: 0)
    var inHead = 0
    var inCount = 0

    public init() {}

    public mutating func put(_ b: UInt8) {
        out[outHead] = b
        outHead = (outHead + 1) % VConsole.capacity
        if outCount < VConsole.capacity { outCount += 1 }
        written &+= 1
    }

    /// Calls `body` with every backlog byte, oldest first.
    public mutating func forEachBacklog(_ body: (UInt8) -> Void) {
        var i = (outHead + VConsole.capacity - outCount) % VConsole.capacity
        for _ in 0..<outCount {
            body(out[i])
            i = (i + 1) % VConsole.capacity
        }
    }

    /// Queues a typed byte for the guest; false (byte dropped) when full.
    @discardableResult
    public mutating func pushInput(_ b: UInt8) -> Bool {
        guard inCount < VConsole.inputCapacity else { return false }
        input[(inHead + inCount) % VConsole.inputCapacity] = b
        inCount += 1
        return true
    }

    /// A typed byte is waiting.
    public var hasInput: Bool { inCount > 0 }

    public mutating func popInput() -> UInt8? {
        guard inCount > 0 else { return nil }
        let b = input[inHead]
        inHead = (inHead + 1) % VConsole.inputCapacity
        inCount -= 1
        return b
    }
}
