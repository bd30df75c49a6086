// ListRegisterTests: more virtual interrupts pending than a vCPU has list
// registers (4). The extra ones stay pending, `fill` asks for the underflow
// maintenance interrupt, and a refill after the guest frees registers places
// them; no INTID is ever in two list registers.

import XCTest
@testable import AArch64Decoders

final class ListRegisterTests: XCTestCase {
    func intids(_ l: ListRegisters) -> [UInt32] {
        (0..<ListRegisters.count).compactMap { ListRegister(raw: l.lr[$0]).isEmpty ? nil : ListRegister(raw: l.lr[$0]).intid }
    }

    /// The guest takes and completes every pending interrupt (pending -> active -> gone).
    func guestHandlesAll(_ l: inout ListRegisters) {
        for i in 0..<ListRegisters.count where ListRegister(raw: l.lr[i]).isPending { l.lr[i] = 0 }
    }

    func testEncoding() {
        let sgi = ListRegister.make(1)
        XCTAssertEqual(sgi.raw, 0x50A0_0000_0000_0001, "pending, group 1, priority 0xA0, vINTID 1")
        XCTAssertFalse(sgi.isHardware)
        let spi = ListRegister.make(48, physical: 48)
        XCTAssertEqual(spi.raw, 0x70A0_0030_0000_0030, "HW = 1 linked to physical SPI 48")
        XCTAssertEqual(spi.physical, 48)
        XCTAssertEqual(ListRegister.make(27, physical: 0xFFFF_FFFF).physical, 0x3FF, "pINTID is 10 bits")
    }

    func testEverythingFitsNoMaintenance() {
        var l = ListRegisters()
        var priv: UInt64 = 1 << 0 | 1 << 1, spis: UInt64 = 1 << 16
        XCTAssertFalse(l.fill(privatePending: &priv, spiPending: &spis))
        XCTAssertEqual(priv, 0)
        XCTAssertEqual(spis, 0)
        XCTAssertEqual(intids(l), [0, 1, 48])
    }

    func testOverflowStaysPendingAndIsRefilled() {
        // Two SGIs, the timer already in a register, and three device SPIs: six for four registers.
        var l = ListRegisters()
        XCTAssertTrue(l.queue(.make(27, physical: 27)))
        var priv: UInt64 = 1 << 0 | 1 << 1
        var spis: UInt64 = 1 << 16 | 1 << 17 | 1 << 18
        XCTAssertTrue(l.fill(privatePending: &priv, spiPending: &spis), "some remain: ask for the underflow interrupt")
        XCTAssertEqual(intids(l).sorted(), [0, 1, 27, 48])
        XCTAssertEqual(priv, 0, "SGIs go first")
        XCTAssertEqual(spis, 1 << 17 | 1 << 18, "SPIs 49 and 50 wait")
        XCTAssertFalse(l.queue(.make(5)), "all four taken")

        // The guest takes everything; the maintenance exit refills.
        guestHandlesAll(&l)
        XCTAssertFalse(l.fill(privatePending: &priv, spiPending: &spis), "all placed now")
        XCTAssertEqual(intids(l), [49, 50])
        XCTAssertTrue(ListRegister(raw: l.lr[0]).isHardware)
        XCTAssertEqual(spis, 0)
    }

    func testPartialRefillKeepsAsking() {
        var l = ListRegisters()
        var priv: UInt64 = 0, spis: UInt64 = 0x3F          // six SPIs
        XCTAssertTrue(l.fill(privatePending: &priv, spiPending: &spis))
        XCTAssertEqual(spis, 1 << 4 | 1 << 5)
        l.lr[2] = 0                                       // the guest completed one
        XCTAssertTrue(l.fill(privatePending: &priv, spiPending: &spis), "one still waits")
        XCTAssertEqual(intids(l), [32, 33, 36, 35])
        XCTAssertEqual(spis, 1 << 5)
    }

    func testNoINTIDTwice() {
        var l = ListRegisters()
        XCTAssertTrue(l.queue(.make(1)))
        XCTAssertTrue(l.queue(.make(1)), "already pending: nothing to add")
        XCTAssertEqual(intids(l), [1])

        // The guest acknowledged it (active) and it is raised again: active and pending, same register.
        l.lr[0] = l.lr[0] & ~ListRegister.pending | ListRegister.active
        XCTAssertTrue(l.queue(.make(1)))
        XCTAssertEqual(intids(l), [1])
        XCTAssertEqual(l.lr[0] >> 62, 3, "active and pending")

        // A hardware interrupt being handled cannot pend again: left alone.
        XCTAssertTrue(l.queue(.make(40, physical: 40)))
        l.lr[1] = l.lr[1] & ~ListRegister.pending | ListRegister.active
        let before = l.lr[1]
        XCTAssertTrue(l.queue(.make(40, physical: 40)))
        XCTAssertEqual(l.lr[1], before)
        XCTAssertEqual(intids(l), [1, 40])
    }

    func testAnyPending() {
        var l = ListRegisters()
        XCTAssertFalse(l.anyPending)
        _ = l.queue(.make(3))
        XCTAssertTrue(l.anyPending)
        l.lr[0] = l.lr[0] & ~ListRegister.pending | ListRegister.active
        XCTAssertFalse(l.anyPending, "active only")
    }
}
