// Virtualization (x86_64): finding VMX and entering VMX root operation.
//
// Follows SDM Vol. 3C 23.6 "Discovering Support for VMX" and 23.7 "Enabling
// and Entering VMX Operation" (section numbers of the editions up to 2022):
// CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL (locked with VMXON outside SMX, which
// we set and lock if the firmware left it open), the capability MSRs of
// appendix A, the fixed CR0/CR4 bits (A.7, A.8), CR4.VMXE, then VMXON on a
// 4 KiB region holding the VMCS revision identifier. EPT is required (Rumkv
// confines every guest with stage-2 translation), unrestricted guest is
// reported. The CPU stays in VMX root operation until power-off.

import ArchShims

enum Virtualization {
    static let msrFeatureControl: UInt32 = 0x3A
    static let msrVMXBasic: UInt32 = 0x480
    static let msrProcBasedControls: UInt32 = 0x482
    static let msrCR0Fixed0: UInt32 = 0x486
    static let msrCR0Fixed1: UInt32 = 0x487
    static let msrCR4Fixed0: UInt32 = 0x488
    static let msrCR4Fixed1: UInt32 = 0x489
    static let msrProcBasedControls2: UInt32 = 0x48B

    static let featureControlLock: UInt64 = 1 << 0
    static let featureControlVMXOutsideSMX: UInt64 = 1 << 2
    static let cr4VMXE: UInt64 = 1 << 13

    /// True between the boot CPU's VMXON and `leave()` (power-off runs on the console CPU, 0).
    nonisolated(unsafe) static var inRootOperation = false

    struct Capabilities {
        let revision: UInt32
        let unrestrictedGuest: Bool
    }

    enum Failure: Error {
        case noVMX, disabledByFirmware, regionTooLarge, noEPT, vmxeNotAllowed, vmxonInvalid, vmxonValid, controlsUnsupported

        var reason: StaticString {
            switch self {
            case .noVMX: "the CPU has no VMX (CPUID.1:ECX.VMX = 0)"
            case .disabledByFirmware: "VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked without VMXON outside SMX)"
            case .regionTooLarge: "the VMXON region must be larger than 4 KiB (IA32_VMX_BASIC)"
            case .noEPT: "the CPU has VMX but no EPT (IA32_VMX_PROCBASED_CTLS2 allowed-1 bit 1 = 0)"
            case .vmxeNotAllowed: "CR4.VMXE cannot be set (IA32_VMX_CR4_FIXED1)"
            case .vmxonInvalid: "VMXON failed with VMfailInvalid (VMXON region or revision rejected)"
            case .vmxonValid: "VMXON failed with VMfailValid (already in VMX operation)"
            case .controlsUnsupported: "the CPU lacks a VMX control guests need (preemption timer, HLT/I/O/MSR exiting, 64-bit host or guest, EFER load)"
            }
        }
    }

    /// Checks VMX, enables it and executes VMXON on CPU `cpu`'s region (entry.S: one page per CPU).
    static func enter(cpu: Int = 0) throws(Failure) -> Capabilities {
        guard x86_cpuid(1, 0).ecx & (1 << 5) != 0 else { throw .noVMX }

        let control = x86_rdmsr(msrFeatureControl)
        if control & featureControlLock == 0 {
            x86_wrmsr(msrFeatureControl, control | featureControlVMXOutsideSMX | featureControlLock)
        } else if control & featureControlVMXOutsideSMX == 0 {
            throw .disabledByFirmware
        }

        // A.1: revision in bits 30:0, VMXON/VMCS region size in bits 44:32.
        let basic = x86_rdmsr(msrVMXBasic)
        let revision = UInt32(truncatingIfNeeded: basic & 0x7FFF_FFFF)
        guard (basic >> 32) & 0x1FFF <= 4096 else { throw .regionTooLarge }

        // A.3.2/A.3.3: allowed-1 settings are the high 32 bits of each control MSR.
        let primary = x86_rdmsr(msrProcBasedControls) >> 32
        let secondary = primary & (1 << 31) != 0 ? x86_rdmsr(msrProcBasedControls2) >> 32 : 0
        guard secondary & (1 << 1) != 0 else { throw .noEPT }

        // A.7/A.8: bits set in FIXED0 must be 1, bits clear in FIXED1 must be 0.
        let cr4Fixed1 = x86_rdmsr(msrCR4Fixed1)
        guard cr4Fixed1 & cr4VMXE != 0 else { throw .vmxeNotAllowed }
        x86_write_cr0((x86_read_cr0() | x86_rdmsr(msrCR0Fixed0)) & x86_rdmsr(msrCR0Fixed1))
        x86_write_cr4((x86_read_cr4() | cr4VMXE | x86_rdmsr(msrCR4Fixed0)) & cr4Fixed1)

        // SDM Vol. 3C 24.11.5 "VMXON Region": the region starts with the revision identifier (bit 31 clear).
        let region = x86_vmxon_region_address() + UInt64(min(max(cpu, 0), 7)) * 4096
        UnsafeMutablePointer<UInt32>(bitPattern: UInt(region))!.pointee = revision
        switch x86_vmxon(region) {
        case 0: break
        case 1: throw .vmxonInvalid
        default: throw .vmxonValid
        }
        if cpu == 0 { inRootOperation = true }
        return Capabilities(revision: revision, unrestrictedGuest: secondary & (1 << 7) != 0)
    }

    /// Leaves VMX operation (before power-off), if we entered it.
    static func leave() {
        if inRootOperation { _ = x86_vmxoff(); inRootOperation = false }
    }
}
