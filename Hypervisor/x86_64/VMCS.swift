// VMCS (x86_64): field encodings, the controls every vCPU runs with, and a
// vCPU's VMCS written from scratch.
//
// Field encodings: SDM Vol. 3C appendix B. The controls are chosen once at
// boot from the capability MSRs (appendix A; the TRUE_* MSRs when
// IA32_VMX_BASIC bit 55 says they exist) by `VMXControls.adjust`, so a bit the
// CPU does not allow is never set and one it requires is never cleared.
// Guests enter in 64-bit mode with paging on (the boot tables at the port
// window) on the GDT's code and data segments: SDM Vol. 3C 26.3 lists the
// guest-state checks these values satisfy.

import ArchShims
import RumkvCore

enum VMCSField {
    static let vpid: UInt64 = 0x0000
    static let guestES: UInt64 = 0x0800, guestCS: UInt64 = 0x0802, guestSS: UInt64 = 0x0804, guestDS: UInt64 = 0x0806
    static let guestFS: UInt64 = 0x0808, guestGS: UInt64 = 0x080A, guestLDTR: UInt64 = 0x080C, guestTR: UInt64 = 0x080E
    static let hostES: UInt64 = 0x0C00, hostCS: UInt64 = 0x0C02, hostSS: UInt64 = 0x0C04, hostDS: UInt64 = 0x0C06
    static let hostFS: UInt64 = 0x0C08, hostGS: UInt64 = 0x0C0A, hostTR: UInt64 = 0x0C0C
    static let ioBitmapA: UInt64 = 0x2000, ioBitmapB: UInt64 = 0x2002, msrBitmap: UInt64 = 0x2004
    static let tscOffset: UInt64 = 0x2010
    static let eptPointer: UInt64 = 0x201A
    static let guestPhysicalAddress: UInt64 = 0x2400
    static let linkPointer: UInt64 = 0x2800, guestDebugCtl: UInt64 = 0x2802, guestEFER: UInt64 = 0x2806
    static let hostEFER: UInt64 = 0x2C02
    static let pinControls: UInt64 = 0x4000, procControls: UInt64 = 0x4002, exceptionBitmap: UInt64 = 0x4004
    static let pageFaultMask: UInt64 = 0x4006, pageFaultMatch: UInt64 = 0x4008, cr3TargetCount: UInt64 = 0x400A
    static let exitControls: UInt64 = 0x400C, exitMSRStoreCount: UInt64 = 0x400E, exitMSRLoadCount: UInt64 = 0x4010
    static let entryControls: UInt64 = 0x4012, entryMSRLoadCount: UInt64 = 0x4014
    static let entryInterruptionInfo: UInt64 = 0x4016, entryExceptionError: UInt64 = 0x4018
    static let entryInstructionLength: UInt64 = 0x401A
    static let proc2Controls: UInt64 = 0x401E
    static let instructionError: UInt64 = 0x4400, exitReason: UInt64 = 0x4402
    static let exitInstructionLength: UInt64 = 0x440C
    static let guestESLimit: UInt64 = 0x4800   // ES, CS, SS, DS, FS, GS, LDTR, TR limits follow, 2 apart
    static let guestGDTRLimit: UInt64 = 0x4810, guestIDTRLimit: UInt64 = 0x4812
    static let guestESAccess: UInt64 = 0x4814  // ... access rights, 2 apart
    static let guestInterruptibility: UInt64 = 0x4824, guestActivity: UInt64 = 0x4826
    static let guestSysenterCS: UInt64 = 0x482A, preemptionTimer: UInt64 = 0x482E
    static let hostSysenterCS: UInt64 = 0x4C00
    static let cr0Mask: UInt64 = 0x6000, cr4Mask: UInt64 = 0x6002, cr0Shadow: UInt64 = 0x6004, cr4Shadow: UInt64 = 0x6006
    static let exitQualification: UInt64 = 0x6400
    static let guestCR0: UInt64 = 0x6800, guestCR3: UInt64 = 0x6802, guestCR4: UInt64 = 0x6804
    static let guestESBase: UInt64 = 0x6806    // ... segment bases, 2 apart, through TR (0x6814)
    static let guestGDTRBase: UInt64 = 0x6816, guestIDTRBase: UInt64 = 0x6818, guestDR7: UInt64 = 0x681A
    static let guestRSP: UInt64 = 0x681C, guestRIP: UInt64 = 0x681E, guestRFLAGS: UInt64 = 0x6820
    static let guestPendingDebug: UInt64 = 0x6822, guestSysenterESP: UInt64 = 0x6824, guestSysenterEIP: UInt64 = 0x6826
    static let hostCR0: UInt64 = 0x6C00, hostCR3: UInt64 = 0x6C02, hostCR4: UInt64 = 0x6C04
    static let hostFSBase: UInt64 = 0x6C06, hostGSBase: UInt64 = 0x6C08, hostTRBase: UInt64 = 0x6C0A
    static let hostGDTRBase: UInt64 = 0x6C0C, hostIDTRBase: UInt64 = 0x6C0E
    static let hostSysenterESP: UInt64 = 0x6C10, hostSysenterEIP: UInt64 = 0x6C12
}

/// The controls and constants every VMCS gets, fixed at boot.
enum VMX {
    nonisolated(unsafe) static var revision: UInt32 = 0
    nonisolated(unsafe) static var pin: UInt32 = 0
    nonisolated(unsafe) static var proc: UInt32 = 0
    nonisolated(unsafe) static var proc2: UInt32 = 0
    nonisolated(unsafe) static var exit: UInt32 = 0
    nonisolated(unsafe) static var entry: UInt32 = 0
    /// Interrupt-window exiting may be set (primary controls' allowed-1 bit 2).
    nonisolated(unsafe) static var interruptWindowAllowed = false
    /// The preemption timer counts TSC >> this (IA32_VMX_MISC bits 4:0).
    nonisolated(unsafe) static var timerShift: UInt64 = 0
    nonisolated(unsafe) static var cr0Fixed0: UInt64 = 0, cr0Fixed1: UInt64 = ~0
    nonisolated(unsafe) static var cr4Fixed0: UInt64 = 0, cr4Fixed1: UInt64 = ~0

    static let guestEFER: UInt64 = 0x500          // LME | LMA
    static let guestCR0: UInt64 = 0x8001_0031     // PG | WP | NE | ET | PE
    static let guestCR4: UInt64 = 0x20            // PAE (VMXE is added, and hidden by the shadow)

    /// Picks the controls from the capability MSRs (after VMXON) and fills the shared pages.
    static func configure(revision: UInt32) throws(Virtualization.Failure) {
        self.revision = revision
        let basic = x86_rdmsr(0x480)
        let hasTrue = basic & (1 << 55) != 0
        typealias C = VMXControls
        let pinWanted = C.pinExternalInterrupt | C.pinNMI | C.pinPreemptionTimer
        let procWanted = C.procHLT | C.procIOBitmaps | C.procMSRBitmaps | C.procSecondary
        let exitWanted = C.exitHost64 | C.exitAckInterrupt | C.exitSaveEFER | C.exitLoadEFER
        let entryWanted = C.entryIA32e | C.entryLoadEFER
        guard let pin = C.adjust(wanted: pinWanted, required: pinWanted, capability: x86_rdmsr(hasTrue ? 0x48D : 0x481)),
              let proc = C.adjust(wanted: procWanted, required: procWanted, capability: x86_rdmsr(hasTrue ? 0x48E : 0x482)),
              let proc2 = C.adjust(wanted: C.proc2EPT, required: C.proc2EPT, capability: x86_rdmsr(0x48B)),
              let exit = C.adjust(wanted: exitWanted, required: exitWanted, capability: x86_rdmsr(hasTrue ? 0x48F : 0x483)),
              let entry = C.adjust(wanted: entryWanted, required: entryWanted, capability: x86_rdmsr(hasTrue ? 0x490 : 0x484))
        else { throw .controlsUnsupported }
        // CR3-load/store exiting are default-1 without the TRUE MSRs: then a guest's CR3 access exits and stops it.
        self.pin = pin; self.proc = proc
        interruptWindowAllowed = (x86_rdmsr(hasTrue ? 0x48E : 0x482) >> 32) & UInt64(C.procInterruptWindow) != 0
        self.proc2 = proc2; self.exit = exit; self.entry = entry
        timerShift = x86_rdmsr(0x485) & 0x1F
        cr0Fixed0 = x86_rdmsr(0x486); cr0Fixed1 = x86_rdmsr(0x487)
        cr4Fixed0 = x86_rdmsr(0x488); cr4Fixed1 = x86_rdmsr(0x489)
        // Every port and every MSR exits; the port decides (VCPU.swift).
        UnsafeMutableRawPointer(bitPattern: UInt(x86_io_bitmaps_address()))!.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 8192)
        UnsafeMutableRawPointer(bitPattern: UInt(x86_msr_bitmap_address()))!.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 4096)
        GuestBootTables.build(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: UInt(x86_guest_boot_pages_address())),
                                                            count: Int(GuestBootTables.size)),
                              base: X86_64.portWindow.base.value)
    }

    @inline(__always) static func write(_ field: UInt64, _ value: UInt64) { _ = x86_vmwrite(field, value) }
    @inline(__always) static func read(_ field: UInt64) -> UInt64 { x86_vmread(field) }

    /// Writes every field of the current VMCS for a vCPU entering at `rip` (SDM 26.2-26.3).
    static func setup(_ r: UnsafeMutablePointer<x86_vcpu_t>, eptp: UInt64) {
        typealias F = VMCSField
        write(F.pinControls, UInt64(pin))
        write(F.procControls, UInt64(proc))
        write(F.proc2Controls, UInt64(proc2))
        write(F.exitControls, UInt64(exit))
        write(F.entryControls, UInt64(entry))
        write(F.exceptionBitmap, 0)
        write(F.pageFaultMask, 0); write(F.pageFaultMatch, 0); write(F.cr3TargetCount, 0)
        write(F.exitMSRStoreCount, 0); write(F.exitMSRLoadCount, 0); write(F.entryMSRLoadCount, 0)
        write(F.entryInterruptionInfo, 0)
        write(F.ioBitmapA, x86_io_bitmaps_address()); write(F.ioBitmapB, x86_io_bitmaps_address() + 4096)
        write(F.msrBitmap, x86_msr_bitmap_address())
        write(F.tscOffset, 0)
        write(F.eptPointer, eptp)
        write(F.linkPointer, ~0)
        // CR0 and CR4 belong to the host: guest reads see the shadows, writes exit (and stop the guest).
        write(F.cr0Mask, ~0); write(F.cr4Mask, ~0)
        write(F.cr0Shadow, guestCR0); write(F.cr4Shadow, guestCR4)
        writeHostState()

        let cr0 = (guestCR0 | cr0Fixed0) & cr0Fixed1
        let cr4 = (guestCR4 | cr4Fixed0 | (1 << 13)) & cr4Fixed1
        write(F.guestCR0, cr0); write(F.guestCR3, X86_64.portWindow.base.value); write(F.guestCR4, cr4)
        write(F.guestEFER, guestEFER)
        write(F.guestDR7, 0x400); write(F.guestDebugCtl, 0)
        for i: UInt64 in 0..<8 {
            let selector: UInt64, access: UInt64, limit: UInt64
            switch i {
            case 1: selector = UInt64(GuestBootTables.codeSelector); access = 0xA09B; limit = 0xFFFF_FFFF
            case 6: selector = 0; access = 0x1_0000; limit = 0                      // LDTR unusable
            case 7: selector = UInt64(GuestBootTables.taskSelector); access = 0x8B; limit = 0x67
            default: selector = UInt64(GuestBootTables.dataSelector); access = 0xC093; limit = 0xFFFF_FFFF
            }
            write(F.guestES + 2 * i, selector)
            write(F.guestESLimit + 2 * i, limit)
            write(F.guestESAccess + 2 * i, access)
            write(F.guestESBase + 2 * i, i == 7 ? X86_64.portWindow.base.value + GuestBootTables.gdtOffset + 0x100 : 0)
        }
        write(F.guestGDTRBase, X86_64.portWindow.base.value + GuestBootTables.gdtOffset)
        write(F.guestGDTRLimit, UInt64(GuestBootTables.gdtLimit))
        write(F.guestIDTRBase, 0); write(F.guestIDTRLimit, 0xFFFF)
        write(F.guestInterruptibility, 0); write(F.guestActivity, 0); write(F.guestPendingDebug, 0)
        write(F.guestSysenterCS, 0); write(F.guestSysenterESP, 0); write(F.guestSysenterEIP, 0)
        write(F.guestRIP, r.pointee.rip); write(F.guestRSP, r.pointee.rsp); write(F.guestRFLAGS, r.pointee.rflags)
    }

    /// The hypervisor's state a VM exit returns to (SDM 27.5); HOST_RSP/RIP come from switch.S.
    static func writeHostState() {
        typealias F = VMCSField
        write(F.hostCR0, x86_read_cr0()); write(F.hostCR3, x86_read_cr3()); write(F.hostCR4, x86_read_cr4())
        write(F.hostCS, UInt64(x86_read_cs())); write(F.hostSS, UInt64(x86_read_ss()))
        write(F.hostDS, UInt64(x86_read_ds())); write(F.hostES, UInt64(x86_read_es()))
        write(F.hostFS, 0); write(F.hostGS, 0)
        let tr = x86_str()
        write(F.hostTR, UInt64(tr))
        let gdt = x86_sgdt_base()
        // The TSS base from its 16-byte GDT descriptor (SDM Vol. 3A 7.2.3).
        let low = UnsafePointer<UInt64>(bitPattern: UInt(gdt + UInt64(tr & ~7)))!.pointee
        let high = UnsafePointer<UInt64>(bitPattern: UInt(gdt + UInt64(tr & ~7) + 8))!.pointee
        let trBase = (low >> 16 & 0xFF_FFFF) | (low >> 56 & 0xFF) << 24 | (high & 0xFFFF_FFFF) << 32
        write(F.hostTRBase, trBase)
        write(F.hostGDTRBase, gdt); write(F.hostIDTRBase, x86_sidt_base())
        write(F.hostFSBase, 0); write(F.hostGSBase, 0)
        write(F.hostSysenterCS, 0); write(F.hostSysenterESP, 0); write(F.hostSysenterEIP, 0)
        write(F.hostEFER, x86_rdmsr(0xC000_0080))
    }
}
