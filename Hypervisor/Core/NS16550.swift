// NS16550: the register model of the UART a Linux-style guest is given.
//
// Eight byte-wide registers (reg-shift 0), as QEMU virt's 16550A and what
// U-Boot's and Linux's ns16550/8250 drivers expect (National Semiconductor
// PC16550D data sheet; the FIFO is reported present, as on a 16550A). The
// model is polled: IER is kept but no interrupt is raised (the guest's tree
// describes no interrupt controller). Transmission is instantaneous (LSR
// always has THRE and TEMT), received bytes come from the guest's console
// input ring (LSR.DR while one waits). The divisor latch, LCR, MCR, FCR and
// scratch register hold what the guest writes; the baud rate has no effect.
// In loopback (MCR bit 4) MSR mirrors MCR and transmitted bytes are dropped.
// Offsets 8..window end read 0 and ignore writes. Pure state: the caller
// holds the lock and owns the console (Machine.uartAccess).

public struct NS16550 {
    public static let rbrTHR: UInt64 = 0, ierDLM: UInt64 = 1, iirFCR: UInt64 = 2, lcr: UInt64 = 3
    public static let mcr: UInt64 = 4, lsr: UInt64 = 5, msr: UInt64 = 6, scr: UInt64 = 7

    /// LSR bits: data ready, transmit holding register empty, transmitter empty.
    public static let lsrDR: UInt8 = 0x01, lsrTHRE: UInt8 = 0x20, lsrTEMT: UInt8 = 0x40
    public static let lcrDLAB: UInt8 = 0x80, mcrLoop: UInt8 = 0x10

    public private(set) var ier: UInt8 = 0
    public private(set) var lcrValue: UInt8 = 0
    public private(set) var mcrValue: UInt8 = 0
    public private(set) var fcr: UInt8 = 0
    public private(set) var scratch: UInt8 = 0
    public private(set) var divisor: UInt16 = 0
    /// Register accesses since the guest instance started (stats, bench).
    public private(set) var reads: UInt64 = 0
    public private(set) var writes: UInt64 = 0
    /// Of those, the ones the port's trap fast path answered (GuestUART.fastAccess).
    public var fastAccesses: UInt64 = 0

    public init() {}

    var dlab: Bool { lcrValue & NS16550.lcrDLAB != 0 }
    var loopback: Bool { mcrValue & NS16550.mcrLoop != 0 }

    /// The register at `offset`; reading RBR takes the next byte from `console`.
    public mutating func read(_ offset: UInt64, _ console: inout VConsole) -> UInt8 {
        reads &+= 1
        switch offset {
        case NS16550.rbrTHR:
            if dlab { return UInt8(truncatingIfNeeded: divisor) }
            return loopback ? 0 : console.popInput() ?? 0
        case NS16550.ierDLM:
            return dlab ? UInt8(truncatingIfNeeded: divisor >> 8) : ier
        case NS16550.iirFCR:
            // No interrupt pending (bit 0); FIFOs enabled shows as bits 7:6 (16550A).
            return 0x01 | (fcr & 1 != 0 ? 0xC0 : 0)
        case NS16550.lcr: return lcrValue
        case NS16550.mcr: return mcrValue
        case NS16550.lsr:
            let ready = !loopback && console.hasInput
            return NS16550.lsrTHRE | NS16550.lsrTEMT | (ready ? NS16550.lsrDR : 0)
        case NS16550.msr:
            guard loopback else { return 0xB0 }             // DCD, DSR, CTS asserted
            // Loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 (MCR bits 1, 0, 2, 3).
            let m = mcrValue
            return (m & 2) << 3 | (m & 1) << 5 | (m & 4) << 4 | (m & 8) << 4
        case NS16550.scr: return scratch
        default: return 0
        }
    }

    /// Writes the register at `offset`; a transmitted byte is handed to `transmit`.
    public mutating func write(_ offset: UInt64, _ value: UInt8, transmit: (UInt8) -> Void) {
        writes &+= 1
        switch offset {
        case NS16550.rbrTHR:
            if dlab { divisor = divisor & 0xFF00 | UInt16(value) }
            else if !loopback { transmit(value) }
        case NS16550.ierDLM:
            if dlab { divisor = divisor & 0x00FF | UInt16(value) << 8 } else { ier = value & 0x0F }
        case NS16550.iirFCR: fcr = value & 0xC9            // reset bits (1, 2) self-clear
        case NS16550.lcr: lcrValue = value
        case NS16550.mcr: mcrValue = value & 0x1F
        case NS16550.scr: scratch = value
        default: break                                     // LSR, MSR and beyond: read-only
        }
    }
}
