// LineEditorTests: the console line editor's keys, limits and echo.
//
// Bytes are fed one at a time as the UART delivers them; `RecordingEcho`
// keeps what the editor echoed so each test can assert the exact terminal
// output alongside the events and the submitted line.

import XCTest
import RumkvCore

enum RecordingEcho: EchoSink {
    nonisolated(unsafe) static var bytes: [UInt8] = []
    static func echo(_ byte: UInt8) { bytes.append(byte) }

    /// Echo since the last call, as a string.
    static func take() -> String {
        defer { bytes.removeAll() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

final class LineEditorTests: XCTestCase {
    typealias Editor = LineEditor<RecordingEcho>

    override func setUp() { RecordingEcho.bytes.removeAll() }

    func feed(_ e: inout Editor, _ s: String) -> [LineEvent] { s.utf8.map { e.feed($0) } }
    func feed(_ e: inout Editor, _ bytes: [UInt8]) -> [LineEvent] { bytes.map { e.feed($0) } }
    func line(_ e: inout Editor) -> String { e.withLine { String(decoding: $0, as: UTF8.self) } }

    func testTypingAndCarriageReturn() {
        var e = Editor()
        XCTAssertEqual(feed(&e, "ls -l"), Array(repeating: .pending, count: 5))
        XCTAssertEqual(e.count, 5)
        XCTAssertEqual(RecordingEcho.take(), "ls -l")
        XCTAssertEqual(e.feed(13), .line)
        XCTAssertEqual(RecordingEcho.take(), "\r\n")
        XCTAssertEqual(line(&e), "ls -l")
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(line(&e), "", "withLine clears the editor")
    }

    func testLineFeedAndCRLFCountOnce() {
        var e = Editor()
        XCTAssertEqual(feed(&e, "a\n"), [.pending, .line])
        XCTAssertEqual(line(&e), "a")
        XCTAssertEqual(feed(&e, "b\r\n"), [.pending, .line, .pending])
        XCTAssertEqual(line(&e), "b")
        XCTAssertEqual(RecordingEcho.take(), "a\r\nb\r\n", "the LF of CR LF is not echoed")
        XCTAssertEqual(feed(&e, "\r\r"), [.line, .line], "two CRs are two lines")
        XCTAssertEqual(feed(&e, "x\n\r"), [.pending, .line, .line], "LF CR is two lines")
        XCTAssertEqual(line(&e), "x")
        XCTAssertEqual(feed(&e, "\nc\n"), [.pending, .pending, .line], "an LF right after a CR is swallowed")
        XCTAssertEqual(line(&e), "c")
    }

    func testBackspaceAtStartAndMidLine() {
        var e = Editor()
        XCTAssertEqual(feed(&e, [8, 127]), [.pending, .pending])
        XCTAssertEqual(RecordingEcho.take(), "", "nothing to erase: no echo")
        _ = feed(&e, "abc")
        _ = RecordingEcho.take()
        XCTAssertEqual(e.feed(8), .pending)
        XCTAssertEqual(RecordingEcho.take(), "\u{8} \u{8}")
        XCTAssertEqual(e.feed(127), .pending, "DEL erases like BS")
        XCTAssertEqual(RecordingEcho.take(), "\u{8} \u{8}")
        _ = feed(&e, "x\r")
        XCTAssertEqual(line(&e), "ax")
    }

    func testCtrlCCancels() {
        var e = Editor()
        _ = feed(&e, "reboot")
        _ = RecordingEcho.take()
        XCTAssertEqual(e.feed(3), .cancelled)
        XCTAssertEqual(RecordingEcho.take(), "^C\r\n")
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(feed(&e, "\r"), [.line])
        XCTAssertEqual(line(&e), "")
    }

    func testCtrlUErasesTheLine() {
        var e = Editor()
        _ = feed(&e, "abc")
        _ = RecordingEcho.take()
        XCTAssertEqual(e.feed(21), .pending)
        XCTAssertEqual(RecordingEcho.take(), String(repeating: "\u{8} \u{8}", count: 3))
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(e.feed(21), .pending)
        XCTAssertEqual(RecordingEcho.take(), "", "empty line: nothing to erase")
    }

    func testOtherControlBytesAreIgnored() {
        var e = Editor()
        let ignored: [UInt8] = [0, 1, 2, 4, 7, 9, 11, 12, 27, 31, 0x80, 0x9B, 0xC3, 0xFF]
        XCTAssertEqual(feed(&e, ignored), Array(repeating: .pending, count: ignored.count))
        XCTAssertEqual(RecordingEcho.take(), "")
        XCTAssertEqual(e.count, 0)
        _ = feed(&e, [UInt8(ascii: "o"), 27, UInt8(ascii: "k"), 13])
        XCTAssertEqual(line(&e), "ok")
    }

    func testExactlyCapacityIsAccepted() {
        XCTAssertEqual(Editor.capacity, 120)
        var e = Editor()
        let full = String(repeating: "x", count: 119) + "y"
        _ = feed(&e, full)
        XCTAssertEqual(e.feed(13), .line)
        XCTAssertEqual(line(&e), full)
        XCTAssertEqual(RecordingEcho.take(), full + "\r\n")
    }

    func testOneMoreIsRejectedAndTheEditorRecovers() {
        var e = Editor()
        let long = String(repeating: "z", count: 121)
        XCTAssertEqual(Set(feed(&e, long)), [.pending])
        XCTAssertEqual(RecordingEcho.take(), String(repeating: "z", count: 120), "the 121st byte is not echoed")
        XCTAssertEqual(feed(&e, "more"), [.pending, .pending, .pending, .pending])
        XCTAssertEqual(e.feed(8), .pending)
        XCTAssertEqual(RecordingEcho.take(), "", "an overlong line ignores input until it ends")
        XCTAssertEqual(e.feed(13), .overflow)
        XCTAssertEqual(RecordingEcho.take(), "\r\n")
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(feed(&e, "help\r"), [.pending, .pending, .pending, .pending, .line])
        XCTAssertEqual(line(&e), "help")
    }

    func testCancellingAnOverlongLine() {
        for key: UInt8 in [3, 21] {
            var e = Editor()
            _ = feed(&e, String(repeating: "q", count: 130))
            _ = e.feed(key)
            _ = feed(&e, "ok")
            XCTAssertEqual(e.feed(13), .line, "key \(key) clears the overflow")
            XCTAssertEqual(line(&e), "ok")
        }
    }
}
