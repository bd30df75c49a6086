// Virtualization (aarch64): checking that Rumkv owns EL2 and what it offers.
//
// Rumkv must run at EL2 (CurrentEL.EL = 2): QEMU starts the CPU there only
// with `-machine virt,virtualization=on`, otherwise at EL1. Interrupt
// virtualization will use the GICv3 virtual CPU interface, so the device tree
// must describe an "arm,gic-v3" and the CPU must implement the GIC system
// registers (ID_AA64PFR0_EL1.GIC != 0). The VMID width, 8 or 16 bits, is
// ID_AA64MMFR1_EL1.VMIDBits (Arm ARM, ID_AA64MMFR1_EL1; 16 needs FEAT_VMID16).

import ArchShims
import RumkvCore

enum Virtualization {
    /// HCR_EL2.RW (bit 31): EL1 is AArch64. Every trap and E2H/TGE off until
    /// guests run, whatever the firmware left (Arm ARM, HCR_EL2).
    static let hcrRW: UInt64 = 1 << 31

    /// The exception level we run at, CurrentEL bits [3:2].
    static func currentEL() -> UInt64 { (a64_read_currentel() >> 2) & 3 }

    enum Failure: Error {
        case atEL0
        case atEL1
        case atEL3
        case noGICv3InDeviceTree
        case noGICv3SystemRegisters

        var reason: StaticString {
            switch self {
            case .atEL0: "not entered at EL2 (CurrentEL = EL0)"
            case .atEL1: "not entered at EL2 (CurrentEL = EL1): start QEMU with -machine virt,virtualization=on"
            case .atEL3: "not entered at EL2 (CurrentEL = EL3): the EL3 firmware must drop to EL2 first"
            case .noGICv3InDeviceTree: "no GICv3 in the device tree (arm,gic-v3): start QEMU with -machine virt,gic-version=3"
            case .noGICv3SystemRegisters: "the CPU has no GICv3 system-register interface (ID_AA64PFR0_EL1.GIC = 0)"
            }
        }
    }

    /// Checks EL2 and the GIC; on success puts HCR_EL2 in a known state and
    /// returns the number of VMID bits.
    static func check(_ dt: DeviceTree) throws(Failure) -> UInt64 {
        switch currentEL() {
        case 2: break
        case 1: throw .atEL1
        case 3: throw .atEL3
        default: throw .atEL0
        }
        guard DeviceTreePlatform.findDevice(dt, compatible: "arm,gic-v3") != nil else { throw .noGICv3InDeviceTree }
        guard (a64_read_id_aa64pfr0() >> 24) & 0xF != 0 else { throw .noGICv3SystemRegisters }
        a64_write_hcr_el2(hcrRW)
        return vmidBits(a64_read_id_aa64mmfr1())
    }

    /// VMIDBits [7:4]: 0b0000 is 8 bits, 0b0010 is 16 bits; others are reserved.
    static func vmidBits(_ mmfr1: UInt64) -> UInt64 { (mmfr1 >> 4) & 0xF == 0b0010 ? 16 : 8 }
}
