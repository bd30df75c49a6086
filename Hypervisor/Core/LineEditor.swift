// LineEditor: the console's input line, fed one byte at a time.
//
// It owns a fixed buffer (no heap), echoes what it accepts, handles backspace
// (BS and DEL), Ctrl-U (erase line) and Ctrl-C (cancel), folds CR LF into one
// end of line and rejects an overlong line as a whole instead of overflowing
// or silently truncating it. Echo goes through a closure-free `Echo` sink so
// the same code runs on bare metal and in host tests.

/// Where the editor sends its echo.
public protocol EchoSink {
    static func echo(_ byte: UInt8)
}

/// Outcome of feeding one byte.
public enum LineEvent: Equatable {
    /// Nothing complete yet.
    case pending
    /// A line was submitted; read it with `withLine`.
    case line
    /// The line was longer than the buffer; it has been discarded.
    case overflow
    /// The user cancelled the line (Ctrl-C).
    case cancelled
}

public struct LineEditor<Sink: EchoSink> {
    /// Longest accepted line, in bytes.
    public static var capacity: Int { 120 }

    private var buffer: InlineArray<120, UInt8> = .init(repeating: 0)
    private var length = 0
    private var overflowed = false
    private var lastWasCR = false

    public init() {}

    /// Number of bytes currently in the line.
    public var count: Int { length }

    /// Feeds one input byte and reports whether a line is complete.
    public mutating func feed(_ b: UInt8) -> LineEvent {
        let wasCR = lastWasCR
        lastWasCR = (b == 13)
        switch b {
        case 10 where wasCR:
            return .pending                       // LF after CR: same end of line
        case 10, 13:
            Sink.echo(13); Sink.echo(10)
            if overflowed {
                overflowed = false
                length = 0
                return .overflow
            }
            return .line
        case 8, 127:
            if length > 0 && !overflowed {
                length -= 1
                Sink.echo(8); Sink.echo(32); Sink.echo(8)
            }
            return .pending
        case 3:                                   // Ctrl-C
            length = 0
            overflowed = false
            Sink.echo(UInt8(ascii: "^")); Sink.echo(UInt8(ascii: "C"))
            Sink.echo(13); Sink.echo(10)
            return .cancelled
        case 21:                                  // Ctrl-U
            while length > 0 {
                length -= 1
                Sink.echo(8); Sink.echo(32); Sink.echo(8)
            }
            overflowed = false
            return .pending
        case 32..<127:
            if overflowed { return .pending }
            if length == Self.capacity {
                overflowed = true
                return .pending
            }
            buffer[length] = b
            length += 1
            Sink.echo(b)
            return .pending
        default:
            return .pending                       // other control bytes are ignored
        }
    }

    /// Calls `body` with each byte typed so far (to redraw the line).
    public func forEachByte(_ body: (UInt8) -> Void) {
        for i in 0..<length { body(buffer[i]) }
    }

    /// Gives the submitted line to `body` and clears the editor.
    public mutating func withLine<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let n = length
        length = 0
        return buffer.span.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[0..<n]))
        }
    }
}
