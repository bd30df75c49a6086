// NS16550Tests: the emulated UART's registers as U-Boot's and Linux's drivers use them.

import RumABI
@testable import RumkvCore
import XCTest

final class NS16550Tests: XCTestCase {
    var uart = NS16550()
    var console = VConsole()
    var sent: [UInt8] = []

    func read(_ r: UInt64) -> UInt8 { uart.read(r, &console) }
    func write(_ r: UInt64, _ v: UInt8) { uart.write(r, v) { sent.append($0) } }

    func testTransmitIsImmediateAndLSRShowsEmptyTransmitter() {
        XCTAssertEqual(read(NS16550.lsr), 0x60, "THRE | TEMT, no data")
        for b in "ok\n".utf8 { write(NS16550.rbrTHR, b) }
        XCTAssertEqual(sent, Array("ok\n".utf8))
        XCTAssertEqual(read(NS16550.lsr), 0x60, "still empty: transmission takes no time")
    }

    func testTypedInputSetsDataReadyAndIsReadFromRBR() {
        console.pushInput(UInt8(ascii: "v"))
        console.pushInput(13)
        XCTAssertEqual(read(NS16550.lsr), 0x61, "DR with a byte waiting")
        XCTAssertEqual(read(NS16550.rbrTHR), UInt8(ascii: "v"))
        XCTAssertEqual(read(NS16550.lsr), 0x61)
        XCTAssertEqual(read(NS16550.rbrTHR), 13)
        XCTAssertEqual(read(NS16550.lsr), 0x60, "DR clears when the ring is empty")
        XCTAssertEqual(read(NS16550.rbrTHR), 0, "RBR with nothing waiting reads 0")
    }

    func testDivisorLatchShadowsRBRAndIER() {
        write(NS16550.ierDLM, 0x05)
        write(NS16550.lcr, 0x83)                     // DLAB, 8N1 (U-Boot's NS16550_init)
        write(NS16550.rbrTHR, 0x01)                  // DLL
        write(NS16550.ierDLM, 0x02)                  // DLM
        XCTAssertTrue(sent.isEmpty, "a DLL write is not a transmitted byte")
        XCTAssertEqual(uart.divisor, 0x0201)
        XCTAssertEqual(read(NS16550.rbrTHR), 0x01)
        XCTAssertEqual(read(NS16550.ierDLM), 0x02)
        console.pushInput(0x41)
        XCTAssertEqual(read(NS16550.rbrTHR), 0x01, "with DLAB set the input byte stays queued")
        write(NS16550.lcr, 0x03)
        XCTAssertEqual(read(NS16550.lcr), 0x03)
        XCTAssertEqual(read(NS16550.ierDLM), 0x05, "IER again once DLAB is clear")
        XCTAssertEqual(read(NS16550.rbrTHR), 0x41)
    }

    func testFIFOAndIIRLookLikeA16550A() {
        XCTAssertEqual(read(NS16550.iirFCR), 0x01, "no interrupt pending, no FIFO")
        write(NS16550.iirFCR, 0x07)                  // enable and reset both FIFOs
        XCTAssertEqual(read(NS16550.iirFCR), 0xC1, "FIFOs enabled (bits 7:6), no interrupt pending")
        XCTAssertEqual(uart.fcr, 0x01, "reset bits self-clear")
    }

    func testScratchModemAndLoopback() {
        write(NS16550.scr, 0xA5)
        XCTAssertEqual(read(NS16550.scr), 0xA5)
        XCTAssertEqual(read(NS16550.msr), 0xB0, "DCD, DSR and CTS asserted")
        write(NS16550.mcr, 0x1F)                     // loopback with DTR, RTS, OUT1, OUT2
        XCTAssertEqual(read(NS16550.msr), 0xF0)
        write(NS16550.mcr, 0x10 | 0x02)              // loopback, RTS only
        XCTAssertEqual(read(NS16550.msr), 0x10, "CTS follows RTS")
        console.pushInput(1)
        XCTAssertEqual(read(NS16550.lsr), 0x60, "console input is not seen in loopback")
        write(NS16550.rbrTHR, 0x55)
        XCTAssertTrue(sent.isEmpty, "loopback does not transmit")
        write(NS16550.mcr, 0x03)
        XCTAssertEqual(read(NS16550.mcr), 0x03)
        XCTAssertEqual(read(NS16550.lsr), 0x61)
    }

    func testReadOnlyAndUnknownRegisters() {
        write(NS16550.lsr, 0x00)
        write(NS16550.msr, 0x00)
        XCTAssertEqual(read(NS16550.lsr), 0x60, "LSR ignores writes")
        for r: UInt64 in [8, 0x10, 0xFF, UInt64.max] {
            write(r, 0xFF)
            XCTAssertEqual(read(r), 0, "offset \(r) beyond the eight registers")
        }
        XCTAssertTrue(sent.isEmpty)
        XCTAssertEqual(uart.reads, 5)
        XCTAssertEqual(uart.writes, 6)
    }
}
