// LayoutTests: Swift sees the ABI structures exactly as rumabi.h declares them.
//
// Sizes and every field offset are checked through MemoryLayout, and each
// structure is round-tripped through raw little-endian bytes, so a layout
// drift between the C header and any Swift view fails here.

import XCTest
import RumABI

final class LayoutTests: XCTestCase {
    func testCmdPacketLayout() {
        XCTAssertEqual(MemoryLayout<CmdPacket>.size, 32)
        XCTAssertEqual(MemoryLayout<CmdPacket>.stride, 32)
        XCTAssertEqual(MemoryLayout<CmdPacket>.offset(of: \.kind), 0x00)
        XCTAssertEqual(MemoryLayout<CmdPacket>.offset(of: \._pad), 0x04)
        XCTAssertEqual(MemoryLayout<CmdPacket>.offset(of: \.arg), 0x08)
        XCTAssertEqual(MemoryLayout<CmdPacket>.offset(of: \.id_lo), 0x10)
        XCTAssertEqual(MemoryLayout<CmdPacket>.offset(of: \.id_hi), 0x18)
        XCTAssertEqual(Command.sysExec, 0x400)
    }

    func testCmdPacketRawBytes() {
        let p = CmdPacket(kind: Command.sysExec, arg: 0x1122_3344_5566_7788,
                          idLow: 0x0102_0304_0506_0708, idHigh: 0xA1A2_A3A4_A5A6_A7A8)
        let bytes = withUnsafeBytes(of: p) { Array($0) }
        XCTAssertEqual(bytes.count, 32)
        XCTAssertEqual(Array(bytes[0..<4]), [0x00, 0x04, 0x00, 0x00], "kind little-endian at 0")
        XCTAssertEqual(Array(bytes[4..<8]), [0, 0, 0, 0], "explicit pad is zero")
        XCTAssertEqual(Array(bytes[8..<16]), [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        XCTAssertEqual(Array(bytes[16..<24]), [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        XCTAssertEqual(Array(bytes[24..<32]), [0xA8, 0xA7, 0xA6, 0xA5, 0xA4, 0xA3, 0xA2, 0xA1])
        // And back: the same bytes read as a packet give the same fields.
        let back = bytes.withUnsafeBytes { $0.loadUnaligned(as: CmdPacket.self) }
        XCTAssertEqual(back.kind, p.kind)
        XCTAssertEqual(back.arg, p.arg)
        XCTAssertEqual(back.id_lo, p.id_lo)
        XCTAssertEqual(back.id_hi, p.id_hi)
    }

    func testSysTableLayout() {
        XCTAssertEqual(MemoryLayout<SysTable>.size, 240)
        let expected: [(PartialKeyPath<SysTable>, Int)] = [
            (\.magic, 0x00), (\.revision, 0x04), (\.size, 0x06), (\.guest_id, 0x08),
            (\.vcpu_count, 0x0C), (\.name, 0x10), (\.sip_id_lo, 0x20), (\.sip_id_hi, 0x28),
            (\.mem_count, 0x30), (\.flags, 0x34), (\.mem, 0x38), (\.console_kind, 0x78),
            (\.hypercall_abi, 0x7C), (\.channel_count, 0x80), (\._pad0, 0x84),
            (\.channels, 0x88), (\.timebase_hz, 0xA8), (\.boot_time, 0xB0),
            (\.payload_base, 0xB8), (\.payload_size, 0xC0), (\.restart_count, 0xC8),
            (\._pad1, 0xCC), (\.devtable, 0xD0), (\.test_payload, 0xD8), (\._pad2, 0xDC), (\.last_fault, 0xE0), (\.last_fault_access, 0xE4), (\.last_fault_address, 0xE8),
        ]
        for (path, offset) in expected {
            XCTAssertEqual(MemoryLayout<SysTable>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(MemoryLayout<MemRange>.size, 16)
        XCTAssertEqual(MemoryLayout<ChannelDesc>.size, 16)
    }

    /// The device table (rumabi.h): the interrupt controller by kind and regions, then the devices.
    func testDeviceTableLayout() {
        XCTAssertEqual(MemoryLayout<IRQChip>.size, 40)
        XCTAssertEqual(MemoryLayout<IRQChip>.offset(of: \.kind), 0x00)
        XCTAssertEqual(MemoryLayout<IRQChip>.offset(of: \.region_count), 0x04)
        XCTAssertEqual(MemoryLayout<IRQChip>.offset(of: \.regions), 0x08)
        XCTAssertEqual(MemoryLayout<DeviceTable>.size, 384)
        XCTAssertEqual(MemoryLayout<DeviceTable>.offset(of: \.dma_base), 0x08)
        XCTAssertEqual(MemoryLayout<DeviceTable>.offset(of: \.irqchip), 0x18)
        XCTAssertEqual(MemoryLayout<DeviceTable>.offset(of: \.devices), 0x40)
        XCTAssertLessThanOrEqual(Int(RUM_DEVTABLE_OFFSET) + MemoryLayout<DeviceTable>.size, 4096)
        XCTAssertEqual([RUM_IRQCHIP_NONE, RUM_IRQCHIP_PLIC, RUM_IRQCHIP_GICV3, RUM_IRQCHIP_X86_APIC], [0, 1, 2, 3])
    }

    /// Raw bytes: a device table written through Swift reads back at the C offsets.
    func testDeviceTableRawBytes() {
        var t = DeviceTable()
        t.irqchip.kind = RUM_IRQCHIP_GICV3
        t.irqchip.region_count = 2
        t.irqchip.regions.1 = MemRange(base: 0x080A_0000, size: 0x2_0000)
        withUnsafeBytes(of: &t) { raw in
            XCTAssertEqual(raw.load(fromByteOffset: 0x18, as: UInt32.self), 2)
            XCTAssertEqual(raw.load(fromByteOffset: 0x1C, as: UInt32.self), 2)
            XCTAssertEqual(raw.load(fromByteOffset: 0x18 + 0x08 + 0x10, as: UInt64.self), 0x080A_0000)
            XCTAssertEqual(raw.load(fromByteOffset: 0x18 + 0x08 + 0x18, as: UInt64.self), 0x2_0000)
        }
    }

    func testSysTableRawBytes() {
        var t = SysTable()
        t.magic = RUM_SYSTABLE_MAGIC
        t.revision = UInt16(ABIRevision.current)
        t.size = 240
        t.timebase_hz = 10_000_000
        t.restart_count = 7
        let bytes = withUnsafeBytes(of: t) { Array($0) }
        XCTAssertEqual(Array(bytes[0..<4]), Array("RKYS".utf8), "magic reads RKYS in memory")
        XCTAssertEqual(Array(bytes[4..<8]), [UInt8(RUM_ABI_REVISION), 0, 240, 0])
        XCTAssertEqual(Array(bytes[0xA8..<0xB0]), [0x80, 0x96, 0x98, 0, 0, 0, 0, 0])
        XCTAssertEqual(bytes[0xC8], 7)
    }

    func testNPLHeaderLayout() {
        XCTAssertEqual(MemoryLayout<NPLHeader>.size, 128)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.magic), 0x00)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.version), 0x04)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.arch), 0x05)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.flags), 0x06)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.signature), 0x08)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.body_size), 0x48)
        XCTAssertEqual(MemoryLayout<NPLHeader>.offset(of: \.reserved), 0x50)
        var h = NPLHeader()
        h.magic = RUM_NPL_MAGIC
        h.version = UInt8(RUM_NPL_VERSION)
        h.arch = UInt8(RUM_NPL_ARCH_RISCV64)
        let bytes = withUnsafeBytes(of: h) { Array($0) }
        XCTAssertEqual(Array(bytes[0..<6]), [0x7F, 0x4E, 0x50, 0x4C, 1, 0x55])
    }

    func testHypercallNumbers() {
        XCTAssertEqual(Hypercall.sbiExtension, 0x0A52_554D)
        XCTAssertTrue((0x0A00_0000...0x0AFF_FFFF).contains(Hypercall.sbiExtension),
                      "firmware-specific SBI extension range (SBI v2.0 table 1)")
    }
}
