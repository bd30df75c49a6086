// OutputTests: console number and size formatting, and LF becoming CR LF.

import XCTest
import RumkvCore

final class OutputTests: XCTestCase {
    typealias O = Out<FakeArch>

    func testLineEndings() {
        XCTAssertEqual(FakeArch.capture { O.line("ready") }, "ready\r\n")
        XCTAssertEqual(FakeArch.capture { O.str("a\nb") }, "a\r\nb")
        XCTAssertEqual(FakeArch.capture { O.byte(10) }, "\r\n")
    }

    func testSizes() {
        let cases: [(UInt64, String)] = [
            (256 << 20, "256 MiB"), (3 << 19, "1.5 MiB"), (4096, "4 KiB"), (17, "17 B"), (2 << 30, "2 GiB"),
            (0, "0 B"), (1023, "1023 B"), (1536, "1 KiB"), (1 << 20, "1 MiB"), (0x1C_0000, "1.7 MiB"),
            ((1 << 30) + (1 << 20), "1025 MiB"), (UInt64.max, "17592186044415.9 MiB"),
        ]
        for (bytes, text) in cases {
            XCTAssertEqual(FakeArch.capture { O.size(bytes) }, text, "\(bytes)")
        }
    }

    func testDecimal() {
        XCTAssertEqual(FakeArch.capture { O.dec(UInt64(0)) }, "0")
        XCTAssertEqual(FakeArch.capture { O.dec(UInt64(10)) }, "10")
        XCTAssertEqual(FakeArch.capture { O.dec(UInt64.max) }, "18446744073709551615")
        XCTAssertEqual(FakeArch.capture { O.dec(-42) }, "-42")
        XCTAssertEqual(FakeArch.capture { O.dec(Int.min) }, "-9223372036854775808")
    }

    func testHex() {
        XCTAssertEqual(FakeArch.capture { O.hex(0xDEAD_BEEF, digits: 8) }, "0xdeadbeef")
        XCTAssertEqual(FakeArch.capture { O.hex(1, digits: 4) }, "0x0001")
        XCTAssertEqual(FakeArch.capture { O.hex(0x8000_0000, digits: 12) }, "0x000080000000")
        XCTAssertEqual(FakeArch.capture { O.hex(UInt64.max) }, "0xffffffffffffffff")
        XCTAssertEqual(FakeArch.capture { O.hex(0x1_2345_6789, digits: 4) }, "0x6789", "only the low digits")
    }

    func testPrintableAndPad() {
        let hostile: [UInt8] = Array("ok".utf8) + [27, 0x9B, 7] + Array("x".utf8) + [0] + Array("hidden".utf8)
        XCTAssertEqual(FakeArch.capture { hostile.withUnsafeBufferPointer { O.printable($0) } }, "ok???x")
        XCTAssertEqual(FakeArch.capture { O.pad(3, to: 6) }, "   ")
        XCTAssertEqual(FakeArch.capture { O.pad(8, to: 6) }, "")
    }
}
