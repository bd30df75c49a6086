// VConsoleTests: the backlog keeps the newest bytes; input is bounded.

import XCTest
@testable import RumkvCore

final class VConsoleTests: XCTestCase {
    func backlog(_ c: inout VConsole) -> [UInt8] {
        var out: [UInt8] = []
        c.forEachBacklog { out.append($0) }
        return out
    }

    func testBacklogKeepsTheLastBytes() {
        var c = VConsole()
        for b in Array("hello".utf8) { c.put(b) }
        XCTAssertEqual(backlog(&c), Array("hello".utf8))
        for i in 0..<(VConsole.capacity + 10) { c.put(UInt8(i % 251)) }
        let kept = backlog(&c)
        XCTAssertEqual(kept.count, VConsole.capacity)
        XCTAssertEqual(kept.last, UInt8((VConsole.capacity + 9) % 251))
        XCTAssertEqual(kept.first, UInt8(10 % 251), "the oldest bytes were overwritten")
        XCTAssertEqual(c.written, UInt64(5 + VConsole.capacity + 10))
    }

    func testInputRingIsBounded() {
        var c = VConsole()
        for i in 0..<VConsole.inputCapacity { XCTAssertTrue(c.pushInput(UInt8(i))) }
        XCTAssertFalse(c.pushInput(0xFF), "a full input ring drops the byte and says so")
        for i in 0..<VConsole.inputCapacity { XCTAssertEqual(c.popInput(), UInt8(i)) }
        XCTAssertNil(c.popInput())
    }
}
