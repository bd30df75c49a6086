// WordsTests: splitting console lines into words and reading numbers.

import XCTest
import RumkvCore

final class WordsTests: XCTestCase {
    func withWords<R>(_ s: String, _ body: (Words) -> R) -> R {
        Array(s.utf8).withUnsafeBufferPointer { body(Words($0)) }
    }

    func list(_ s: String) -> [String] {
        withWords(s) { w in (0..<min(w.count, Words.capacity)).map { String(decoding: w[$0], as: UTF8.self) } }
    }

    func testSplitting() {
        XCTAssertEqual(list("help"), ["help"])
        XCTAssertEqual(list("start  linux"), ["start", "linux"])
        XCTAssertEqual(list("   mem   x    y  "), ["mem", "x", "y"])
        XCTAssertEqual(list(""), [])
        XCTAssertEqual(list("      "), [])
        XCTAssertTrue(withWords("info guest1") { $0.word(0, is: "info") && $0.word(1, is: "guest1") })
        XCTAssertFalse(withWords("info") { $0.word(0, is: "inf") || $0.word(0, is: "infos") || $0.word(1, is: "x") })
    }

    func testWordsBeyondCapacityAreCounted() {
        withWords("a b c d e f g h i j") { w in
            XCTAssertEqual(w.count, 10)
            XCTAssertTrue(w.word(7, is: "h"))
            XCTAssertEqual(w[8].count, 0, "words past the capacity are counted, not kept")
            XCTAssertFalse(w.word(9, is: "j"))
            XCTAssertNil(w.number(9))
            XCTAssertEqual(w[42].count, 0)
        }
        XCTAssertEqual(list("a b c d e f g h"), ["a", "b", "c", "d", "e", "f", "g", "h"])
    }

    func number(_ s: String) -> UInt64? { withWords(s) { $0.number(0) } }

    func testDecimal() {
        XCTAssertEqual(number("0"), 0)
        XCTAssertEqual(number("42"), 42)
        XCTAssertEqual(number("007"), 7)
        XCTAssertEqual(number("18446744073709551615"), UInt64.max)
        XCTAssertNil(number("18446744073709551616"), "overflow")
        XCTAssertNil(number("99999999999999999999"), "overflow")
    }

    func testHex() {
        XCTAssertEqual(number("0x10"), 16)
        XCTAssertEqual(number("0XfF"), 255)
        XCTAssertEqual(number("0x80000000"), 0x8000_0000)
        XCTAssertEqual(number("0xFFFFFFFFFFFFFFFF"), UInt64.max)
        XCTAssertEqual(number("0x0000000000000000001"), 1, "leading zeros do not overflow")
        XCTAssertNil(number("0x10000000000000000"), "overflow")
    }

    func testGarbage() {
        for s in ["0x", "x10", "12a", "-1", "+1", "0x1g", "abc", "1.5", "0b101", "ff", "1_000"] {
            XCTAssertNil(number(s), s)
        }
        XCTAssertNil(withWords("mem") { $0.number(1) }, "missing word")
        XCTAssertEqual(withWords("stop 3") { $0.number(1) }, 3)
    }
}
