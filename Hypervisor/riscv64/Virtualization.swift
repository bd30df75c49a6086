// Virtualization (riscv64): finding and checking the H-extension.
//
// From HS-mode `misa` cannot be read (it is an M-mode CSR), so the firmware's
// copy of it, the boot hart's `riscv,isa` string in the device tree, stands in
// for misa.H. It is then confirmed on the hardware: reading `hstatus` must not
// trap, and `hgatp` must accept MODE = Sv39x4 (RISC-V Privileged Spec v1.12,
// 8.2.10); the VMID bits that stick give the VMID width.

import ArchShims
import RumkvCore

enum Virtualization {
    /// Set by the trap handler when a probed instruction trapped.
    nonisolated(unsafe) static var probing = false
    nonisolated(unsafe) static var probeFaulted = false

    static let hgatpModeSv39x4: UInt64 = 8 << 60
    static let hgatpVMIDMask: UInt64 = 0x3FFF << 44

    enum Failure: Error {
        case noISAString
        case isaLacksH
        case hstatusTraps
        case hgatpRejectsSv39x4

        var reason: StaticString {
            switch self {
            case .noISAString: "the device tree gives no riscv,isa for the boot hart"
            case .isaLacksH: "the CPU has no H-extension (riscv,isa lacks 'h'; try -cpu rv64,h=true)"
            case .hstatusTraps: "hstatus is not accessible: the H-extension is not really there"
            case .hgatpRejectsSv39x4: "hgatp does not accept Sv39x4 stage-2 translation"
            }
        }
    }

    /// Checks the H-extension; on success returns the number of VMID bits.
    static func check(_ dt: DeviceTree) throws(Failure) -> UInt64 {
        guard let isa = DeviceTreePlatform.findProperty(dt, node: "cpu", depth: 2, "riscv,isa") else {
            throw .noISAString
        }
        guard isaHasH(isa.bytes) else { throw .isaLacksH }
        // Guests get FP registers of their own only if the harts have F and D (VCPU.swift).
        RISCV64.guestFP = isaHas(isa.bytes, UInt8(ascii: "f")) && isaHas(isa.bytes, UInt8(ascii: "d"))
        probing = true
        probeFaulted = false
        _ = rv_read_hstatus()
        if probeFaulted { probing = false; throw .hstatusTraps }
        rv_write_hgatp(hgatpModeSv39x4 | hgatpVMIDMask)
        let readBack = probeFaulted ? 0 : rv_read_hgatp()
        rv_write_hgatp(0)
        probing = false
        guard !probeFaulted, readBack & (0xF << 60) == hgatpModeSv39x4 else {
            throw .hgatpRejectsSv39x4
        }
        return UInt64(((readBack & hgatpVMIDMask) >> 44).nonzeroBitCount)
    }

    /// True if the single-letter extensions of "rv64imafdch_zicsr..." include 'h'.
    static func isaHasH(_ isa: UnsafeRawBufferPointer) -> Bool { isaHas(isa, UInt8(ascii: "h")) }

    /// True if the single-letter extensions of "rv64imafdch_zicsr..." include `letter`.
    static func isaHas(_ isa: UnsafeRawBufferPointer, _ letter: UInt8) -> Bool {
        guard isa.count > 4, isa[0] == UInt8(ascii: "r"), isa[1] == UInt8(ascii: "v") else { return false }
        var i = 4
        while i < isa.count {
            let c = isa[i]
            if c == UInt8(ascii: "_") || c == 0 { return false }
            if c == letter { return true }
            i += 1
        }
        return false
    }
}
