// VMXDecode (x86_64): pure decoding and encoding for the VMX port, host-testable.
//
// Nothing here touches hardware: VMX control words checked against the
// capability MSRs' allowed settings, VM-exit reasons and qualifications
// turned into the core's `VMExit`, Rumkv's VMCALL ABI in both directions, the
// CPUID and MSR policy guests get, EPT entries and the boot page tables and
// GDT every guest is entered with, and the emulated 16550 on COM1. The port
// (VCPU.swift, EPT.swift) feeds these from the VMCS; Tests/X86_64ParserTests
// feeds them directly. References: Intel SDM Vol. 3C chapters 24-28 and
// appendix A/C (exit reasons), Vol. 3A 4.5 (4-level paging).

import RumkvCore
import RumABI

// MARK: Controls

/// A VMX control word checked against its capability MSR (SDM Vol. 3C A.3-A.5):
/// bits clear in the low half must be 1, bits clear in the high half must be 0.
public enum VMXControls {
    /// `wanted` adjusted to what the CPU allows; nil if a bit of `required` is not allowed.
    public static func adjust(wanted: UInt32, required: UInt32, capability: UInt64) -> UInt32? {
        let mustBeOne = UInt32(truncatingIfNeeded: capability)
        let mayBeOne = UInt32(truncatingIfNeeded: capability >> 32)
        let value = (wanted | mustBeOne) & mayBeOne
        return value & required == required ? value : nil
    }

    // Pin-based (24.6.1).
    public static let pinExternalInterrupt: UInt32 = 1 << 0
    public static let pinNMI: UInt32 = 1 << 3
    public static let pinPreemptionTimer: UInt32 = 1 << 6
    // Primary processor-based (24.6.2).
    public static let procInterruptWindow: UInt32 = 1 << 2
    public static let procHLT: UInt32 = 1 << 7
    public static let procIOBitmaps: UInt32 = 1 << 25
    public static let procMSRBitmaps: UInt32 = 1 << 28
    public static let procSecondary: UInt32 = 1 << 31
    // Secondary processor-based.
    public static let proc2EPT: UInt32 = 1 << 1
    // VM-exit controls (24.7.1).
    public static let exitHost64: UInt32 = 1 << 9
    public static let exitAckInterrupt: UInt32 = 1 << 15
    public static let exitSaveEFER: UInt32 = 1 << 20
    public static let exitLoadEFER: UInt32 = 1 << 21
    // VM-entry controls (24.8.1).
    public static let entryIA32e: UInt32 = 1 << 9
    public static let entryLoadEFER: UInt32 = 1 << 15
}

// MARK: Exits

/// Basic exit reasons used by the port (SDM Vol. 3C appendix C).
public enum VMXExitReason {
    public static let exceptionOrNMI: UInt32 = 0
    public static let externalInterrupt: UInt32 = 1
    public static let tripleFault: UInt32 = 2
    public static let interruptWindow: UInt32 = 7
    public static let cpuid: UInt32 = 10
    public static let hlt: UInt32 = 12
    public static let vmcall: UInt32 = 18
    public static let crAccess: UInt32 = 28
    public static let io: UInt32 = 30
    public static let rdmsr: UInt32 = 31
    public static let wrmsr: UInt32 = 32
    public static let invalidGuestState: UInt32 = 33
    public static let msrLoading: UInt32 = 34
    public static let eptViolation: UInt32 = 48
    public static let eptMisconfiguration: UInt32 = 49
    public static let preemptionTimer: UInt32 = 52

    /// VMX instructions a guest may not use: VMCLEAR..VMXON (19-27), INVEPT (50), INVVPID (53), VMFUNC (59).
    public static func isVMXInstruction(_ r: UInt32) -> Bool { (19...27).contains(r) || r == 50 || r == 53 || r == 59 }
}

/// A decoded IN or OUT (exit qualification, SDM Vol. 3C table 28-5).
public struct IOAccess: Equatable {
    public var port: UInt16
    /// Bytes: 1, 2 or 4.
    public var size: UInt8
    public var isIn: Bool
    /// INS/OUTS or a REP prefix: never emulated.
    public var string: Bool

    public init(port: UInt16, size: UInt8, isIn: Bool, string: Bool) {
        self.port = port; self.size = size; self.isIn = isIn; self.string = string
    }

    public static func decode(qualification q: UInt64) -> IOAccess {
        IOAccess(port: UInt16(truncatingIfNeeded: q >> 16), size: UInt8(truncatingIfNeeded: (q & 7) + 1),
                 isIn: q & (1 << 3) != 0, string: q & (3 << 4) != 0)
    }
}

/// A trap the x86 port does not emulate in place; the core has it stopped as a fault.
public enum X86Trap: Equatable {
    /// Port I/O outside the guest's emulated devices.
    case io(IOAccess)
}

/// What the port reads from the VMCS and the guest's registers after an exit.
public struct VMXExitState {
    public var reason: UInt32
    public var qualification: UInt64
    public var guestPhysical: UInt64
    public var rip: UInt64
    public var rax: UInt64, rcx: UInt64, rdx: UInt64, rsi: UInt64, rdi: UInt64

    public init(reason: UInt32, qualification: UInt64 = 0, guestPhysical: UInt64 = 0, rip: UInt64 = 0,
                rax: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0, rsi: UInt64 = 0, rdi: UInt64 = 0) {
        self.reason = reason; self.qualification = qualification; self.guestPhysical = guestPhysical
        self.rip = rip; self.rax = rax; self.rcx = rcx; self.rdx = rdx; self.rsi = rsi; self.rdi = rdi
    }
}

/// An exit decoded: either for the core, or for the port to answer in place.
public enum X86Exit: Equatable {
    case core(VMExitKind)
    /// CPUID leaf/subleaf: answered in place through `CPUIDPolicy`.
    case cpuid(leaf: UInt32, subleaf: UInt32)
    /// RUM_HC_VERSION: answered in place.
    case version
    /// COM1 register access: answered in place by `VirtualCOM1` (a THR byte goes to the core).
    case com1(IOAccess)
    /// RDMSR/WRMSR of `index` (`MSRPolicy`); value = edx:eax for writes.
    case msr(write: Bool, index: UInt32, value: UInt64)
    /// The interrupt window opened: inject what is pending.
    case interruptWindow
}

/// The `VMExit` cases an x86 exit can become, comparable for tests.
public enum VMExitKind: Equatable {
    case call(GuestCall)
    case trap(X86Trap)
    case tick
    case waitForInterrupt
    case stage2Fault(gpa: UInt64, access: Access)
    case fatal(FaultKind, detail: UInt64)
    case interrupt

    public func exit(pc: UInt64) -> VMExit<X86Trap> {
        switch self {
        case .call(let c): .call(c)
        case .trap(let t): .portTrap(t)
        case .tick: .tick
        case .waitForInterrupt: .waitForInterrupt
        case .stage2Fault(let gpa, let access): .stage2Fault(gpa: GuestPhysicalAddress(gpa), access: access, pc: pc)
        case .fatal(let kind, let detail): .fatal(kind, pc: pc, detail: detail)
        case .interrupt: .interrupt
        }
    }
}

public enum VMXDecode {
    public static let com1Base: UInt16 = 0x3F8

    /// Decodes an exit. Bit 31 of the reason (VM-entry failure) and every reason
    /// not listed stop the guest; none of them ends the hypervisor.
    public static func decode(_ s: VMXExitState) -> X86Exit {
        if s.reason & (1 << 31) != 0 { return .core(.fatal(.unknown, detail: UInt64(s.reason))) }
        let basic = s.reason & 0xFFFF
        switch basic {
        case VMXExitReason.externalInterrupt: return .core(.interrupt)
        case VMXExitReason.preemptionTimer: return .core(.tick)
        case VMXExitReason.hlt: return .core(.waitForInterrupt)
        case VMXExitReason.interruptWindow: return .interruptWindow
        case VMXExitReason.cpuid:
            return .cpuid(leaf: UInt32(truncatingIfNeeded: s.rax), subleaf: UInt32(truncatingIfNeeded: s.rcx))
        case VMXExitReason.vmcall:
            guard let call = X86Hypercall.decode(rax: s.rax, rdi: s.rdi, rsi: s.rsi, rdx: s.rdx) else { return .version }
            return .core(.call(call))
        case VMXExitReason.io:
            let a = IOAccess.decode(qualification: s.qualification)
            if !a.string, a.size == 1, a.port >= com1Base, a.port - com1Base < 8 { return .com1(a) }
            return .core(.trap(.io(a)))
        case VMXExitReason.rdmsr, VMXExitReason.wrmsr:
            return .msr(write: basic == VMXExitReason.wrmsr, index: UInt32(truncatingIfNeeded: s.rcx),
                        value: (s.rdx & 0xFFFF_FFFF) << 32 | (s.rax & 0xFFFF_FFFF))
        case VMXExitReason.eptViolation:
            // Qualification bit 0 read, 1 write, 2 instruction fetch (table 28-7).
            let access: Access = s.qualification & 4 != 0 ? .execute : s.qualification & 2 != 0 ? .write : .read
            return .core(.stage2Fault(gpa: s.guestPhysical, access: access))
        case VMXExitReason.tripleFault: return .core(.fatal(.accessFault, detail: UInt64(basic)))
        case VMXExitReason.crAccess: return .core(.fatal(.virtualInstruction, detail: s.qualification))
        default:
            if VMXExitReason.isVMXInstruction(basic) { return .core(.fatal(.virtualInstruction, detail: UInt64(basic))) }
            return .core(.fatal(.unknown, detail: UInt64(basic)))
        }
    }
}

// MARK: Hypercalls

/// Rumkv's VMCALL ABI (rumabi.h): rax = RUM_HC_*, rdi/rsi/rdx = arguments,
/// rax = a value or a negative RUM_HC_ERR_* (the SBI error numbers).
public enum X86Hypercall {
    /// The call in the core's vocabulary; nil for RUM_HC_VERSION (the port answers it).
    public static func decode(rax: UInt64, rdi: UInt64, rsi: UInt64, rdx: UInt64) -> GuestCall? {
        guard rax <= UInt64(UInt32.max) else { return .unsupported }
        switch UInt32(rax) {
        case RUM_HC_VERSION: return nil
        case RUM_HC_CONSOLE_WRITE: return .consoleWrite(GuestPhysicalAddress(rdi), length: rsi)
        case RUM_HC_CONSOLE_READ: return .consoleRead(GuestPhysicalAddress(rdi), length: rsi)
        case RUM_HC_YIELD: return .yield
        case RUM_HC_DOORBELL: return .doorbell(rdi)
        case RUM_HC_EXIT: return .systemReset(rdi == 0 ? .shutdown : .crash)
        case RUM_HC_SET_TIMER: return .setTimer(rdi)
        case RUM_HC_VCPU_START: return .vcpuStart(vcpu: rdi, entry: GuestPhysicalAddress(rsi), arg: rdx)
        case RUM_HC_VCPU_STOP: return .vcpuStop
        case RUM_HC_VCPU_STATUS: return .vcpuStatus(vcpu: rdi)
        case RUM_HC_SEND_IPI: return .sendIPI(VCPUSet(bits: rdi))
        default: return .unsupported
        }
    }

    public static func errorCode(_ e: CallError) -> Int64 {
        switch e {
        case .failed: -1
        case .notSupported: Int64(RUM_HC_ERR_UNSUPPORTED)
        case .invalidParameter: Int64(RUM_HC_ERR_INVALID)
        case .invalidAddress: Int64(RUM_HC_ERR_ADDRESS)
        case .alreadyAvailable: -6
        case .alreadyStarted: -7
        case .alreadyStopped: -8
        }
    }

    /// The value rax gets.
    public static func encode(_ r: CallResult) -> UInt64 {
        switch r {
        case .success(let v): v
        case .failure(let e): UInt64(bitPattern: errorCode(e))
        }
    }
}

// MARK: CPUID and MSRs

/// What CPUID tells a guest: the host's answer without VMX, SMX, MONITOR,
/// x2APIC, TSC-deadline, XSAVE and PCID (none virtualized), with the
/// hypervisor bit set, and Rumkv's leaf 0x40000000.
public enum CPUIDPolicy {
    public struct Registers: Equatable {
        public var eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32
        public init(_ eax: UInt32, _ ebx: UInt32, _ ecx: UInt32, _ edx: UInt32) {
            self.eax = eax; self.ebx = ebx; self.ecx = ecx; self.edx = edx
        }
    }

    /// "RumkvRumkvRu" as leaf 0x40000000 returns it in ebx, ecx, edx.
    public static let signature = Registers(0x4000_0000, 0x6B6D_7552, 0x6D75_5276, 0x7552_766B)

    static let leaf1Hidden: UInt32 = (1 << 3) | (1 << 5) | (1 << 6) | (1 << 17) | (1 << 21) | (1 << 24) | (1 << 26) | (1 << 27)

    /// The guest's view of leaf/subleaf, given the host's answer and the host's maximum basic leaf.
    public static func filter(leaf: UInt32, subleaf: UInt32, host: Registers, maxBasic: UInt32) -> Registers {
        switch leaf {
        case 0: return Registers(min(host.eax, 0xD), host.ebx, host.ecx, host.edx)
        case 1:
            // ebx[31:24] initial APIC id stays the host's: vCPU numbering comes from the SysTable.
            return Registers(host.eax, host.ebx, (host.ecx & ~leaf1Hidden) | (1 << 31), host.edx)
        case 0x4000_0000: return signature
        case 0x4000_0001...0x4FFF_FFFF: return Registers(0, 0, 0, 0)
        case 7 where subleaf == 0:
            // Keep only FSGSBASE-free basics: hide SGX, PKU, invpcid and the rest.
            return Registers(0, host.ebx & ((1 << 3) | (1 << 8) | (1 << 9)), 0, 0)
        case 0xA, 0xB, 0xD, 7: return Registers(0, 0, 0, 0)
        case 0x8000_0000...0x8000_0008: return host
        default: return leaf <= min(maxBasic, 0xD) ? host : Registers(0, 0, 0, 0)
        }
    }
}

/// MSRs a guest may touch (all others: #GP injected into the guest).
public enum MSRPolicy {
    public static let tsc: UInt32 = 0x10
    public static let apicBase: UInt32 = 0x1B
    public static let efer: UInt32 = 0xC000_0080
    public static let fsBase: UInt32 = 0xC000_0100
    public static let gsBase: UInt32 = 0xC000_0101

    /// Allowed reads: the TSC, EFER (as entered) and the FS/GS bases (the port keeps them).
    public static func readable(_ index: UInt32) -> Bool { index == tsc || index == efer || index == fsBase || index == gsBase }

    /// Allowed writes: the FS/GS bases; EFER only with the value it has (LME|LMA).
    public static func writable(_ index: UInt32, value: UInt64, efer current: UInt64) -> Bool {
        index == fsBase || index == gsBase || (index == efer && value == current)
    }
}

// MARK: EPT and guest boot tables

/// EPT entries (SDM Vol. 3C 29.3.2): 4 levels, 2 MiB or 4 KiB leaves.
public enum EPTEntry {
    public static let read: UInt64 = 1 << 0
    public static let write: UInt64 = 1 << 1
    public static let execute: UInt64 = 1 << 2
    public static let writeBack: UInt64 = 6 << 3
    public static let uncacheable: UInt64 = 0 << 3
    public static let large: UInt64 = 1 << 7
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

    public static func table(_ address: UInt64) -> UInt64 { (address & addressMask) | read | write | execute }

    /// A leaf: normal memory write-back and executable (or read-only), devices uncached and never executable.
    public static func leaf(_ address: UInt64, kind: MappingKind, readOnly: Bool = false, large: Bool) -> UInt64 {
        let access = readOnly ? read : (kind == .device ? read | write : read | write | execute)
        return (address & addressMask) | access | (kind == .device ? uncacheable : writeBack) | (large ? EPTEntry.large : 0)
    }

    /// Indices into PML4, PDPT, PD and PT for `gpa`.
    public static func indices(_ gpa: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
        ((gpa >> 39) & 511, (gpa >> 30) & 511, (gpa >> 21) & 511, (gpa >> 12) & 511)
    }

    /// EPTP: write-back paging structures, 4-level walk (24.6.11).
    public static func pointer(root: UInt64) -> UInt64 { (root & addressMask) | (3 << 3) | 6 }

    /// Guest-physical addresses reach 2^48 - 1 with a 4-level walk.
    public static let limit: UInt64 = 1 << 48
}

/// The pages every guest is entered with, at `portWindow` (read-only for the
/// guest): a 4-level page table identity-mapping the low 4 GiB with 2 MiB
/// pages (A and D preset, so the CPU never writes them), and a GDT with the
/// code and data segments the VMCS enters it on. Layout by page: PML4, PDPT,
/// four page directories, the GDT.
public enum GuestBootTables {
    public static let pages = 7
    public static let size = UInt64(pages) * 4096
    public static let gdtOffset: UInt64 = 6 * 4096
    public static let codeSelector: UInt16 = 0x08
    public static let dataSelector: UInt16 = 0x10
    public static let taskSelector: UInt16 = 0x18
    public static let gdtLimit: UInt16 = 0x27
    /// 64-bit code (L = 1), accessed; flat data, accessed (SDM Vol. 3A 3.4.5).
    public static let codeDescriptor: UInt64 = 0x00AF_9B00_0000_FFFF
    public static let dataDescriptor: UInt64 = 0x00CF_9300_0000_FFFF
    /// Present, writable, accessed (non-leaf); plus page size and dirty (leaf).
    static let tableFlags: UInt64 = 0x23
    static let leafFlags: UInt64 = 0xE3

    /// Fills `memory` (at least `size` bytes) for placement at guest-physical `base`.
    public static func build(_ memory: UnsafeMutableRawBufferPointer, base: UInt64) {
        precondition(memory.count >= Int(size) && base & 0xFFF == 0)
        memory.initializeMemory(as: UInt8.self, repeating: 0)
        func put(_ page: Int, _ index: Int, _ value: UInt64) {
            memory.storeBytes(of: value, toByteOffset: page * 4096 + index * 8, as: UInt64.self)
        }
        put(0, 0, (base + 4096) | tableFlags)
        for d in 0..<4 {
            put(1, d, (base + UInt64(2 + d) * 4096) | tableFlags)
            for e in 0..<512 { put(2 + d, e, (UInt64(d) << 30 + UInt64(e) << 21) | leafFlags) }
        }
        put(6, 1, codeDescriptor)
        put(6, 2, dataDescriptor)
        // 0x18: a 64-bit TSS descriptor (busy) over the last 0x68 bytes of the GDT page.
        let tss = base + gdtOffset + 0x100
        put(6, 3, 0x67 | (tss & 0xFF_FFFF) << 16 | 0x8B << 40 | (tss >> 24 & 0xFF) << 56)
        put(6, 4, tss >> 32)
    }

    /// The translation the tables give `linear` (a host-test helper and a self-check).
    public static func translate(_ memory: UnsafeRawBufferPointer, base: UInt64, linear: UInt64) -> UInt64? {
        func load(_ address: UInt64) -> UInt64? {
            guard address >= base, address - base + 8 <= UInt64(memory.count) else { return nil }
            return memory.loadUnaligned(fromByteOffset: Int(address - base), as: UInt64.self)
        }
        guard linear >> 47 == 0, let l4 = load(base + (linear >> 39 & 511) * 8), l4 & 1 != 0,
              let l3 = load((l4 & EPTEntry.addressMask) + (linear >> 30 & 511) * 8), l3 & 1 != 0,
              let l2 = load((l3 & EPTEntry.addressMask) + (linear >> 21 & 511) * 8), l2 & 1 != 0, l2 & 0x80 != 0 else {
            return nil
        }
        return (l2 & 0x000F_FFFF_FFE0_0000) | (linear & 0x1F_FFFF)
    }
}

// MARK: COM1

/// A 16550 at COM1 as a guest sees it: registers keep their values, THR bytes
/// go to the guest's console, LSR says the transmitter is always empty and,
/// with `inputReady`, that a byte waits in RBR (8250/16550 register map).
public struct VirtualCOM1: Equatable {
    public var ier: UInt8 = 0
    public var lcr: UInt8 = 0
    public var mcr: UInt8 = 0
    public var scratch: UInt8 = 0
    public var divisor: UInt16 = 1

    public init() {}

    public enum Outcome: Equatable {
        /// The value an IN gets (OUT: ignored).
        case value(UInt8)
        /// A byte written to THR, for the console.
        case output(UInt8)
        /// A read of RBR: the console's next input byte (0 if none).
        case input
    }

    var dlab: Bool { lcr & 0x80 != 0 }

    /// The access of a byte at `offset` (0-7) from COM1's base.
    public mutating func access(offset: UInt16, isIn: Bool, value: UInt8, inputReady: Bool) -> Outcome {
        switch (offset, isIn) {
        case (0, false):
            if dlab { divisor = divisor & 0xFF00 | UInt16(value); return .value(0) }
            return .output(value)
        case (0, true):
            return dlab ? .value(UInt8(truncatingIfNeeded: divisor)) : .input
        case (1, false):
            if dlab { divisor = divisor & 0x00FF | UInt16(value) << 8 } else { ier = value & 0x0F }
            return .value(0)
        case (1, true): return .value(dlab ? UInt8(truncatingIfNeeded: divisor >> 8) : ier)
        case (2, true): return .value(0xC1)               // IIR: FIFOs enabled, no interrupt pending
        case (2, false): return .value(0)                 // FCR
        case (3, false): lcr = value; return .value(0)
        case (3, true): return .value(lcr)
        case (4, false): mcr = value & 0x1F; return .value(0)
        case (4, true): return .value(mcr)
        case (5, true): return .value(0x60 | (inputReady ? 1 : 0))   // THRE | TEMT | DR
        case (6, true): return .value(0xB0)               // MSR: DCD, DSR, CTS
        case (7, false): scratch = value; return .value(0)
        case (7, true): return .value(scratch)
        default: return .value(0)
        }
    }
}

/// Which pending virtual interrupt enters the guest next (SDM Vol. 3C 26.6
/// "Event Injection", 24.4.2 interruptibility state, 25.2 interrupt-window
/// exiting). The port keeps one pending bit per source; the highest vector
/// wins, as in a local APIC. An external interrupt may be injected only when
/// the guest has RFLAGS.IF = 1, is not in an STI or MOV-SS shadow and no other
/// event (an exception) is being injected on the same entry; otherwise the
/// port asks for an interrupt-window exit and tries again then.
public enum X86Interrupts {
    public static let ipi: UInt64 = 1 << 0, doorbell: UInt64 = 1 << 1, timer: UInt64 = 1 << 2
    public static let interruptFlag: UInt64 = 1 << 9

    public static func vector(_ bit: UInt64) -> UInt8 {
        switch bit {
        case ipi: UInt8(RUM_X86_VECTOR_IPI)
        case doorbell: UInt8(RUM_X86_VECTOR_DOORBELL)
        default: UInt8(RUM_X86_VECTOR_TIMER)
        }
    }

    public enum Decision: Equatable {
        case none
        /// Inject `vector` (VM-entry interruption information 0x8000_0000 | vector) and clear `bit`.
        case inject(vector: UInt8, bit: UInt64)
        /// Something is pending but the guest cannot take it now: exit when it can.
        case openWindow
    }

    public static func decide(pending: UInt64, rflags: UInt64, interruptibility: UInt64, exceptionPending: Bool) -> Decision {
        let p = pending & (ipi | doorbell | timer)
        guard p != 0 else { return .none }
        guard !exceptionPending, rflags & interruptFlag != 0, interruptibility & 0x3 == 0 else { return .openWindow }
        let bit: UInt64 = p & ipi != 0 ? ipi : (p & doorbell != 0 ? doorbell : timer)
        return .inject(vector: vector(bit), bit: bit)
    }

    /// The entry's interruption-information word for an external interrupt (type 0, valid).
    public static func entryInfo(vector: UInt8) -> UInt64 { 0x8000_0000 | UInt64(vector) }

    /// A HLT'ing vCPU wakes for a pending source or a due timer, and only with IF = 1.
    public static func wakeable(pending: UInt64, timerDeadline: UInt64, now: UInt64, rflags: UInt64) -> Bool {
        rflags & interruptFlag != 0 && (pending != 0 || (timerDeadline != 0 && timerDeadline <= now))
    }
}
