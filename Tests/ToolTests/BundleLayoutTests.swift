// BundleLayoutTests: the Swift view of the bundle structures is rumabi.h's, byte for byte.
//
// MemoryLayout offsets are compared with the offsets rumabi.h asserts, and the
// explicit little-endian encoder is compared with the in-memory bytes of the
// same C struct (the test host is little-endian, like every Rumkv target).

import RumABI
import XCTest
@testable import RumkvBuild

final class BundleLayoutTests: XCTestCase {
    func testHeaderLayout() {
        XCTAssertEqual(MemoryLayout<BundleHeader>.size, 32)
        XCTAssertEqual(MemoryLayout<BundleHeader>.stride, 32)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.magic), 0x00)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.revision), 0x04)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.header_size), 0x06)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.total_size), 0x08)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.guest_count), 0x0C)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.guest_entry_size), 0x10)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.flags), 0x14)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.device_count), 0x18)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.channel_count), 0x1A)
        XCTAssertEqual(MemoryLayout<BundleHeader>.offset(of: \.reserved), 0x1C)
    }

    func testGuestEntryLayout() {
        XCTAssertEqual(MemoryLayout<BundleGuest>.size, 120)
        XCTAssertEqual(MemoryLayout<BundleGuest>.stride, 120)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.name), 0x00)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.image_offset), 0x10)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.image_size), 0x14)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.memory_size), 0x18)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.cpu_mask), 0x20)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.vcpus), 0x28)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.flags), 0x2C)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.restart_policy), 0x30)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.payload), 0x34)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.store_offset), 0x38)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.store_size), 0x3C)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.boot), 0x40)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.vdevices), 0x44)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.ram_base), 0x48)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.entry), 0x50)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.dtb_gpa), 0x58)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.dtb_offset), 0x60)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.dtb_size), 0x64)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.uart_gpa), 0x68)
        XCTAssertEqual(MemoryLayout<BundleGuest>.offset(of: \.reserved), 0x70)
        XCTAssertEqual(BundleWriter.headerSize, 32)
        XCTAssertEqual(BundleWriter.entrySize, 120)
    }

    func testConstants() {
        XCTAssertEqual(RUM_BUNDLE_MAGIC, 0x424B_5552)
        XCTAssertEqual(withUnsafeBytes(of: RUM_BUNDLE_MAGIC.littleEndian) { Array($0) }, Array("RUKB".utf8))
        XCTAssertEqual([RUM_GUEST_F_AUTOSTART, RUM_GUEST_F_PINNED, RUM_GUEST_F_VERBOSE, RUM_GUEST_F_TEST], [1, 2, 4, 8])
        XCTAssertEqual([RUM_RESTART_NEVER, RUM_RESTART_ON_CRASH, RUM_RESTART_ALWAYS], [0, 1, 2])
        XCTAssertEqual(ConfigLimits.maxGuests, 8)
        XCTAssertEqual(ConfigLimits.maxNameLength, 15)
    }

    func testEncoderMatchesTheCStruct() {
        var h = BundleHeader()
        h.magic = RUM_BUNDLE_MAGIC; h.revision = 0x0102; h.header_size = 0x0304; h.total_size = 0x0506_0708
        h.guest_count = 0x090A_0B0C; h.guest_entry_size = 0x0D0E_0F10; h.flags = 0x1112_1314; h.device_count = 0x1516; h.channel_count = 0x1718; h.reserved = 0x191A_1B1C
        XCTAssertEqual(BundleWriter.encode(h), withUnsafeBytes(of: h) { Data($0) })

        var g = BundleGuest()
        withUnsafeMutableBytes(of: &g.name) { $0.copyBytes(from: Array("fifteen-letters".utf8)) }
        g.image_offset = 0xA1A2_A3A4; g.image_size = 0xB1B2_B3B4; g.memory_size = 0xC1C2_C3C4_C5C6_C7C8
        g.cpu_mask = 0xD1D2_D3D4_D5D6_D7D8; g.vcpus = 0xE1E2_E3E4; g.flags = 0xF1F2_F3F4
        g.restart_policy = 0x0102_0304; g.payload = 0x0506_0708; g.store_offset = 0x1111_2222; g.store_size = 0x3333_4444; g.reserved = 0x5555_6666_7777_8888
        g.boot = 0x1212_3434; g.vdevices = 0x5656_7878; g.ram_base = 0x9A9A_BCBC_DEDE_F0F0; g.entry = 0x1357_9BDF_2468_ACE0
        g.dtb_gpa = 0x0F0E_0D0C_0B0A_0908; g.dtb_offset = 0x7766_5544; g.dtb_size = 0x3322_1100; g.uart_gpa = 0x1020_3040_5060_7080
        let bytes = BundleWriter.encode(g)
        XCTAssertEqual(bytes, withUnsafeBytes(of: g) { Data($0) })
        XCTAssertEqual(Array(bytes[0x10..<0x14]), [0xA4, 0xA3, 0xA2, 0xA1], "image_offset little-endian at 0x10")

        let back = BundleWriter.decodeGuest([UInt8](bytes), at: 0)
        XCTAssertEqual(withUnsafeBytes(of: back) { Data($0) }, bytes)
        XCTAssertEqual(BundleWriter.name(of: back), "fifteen-letters")
    }
}
