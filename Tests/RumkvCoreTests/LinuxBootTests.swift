// LinuxBootTests: a boot = "linux" guest on the fake port: where its image and
// device tree land, how it is entered, its emulated NS16550 on the exit path and
// the fast path, and what a restart gives the next instance.

import Foundation
import RumABI
@testable import RumkvBuild
@testable import RumkvCore
import XCTest

final class LinuxBootTests: MachineTestCase {
    let ram = RUM_GUEST_RAM_GPA
    let uart: UInt64 = 0x1000_0000

    override func setUpWithError() throws {
        try super.setUpWithError()
        try boot(guest("u", "boot = \"linux\"\nbootargs = \"console=ttyS0\"", memory: "8M") + guest("r"))
        create(0)
        create(1)
        H.calls = []
    }

    func bytes(_ g: Int, gpa: UInt64, _ n: Int) -> [UInt8] {
        let p = UnsafePointer<UInt8>(bitPattern: UInt(m.pointee.guests[g].ramHost + (gpa - ram)))!
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    func access(_ offset: UInt64, write: Bool = false, value: UInt64 = 0, base: UInt64? = nil) -> MMIOAccess {
        MMIOAccess(address: GuestPhysicalAddress((base ?? uart) + offset), width: 1, write: write, value: value,
                   register: 10, signExtend: false, instructionLength: 4)
    }

    /// The guest's tree as the bundle carries it.
    var tree: [UInt8] {
        let c = m.pointee.guests[0].config
        let p = UnsafePointer<UInt8>(bitPattern: UInt(m.pointee.bundle.base + UInt64(c.dtb_offset)))!
        return Array(UnsafeBufferPointer(start: p, count: Int(c.dtb_size)))
    }

    func testImageAtRAMPlus2MiBTreeBelowTheTopAndEntryRegisters() {
        let c = m.pointee.guests[0].config
        XCTAssertEqual(c.boot, RUM_BOOT_LINUX)
        XCTAssertEqual(c.ram_base, ram)
        XCTAssertEqual(c.entry, ram + (2 << 20), "QEMU virt's layout: the image at RAM + 2 MiB")
        XCTAssertEqual(c.dtb_gpa, ram + (6 << 20), "the highest 2 MiB boundary below the end of 8 MiB at which the tree fits")
        XCTAssertEqual(c.uart_gpa, uart)
        XCTAssertEqual(bytes(0, gpa: c.entry, 600), [UInt8](FakeMachine.body(0)), "the verified body at the load address")
        XCTAssertEqual(bytes(0, gpa: ram, 4096), [UInt8](repeating: 0, count: 4096), "nothing below it")
        XCTAssertEqual(bytes(0, gpa: c.dtb_gpa, tree.count), tree, "the device tree copied from the bundle")
        XCTAssertEqual(Array(tree.prefix(4)), [0xD0, 0x0D, 0xFE, 0xED], "an FDT")
        XCTAssertEqual(H.resets(slot(0)).isEmpty, true, "(calls were cleared after create)")
        m.pointee.request(0, .restart)
        buildPending()
        let reset = H.resets(slot(0))
        XCTAssertEqual(reset.map { [$0.entry, $0.arg, $0.vcpu] }, [[c.entry, c.dtb_gpa, 0]], "a0 = hart id, a1 = the tree")
        // A Rumpk guest keeps its protocol: entered at the RAM base with its SysTable.
        XCTAssertEqual(m.pointee.guests[1].config.boot, RUM_BOOT_RUMPK)
        XCTAssertEqual(m.pointee.guests[1].config.entry, ram)
        XCTAssertEqual(m.pointee.guests[1].config.vdevices, 0)
    }

    func testUARTOnTheExitPathReachesTheConsole() {
        for b in "=> ".utf8 {
            XCTAssertTrue(Exits<FakeGuestHost>.handle(.mmio(access(0, write: true, value: UInt64(b))), slot: slot(0), cpu: 0))
        }
        XCTAssertEqual(backlog(0), "=> ")
        H.calls = []
        XCTAssertTrue(Exits<FakeGuestHost>.handle(.mmio(access(5)), slot: slot(0), cpu: 0))
        XCTAssertEqual(H.calls, [.completeMMIO(slot: slot(0), value: 0x60)], "LSR, no vic access")
        m.pointee.consoles[0].pushInput(UInt8(ascii: "v"))
        H.calls = []
        _ = Exits<FakeGuestHost>.handle(.mmio(access(5)), slot: slot(0), cpu: 0)
        _ = Exits<FakeGuestHost>.handle(.mmio(access(0)), slot: slot(0), cpu: 0)
        _ = Exits<FakeGuestHost>.handle(.mmio(access(5)), slot: slot(0), cpu: 0)
        XCTAssertEqual(H.calls, [.completeMMIO(slot: slot(0), value: 0x61), .completeMMIO(slot: slot(0), value: UInt64(UInt8(ascii: "v"))),
                                 .completeMMIO(slot: slot(0), value: 0x60)])
        XCTAssertEqual(m.pointee.guests[0].exits[ExitReason.mmio.rawValue], 7, "three stores, four loads")
        XCTAssertEqual(state(0), .running)
    }

    func testFastPathAnswersOnlyTheGuestsOwnWindow() {
        XCTAssertEqual(GuestUART<FakeGuestHost>.window(of: m.pointee.regsOf(slot(0)))?.base, uart)
        XCTAssertNil(GuestUART<FakeGuestHost>.window(of: m.pointee.regsOf(slot(1))), "a Rumpk guest has no UART")
        XCTAssertNil(GuestUART<FakeGuestHost>.window(of: m.pointee.regsOf(m.pointee.vcpuCount)), "a pointer past the slots")
        XCTAssertEqual(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(5)), 0x60)
        XCTAssertEqual(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(7, write: true, value: 0x5A)), 0)
        XCTAssertEqual(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(7)), 0x5A, "the scratch register")
        XCTAssertEqual(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(0, write: true, value: 0x141)), 0)
        XCTAssertEqual(backlog(0), "A", "a wide store transmits its low byte")
        XCTAssertNil(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(RUM_VUART_SIZE)), "past the window: the exit path decides")
        XCTAssertNil(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(0, base: uart - 1)))
        XCTAssertNil(GuestUART<FakeGuestHost>.fastAccess(slot: slot(1), access(5)), "the Rumpk guest's access is not answered")
        XCTAssertEqual(m.pointee.guests[0].exits[ExitReason.mmio.rawValue], 4)
        XCTAssertEqual(m.pointee.uarts[0].fastAccesses, 4, "only the answered ones")
    }

    func testAccessBesideTheWindowStopsTheGuestAndRestartResetsTheUART() {
        _ = GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(7, write: true, value: 0x77))
        // A Rumpk guest touching the same address is not emulated: the vic answers nothing, it stops.
        H.vicAnswer = nil
        XCTAssertFalse(Exits<FakeGuestHost>.handle(.mmio(access(5)), slot: slot(1), cpu: 0))
        XCTAssertEqual(m.pointee.guests[1].lastFault.address, uart + 5)
        XCTAssertEqual(state(0), .running, "the other guest is untouched")
        // The Linux-style guest scribbles over its tree and restarts: everything is pristine again.
        let c = m.pointee.guests[0].config
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(m.pointee.guests[0].ramHost + (c.dtb_gpa - ram)))!.update(repeating: 0xEE, count: 64)
        m.pointee.request(0, .restart)
        buildPending()
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(bytes(0, gpa: c.dtb_gpa, tree.count), tree)
        XCTAssertEqual(GuestUART<FakeGuestHost>.fastAccess(slot: slot(0), access(7)), 0, "scratch cleared for the new instance")
        XCTAssertTrue(command("info u").contains("boot linux: entry 0x80200000, a1 = device tree at 0x80600000"))
        XCTAssertTrue(command("info u").contains("ns16550 gpa 0x10000000 (reads 1, writes 0, fast path 1)"))
    }

    func testBundleViewRefusesBrokenBootFields() throws {
        let good = try FakeMachine.bundle(guest("u", "boot = \"linux\"", memory: "8M") + guest("r"))
        func entry(_ g: Int, _ field: Int) -> Int { 32 + 120 * g + field }
        let cases: [(String, (inout Data) -> Void)] = [
            ("unknown protocol", { $0.patch(entry(0, 0x40), UInt32(2)) }),
            ("unknown virtual device", { $0.patch(entry(0, 0x44), UInt32(2)) }),
            ("RAM below 0x80000000", { $0.patch(entry(0, 0x48), UInt64(0x7FE0_0000)) }),
            ("RAM base unaligned", { $0.patch(entry(0, 0x48), UInt64(0x8010_0000)) }),
            ("RAM beyond 2^40", { $0.patch(entry(0, 0x48), UInt64(1 << 40)) }),
            ("entry outside RAM", { $0.patch(entry(0, 0x50), UInt64(0x8080_0000)) }),
            ("entry misaligned", { $0.patch(entry(0, 0x50), UInt64(0x8020_0002)) }),
            ("tree over the image", { $0.patch(entry(0, 0x58), UInt64(0x8020_0000)) }),
            ("tree past the end of RAM", { $0.patch(entry(0, 0x58), UInt64(0x807F_FF00)) }),
            ("tree outside the bundle", { $0.patch(entry(0, 0x60), UInt32(0x10_0000)) }),
            ("tree too big", { $0.patch(entry(0, 0x64), UInt32(RUM_GUEST_DTB_MAX + 1)) }),
            ("no tree", { $0.patch(entry(0, 0x64), UInt32(0)) }),
            ("UART inside RAM", { $0.patch(entry(0, 0x68), UInt64(0x8000_0000)) }),
            ("UART on the channels", { $0.patch(entry(0, 0x68), UInt64(RUM_GUEST_CHANNEL_GPA)) }),
            ("UART unaligned", { $0.patch(entry(0, 0x68), UInt64(0x1000_0010)) }),
            ("UART address without the device", { $0.patch(entry(1, 0x68), UInt64(0x1000_0000)) }),
            ("Rumpk guest with a tree", { $0.patch(entry(1, 0x64), UInt32(16)) }),
            ("reserved", { $0.patch(entry(0, 0x70), UInt64(1)) }),
        ]
        XCTAssertNoThrow(try FakeMachine.prepare(good, harts: 2))
        for (what, corrupt) in cases {
            var d = good
            corrupt(&d)
            XCTAssertThrowsError(try FakeMachine.prepare(d, harts: 2), what) { XCTAssertEqual($0 as? RumkvCore.BundleError, .badBoot, what) }
            XCTAssertThrowsError(try BundleWriter.read(d), "the tool refuses it too: \(what)")
        }
    }
}

private extension Data {
    mutating func patch<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
    }
}
