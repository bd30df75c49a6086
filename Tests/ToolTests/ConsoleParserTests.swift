// ConsoleParserTests: the tests read the console's tables through these parsers,
// so a parser that loses a row must say so instead of handing back a short one.

import XCTest
import RumkvBuild

final class ConsoleParserTests: XCTestCase {
    static let stats = """
        guest           hypercall  console    timer      tick       wfi        ipi/cpu    stage2     fault      other      mmio       irq        \r
        alpha           12         30         4          9          2          0          0          0          0          0          0          \r
        rt              7          1          2          3          4          5          6          7          8          9          10         \r
        cpu 0           1          30         4          9          2          0          0          0          0          0          1          \r
        cpu 1           0          1          2          3          4          5          6          7          8          9          10         \r
        free memory 100 MiB (25600 pages; 25700 at boot)\r
        """

    func testStatsRowsByLabel() {
        let t = ConsoleParser.stats(Self.stats)
        XCTAssertEqual(t.columns.count, 11)
        XCTAssertEqual(t.columns.first, "hypercall")
        XCTAssertEqual(t.rows.map(\.label), ["alpha", "rt", "cpu 0", "cpu 1"])
        XCTAssertEqual(t.counts("cpu 1"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        XCTAssertEqual(t.counts("alpha")?.first, 12)
        XCTAssertNil(t.counts("cpu 2"))
    }

    func testAShortOrGarbledRowIsMissingNotShort() {
        let cut = Self.stats.replacingOccurrences(of: "cpu 1           0          1", with: "cpu 1           0")
            .replacingOccurrences(of: "rt              7", with: "rt              x")
        let t = ConsoleParser.stats(cut)
        XCTAssertNil(t.counts("cpu 1"))
        XCTAssertNil(t.counts("rt"))
        XCTAssertNotNil(t.counts("alpha"))
    }

    func testNoHeaderNoRows() {
        XCTAssertEqual(ConsoleParser.stats("error: something\nalpha 1 2 3\n").rows.count, 0)
    }
}
