// PinningTests: a pinned guest owns its harts; the config check enforces it.

import XCTest
@testable import RumkvBuild

final class PinningTests: XCTestCase {
    func testPinnedNeedsAHartPerVCPU() {
        XCTAssertEqual(configErrors(partitionHead + guest("rt", "vcpus = 2\nharts = [1]\npinned = true")),
                       ["p.toml:10: guest 'rt': field 'harts': a pinned guest needs a hart per vCPU: 2 vCPUs but only 1 hart ([1])"])
        XCTAssertEqual(configErrors(partitionHead + guest("rt", "vcpus = 2\nharts = [0, 1]\npinned = true")), [])
    }

    func testTwoPinnedGuestsMayNotShare() {
        let text = partitionHead + guest("a", "harts = [0, 1]\npinned = true") + guest("b", "harts = [1]\npinned = true")
        XCTAssertEqual(configErrors(text), ["p.toml:15: guest 'b': field 'harts': hart 1 is already pinned to guest 'a' (line 5)"])
    }

    func testUnpinnedGuestMayNotUseAPinnedHart() {
        let text = partitionHead + guest("rt", "harts = [1]\npinned = true") + guest("alpha", "harts = [0, 1]")
        XCTAssertEqual(configErrors(text),
                       ["p.toml:15: guest 'alpha': field 'harts': hart 1 is pinned to guest 'rt'; an unpinned guest may not run on it"])
    }

    func testDefaultHartsCollideWithPinnedHart() {
        let text = partitionHead + guest("rt", "harts = [1]\npinned = true") + guest("alpha")
        XCTAssertEqual(configErrors(text), [
            "p.toml:11: guest 'alpha': field 'harts': hart 1 is pinned to guest 'rt'; an unpinned guest may not run on it"
                + " (without 'harts' a guest may run on every hart; list the free ones, e.g. harts = [0])",
        ])
    }

    func testNoHartLeftForUnpinnedGuests() {
        let text = partitionHead + guest("rt", "vcpus = 2\npinned = true") + guest("alpha")
        XCTAssertEqual(configErrors(text), [
            "p.toml:11: guest 'alpha': field 'harts': hart 0 is pinned to guest 'rt'; an unpinned guest may not run on it (no hart is left for unpinned guests)",
            "p.toml:11: guest 'alpha': field 'harts': hart 1 is pinned to guest 'rt'; an unpinned guest may not run on it (no hart is left for unpinned guests)",
        ])
    }

    func testPinnedWithDefaultHartsOwnsThemAll() throws {
        let c = try parseConfig(partitionHead + guest("rt", "vcpus = 2\npinned = true"))
        XCTAssertEqual(c.guests[0].harts, [0, 1])
    }

    func testPinnedNeedsHartsWhenThePartitionDoesNotCountThem() {
        let head = "[partition]\nname = \"p\"\narch = \"riscv64\"\n"
        XCTAssertEqual(configErrors(head + guest("rt", "pinned = true")),
                       ["p.toml:4: guest 'rt': field 'harts': a pinned guest must list its harts when [partition] does not set 'harts'"])
        XCTAssertEqual(configErrors(head + guest("rt", "harts = [3]\npinned = true") + guest("a")), [
            "p.toml:10: guest 'a': field 'harts': hart 3 is pinned to guest 'rt'; an unpinned guest may not run on it"
                + " (without 'harts' a guest may run on every hart; list the ones it may use)",
        ])
    }

    func testBrokenGuestDoesNotAddPinningNoise() {
        let text = partitionHead + guest("rt", "harts = [1]\npinned = true\nvcpus = 99") + guest("alpha")
        XCTAssertEqual(configErrors(text), ["p.toml:11: guest 'rt': field 'vcpus': 99 is out of range 1...8"])
    }
}
