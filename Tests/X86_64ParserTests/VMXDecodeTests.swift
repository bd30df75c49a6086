// VMXDecodeTests: the x86_64 port's pure exit decoder, VMCALL ABI, policies,
// EPT entries, guest boot tables and COM1 model, on values from the SDM and
// on hostile register contents.

import XCTest
import RumABI
import RumkvCore
import TestSupport
@testable import X86_64Parsers

final class VMXDecodeTests: XCTestCase {
    func exit(_ reason: UInt32, q: UInt64 = 0, gpa: UInt64 = 0, rax: UInt64 = 0, rcx: UInt64 = 0,
              rdx: UInt64 = 0, rsi: UInt64 = 0, rdi: UInt64 = 0) -> X86Exit {
        VMXDecode.decode(VMXExitState(reason: reason, qualification: q, guestPhysical: gpa, rip: 0x8000_1000,
                                      rax: rax, rcx: rcx, rdx: rdx, rsi: rsi, rdi: rdi))
    }

    func testControlsFollowTheCapabilityMSR() {
        // Bochs' IA32_VMX_TRUE_PINBASED_CTLS shape: bits 1, 2, 4 must be 1; 0, 3, 5, 6, 7 may be 1.
        let cap: UInt64 = 0x0000_00FF_0000_0016
        XCTAssertEqual(VMXControls.adjust(wanted: 0x49, required: 0x49, capability: cap), 0x5F)
        XCTAssertNil(VMXControls.adjust(wanted: 1 << 8, required: 1 << 8, capability: cap), "a bit the CPU cannot set")
        XCTAssertEqual(VMXControls.adjust(wanted: 1 << 8, required: 0, capability: cap), 0x16, "optional bits are dropped")
        XCTAssertEqual(VMXControls.adjust(wanted: 0, required: 0, capability: 0), 0)
    }

    func testExitsForTheCore() {
        XCTAssertEqual(exit(52), .core(.tick))
        XCTAssertEqual(exit(12), .core(.waitForInterrupt))
        XCTAssertEqual(exit(1), .core(.interrupt))
        XCTAssertEqual(exit(7), .interruptWindow)
        XCTAssertEqual(exit(10, rax: 0xFFFF_FFFF_0000_0001, rcx: 0x1_0000_0002), .cpuid(leaf: 1, subleaf: 2))
        // EPT violation qualification 0x181 (read, linear address valid) as measured on Bochs.
        XCTAssertEqual(exit(48, q: 0x181, gpa: 0x4000_0000), .core(.stage2Fault(gpa: 0x4000_0000, access: .read)))
        XCTAssertEqual(exit(48, q: 0x182, gpa: 0x7FFF_F000), .core(.stage2Fault(gpa: 0x7FFF_F000, access: .write)))
        XCTAssertEqual(exit(48, q: 0x184, gpa: 0x10), .core(.stage2Fault(gpa: 0x10, access: .execute)))
        XCTAssertEqual(exit(2), .core(.fatal(.accessFault, detail: 2)), "triple fault stops the guest")
        XCTAssertEqual(exit(28, q: 0x4), .core(.fatal(.virtualInstruction, detail: 4)), "mov to cr4")
        for r: UInt32 in [19, 20, 21, 22, 23, 24, 25, 26, 27, 50, 53, 59] {
            XCTAssertEqual(exit(r), .core(.fatal(.virtualInstruction, detail: UInt64(r))), "VMX instruction \(r)")
        }
        XCTAssertEqual(exit(0x8000_0021), .core(.fatal(.unknown, detail: 0x8000_0021)), "entry failure: invalid guest state")
        XCTAssertEqual(exit(49), .core(.fatal(.unknown, detail: 49)))
        XCTAssertEqual(exit(0xFFFF), .core(.fatal(.unknown, detail: 0xFFFF)))
    }

    func testPortIO() {
        // out %al, $0x3f8: port 0x3F8 << 16, size 1, out, immediate operand (bit 6).
        XCTAssertEqual(exit(30, q: 0x03F8_0040), .com1(IOAccess(port: 0x3F8, size: 1, isIn: false, string: false)))
        XCTAssertEqual(exit(30, q: 0x03FD_0008), .com1(IOAccess(port: 0x3FD, size: 1, isIn: true, string: false)))
        XCTAssertEqual(exit(30, q: 0x03F8_0001), .core(.trap(.io(IOAccess(port: 0x3F8, size: 2, isIn: false, string: false)))),
                       "a 16-bit access to COM1 is not emulated")
        XCTAssertEqual(exit(30, q: 0x03F8_0010), .core(.trap(.io(IOAccess(port: 0x3F8, size: 1, isIn: false, string: true)))),
                       "OUTSB is not emulated")
        XCTAssertEqual(exit(30, q: 0x0CF8_0003), .core(.trap(.io(IOAccess(port: 0xCF8, size: 4, isIn: false, string: false)))))
        XCTAssertEqual(exit(30, q: 0x0400_0008), .core(.trap(.io(IOAccess(port: 0x400, size: 1, isIn: true, string: false)))),
                       "the port right after COM1's eight is not COM1")
    }

    func testHypercalls() {
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_VERSION)), .version)
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_CONSOLE_WRITE), rsi: 12, rdi: 0x8000_2000),
                       .core(.call(.consoleWrite(GuestPhysicalAddress(0x8000_2000), length: 12))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_CONSOLE_READ), rsi: 16, rdi: 0x8000_3000),
                       .core(.call(.consoleRead(GuestPhysicalAddress(0x8000_3000), length: 16))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_YIELD)), .core(.call(.yield)))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_DOORBELL), rdi: 3), .core(.call(.doorbell(3))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_EXIT)), .core(.call(.systemReset(.shutdown))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_EXIT), rdi: 1), .core(.call(.systemReset(.crash))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_SET_TIMER), rdi: 0x1234_5678), .core(.call(.setTimer(0x1234_5678))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_SET_TIMER), rdi: ~0), .core(.call(.setTimer(~0))), "UINT64_MAX disarms")
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_VCPU_START), rdx: 0xABC, rsi: 0x8000_4000, rdi: 1),
                       .core(.call(.vcpuStart(vcpu: 1, entry: GuestPhysicalAddress(0x8000_4000), arg: 0xABC))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_VCPU_STOP)), .core(.call(.vcpuStop)))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_VCPU_STATUS), rdi: 7), .core(.call(.vcpuStatus(vcpu: 7))))
        XCTAssertEqual(exit(18, rax: UInt64(RUM_HC_SEND_IPI), rdi: 0b10), .core(.call(.sendIPI(VCPUSet(bits: 2)))))
        XCTAssertEqual(exit(18, rax: 99), .core(.call(.unsupported)))
        XCTAssertEqual(exit(18, rax: 1 << 32 | UInt64(RUM_HC_YIELD)), .core(.call(.unsupported)), "upper rax bits are not ignored")
        XCTAssertEqual(X86Hypercall.encode(.success(42)), 42)
        XCTAssertEqual(Int64(bitPattern: X86Hypercall.encode(.failure(.notSupported))), Int64(RUM_HC_ERR_UNSUPPORTED))
        XCTAssertEqual(Int64(bitPattern: X86Hypercall.encode(.failure(.invalidAddress))), Int64(RUM_HC_ERR_ADDRESS))
        XCTAssertEqual(Int64(bitPattern: X86Hypercall.encode(.failure(.invalidParameter))), Int64(RUM_HC_ERR_INVALID))
    }

    /// Event injection: the highest pending vector, only with IF = 1, no STI or
    /// MOV-SS shadow and no exception on the same entry; else an interrupt window.
    func testInterruptInjectionDecision() {
        typealias I = X86Interrupts
        let on: UInt64 = 0x202, off: UInt64 = 0x2
        XCTAssertEqual(I.decide(pending: 0, rflags: on, interruptibility: 0, exceptionPending: false), .none)
        XCTAssertEqual(I.decide(pending: I.timer, rflags: on, interruptibility: 0, exceptionPending: false),
                       .inject(vector: 0x20, bit: I.timer))
        XCTAssertEqual(I.decide(pending: I.doorbell | I.timer, rflags: on, interruptibility: 0, exceptionPending: false),
                       .inject(vector: 0x21, bit: I.doorbell), "the higher vector first")
        XCTAssertEqual(I.decide(pending: I.ipi | I.doorbell | I.timer, rflags: on, interruptibility: 0, exceptionPending: false),
                       .inject(vector: 0x22, bit: I.ipi))
        XCTAssertEqual(I.decide(pending: I.timer, rflags: off, interruptibility: 0, exceptionPending: false), .openWindow, "IF = 0")
        XCTAssertEqual(I.decide(pending: I.timer, rflags: on, interruptibility: 1, exceptionPending: false), .openWindow, "STI shadow")
        XCTAssertEqual(I.decide(pending: I.timer, rflags: on, interruptibility: 2, exceptionPending: false), .openWindow, "MOV-SS shadow")
        XCTAssertEqual(I.decide(pending: I.timer, rflags: on, interruptibility: 8, exceptionPending: false),
                       .inject(vector: 0x20, bit: I.timer), "NMI blocking does not hold back an external interrupt")
        XCTAssertEqual(I.decide(pending: I.timer, rflags: on, interruptibility: 0, exceptionPending: true), .openWindow,
                       "one event per entry: the #GP goes first")
        XCTAssertEqual(I.decide(pending: 1 << 40, rflags: on, interruptibility: 0, exceptionPending: false), .none,
                       "unknown pending bits inject nothing")
        XCTAssertEqual(I.entryInfo(vector: 0x21), 0x8000_0021, "valid, type 0 (external interrupt)")
        XCTAssertTrue(I.wakeable(pending: I.doorbell, timerDeadline: 0, now: 5, rflags: on))
        XCTAssertTrue(I.wakeable(pending: 0, timerDeadline: 5, now: 5, rflags: on), "the timer is due")
        XCTAssertFalse(I.wakeable(pending: 0, timerDeadline: 6, now: 5, rflags: on))
        XCTAssertFalse(I.wakeable(pending: 0, timerDeadline: 0, now: 5, rflags: on), "0 is disarmed")
        XCTAssertFalse(I.wakeable(pending: I.doorbell, timerDeadline: 1, now: 5, rflags: off), "cli; hlt waits for good")
    }

    /// Any register contents decode to something, never a trap of the decoder.
    func testFuzzExits() {
        let seed: UInt64 = 0x7E17_0000_0000_0001
        var rng = SplitMix64(seed: seed)
        for _ in 0..<20000 {
            let reason = rng.below(3) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.below(70))
            let e = exit(reason, q: rng.next(), gpa: rng.next(), rax: rng.next(), rcx: rng.next(), rdx: rng.next(),
                         rsi: rng.next(), rdi: rng.next())
            if case .com1(let a) = e { XCTAssertTrue(a.port >= 0x3F8 && a.port < 0x400 && a.size == 1, "\(a) \(SplitMix64.describe(seed))") }
            if reason & (1 << 31) != 0, case .core(.fatal) = e {} else if reason & (1 << 31) != 0 {
                XCTFail("entry failure \(reason) must stop the guest \(SplitMix64.describe(seed))")
            }
        }
    }

    func testCPUIDHidesWhatIsNotVirtualized() {
        let host = CPUIDPolicy.Registers(0x906EA, 0x0100_0800, 0xFFFF_FFFF, 0xBFEB_FBFF)
        let g = CPUIDPolicy.filter(leaf: 1, subleaf: 0, host: host, maxBasic: 0x16)
        XCTAssertEqual(g.ecx & (1 << 5), 0, "no VMX")
        XCTAssertEqual(g.ecx & (1 << 6), 0, "no SMX")
        XCTAssertEqual(g.ecx & (1 << 21), 0, "no x2APIC")
        XCTAssertEqual(g.ecx & (1 << 26), 0, "no XSAVE")
        XCTAssertNotEqual(g.ecx & (1 << 31), 0, "the hypervisor bit")
        XCTAssertEqual(g.edx, host.edx)
        XCTAssertEqual(CPUIDPolicy.filter(leaf: 0x4000_0000, subleaf: 0, host: host, maxBasic: 0x16), CPUIDPolicy.signature)
        let sig = CPUIDPolicy.signature
        let bytes = [sig.ebx, sig.ecx, sig.edx].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "RumkvRumkvRu")
        XCTAssertEqual(CPUIDPolicy.filter(leaf: 0x14, subleaf: 0, host: host, maxBasic: 0x16), CPUIDPolicy.Registers(0, 0, 0, 0))
        XCTAssertEqual(CPUIDPolicy.filter(leaf: 0, subleaf: 0, host: CPUIDPolicy.Registers(0x16, 1, 2, 3), maxBasic: 0x16).eax, 0xD)
    }

    func testMSRAllowList() {
        XCTAssertTrue(MSRPolicy.readable(MSRPolicy.tsc))
        XCTAssertTrue(MSRPolicy.readable(MSRPolicy.efer))
        XCTAssertFalse(MSRPolicy.readable(0x3A), "IA32_FEATURE_CONTROL")
        XCTAssertFalse(MSRPolicy.readable(0x480), "VMX capability MSRs")
        XCTAssertTrue(MSRPolicy.writable(MSRPolicy.fsBase, value: 0x1234, efer: 0x500))
        XCTAssertTrue(MSRPolicy.writable(MSRPolicy.efer, value: 0x500, efer: 0x500))
        XCTAssertFalse(MSRPolicy.writable(MSRPolicy.efer, value: 0xD01, efer: 0x500), "EFER.SCE/NXE changes")
        XCTAssertFalse(MSRPolicy.writable(MSRPolicy.tsc, value: 0, efer: 0x500))
        XCTAssertFalse(MSRPolicy.writable(MSRPolicy.apicBase, value: 0, efer: 0x500))
        XCTAssertEqual(exit(32, rax: 0xFFFF_FFFF_8000_0001, rcx: 0xC000_0080, rdx: 0xFFFF_FFFF_0000_0002),
                       .msr(write: true, index: 0xC000_0080, value: 0x2_8000_0001))
        XCTAssertEqual(exit(31, rcx: 0x1_0000_0010), .msr(write: false, index: 0x10, value: 0))
    }

    func testEPTEntries() {
        XCTAssertEqual(EPTEntry.pointer(root: 0x12_3000), 0x12_301E)
        XCTAssertEqual(EPTEntry.table(0x45_6000), 0x45_6007)
        XCTAssertEqual(EPTEntry.leaf(0x40_0000, kind: .normal, large: true), 0x40_00B7)
        XCTAssertEqual(EPTEntry.leaf(0x7000, kind: .normal, readOnly: true, large: false), 0x7031)
        XCTAssertEqual(EPTEntry.leaf(0xFEC0_0000, kind: .device, large: false), 0xFEC0_0003, "devices: uncached, never executable")
        let (a, b, c, d) = EPTEntry.indices(0x7FFF_F000)
        XCTAssertEqual([a, b, c, d], [0, 1, 511, 511])
        let (e, f, g, h) = EPTEntry.indices(0x8000_0000)
        XCTAssertEqual([e, f, g, h], [0, 2, 0, 0])
    }

    func testGuestBootTablesMapTheLowFourGiB() {
        let base: UInt64 = 0x7FF0_0000
        var memory = [UInt8](repeating: 0xAA, count: Int(GuestBootTables.size))
        memory.withUnsafeMutableBytes { GuestBootTables.build($0, base: base) }
        memory.withUnsafeBytes { m in
            for linear: UInt64 in [0, 0x8000_0000, 0x8012_3456, 0x7FFF_F008, 0xFFFF_FFFF, 0x7F00_0000] {
                XCTAssertEqual(GuestBootTables.translate(m, base: base, linear: linear), linear, "identity at \(linear)")
            }
            XCTAssertNil(GuestBootTables.translate(m, base: base, linear: 1 << 32), "nothing above 4 GiB")
            // Every entry has A (and leaves D) preset, so the CPU never writes the read-only tables.
            for page in 0..<6 {
                for i in 0..<512 {
                    let e = m.loadUnaligned(fromByteOffset: page * 4096 + i * 8, as: UInt64.self)
                    if e & 1 != 0 { XCTAssertEqual(e & 0x20, 0x20) }
                    if page >= 2 { XCTAssertEqual(e & 0xE3, 0xE3) }
                }
            }
            let gdt = Int(GuestBootTables.gdtOffset)
            XCTAssertEqual(m.loadUnaligned(fromByteOffset: gdt + 8, as: UInt64.self), GuestBootTables.codeDescriptor)
            XCTAssertEqual(m.loadUnaligned(fromByteOffset: gdt + 16, as: UInt64.self), GuestBootTables.dataDescriptor)
            XCTAssertEqual(GuestBootTables.codeDescriptor >> 40 & 0xFF, 0x9B, "present code, accessed")
            XCTAssertEqual(GuestBootTables.codeDescriptor >> 53 & 1, 1, "64-bit (L)")
        }
    }

    func testCOM1Model() {
        var u = VirtualCOM1()
        XCTAssertEqual(u.access(offset: 0, isIn: false, value: 0x41, inputReady: false), .output(0x41))
        XCTAssertEqual(u.access(offset: 5, isIn: true, value: 0, inputReady: false), .value(0x60))
        XCTAssertEqual(u.access(offset: 5, isIn: true, value: 0, inputReady: true), .value(0x61))
        XCTAssertEqual(u.access(offset: 0, isIn: true, value: 0, inputReady: true), .input)
        // Divisor latch: with LCR.DLAB, offsets 0 and 1 are the divisor, not THR/IER.
        XCTAssertEqual(u.access(offset: 3, isIn: false, value: 0x83, inputReady: false), .value(0))
        XCTAssertEqual(u.access(offset: 0, isIn: false, value: 0x0C, inputReady: false), .value(0))
        XCTAssertEqual(u.access(offset: 1, isIn: false, value: 0x00, inputReady: false), .value(0))
        XCTAssertEqual(u.divisor, 12)
        XCTAssertEqual(u.access(offset: 0, isIn: true, value: 0, inputReady: true), .value(12))
        XCTAssertEqual(u.access(offset: 3, isIn: false, value: 0x03, inputReady: false), .value(0))
        XCTAssertEqual(u.access(offset: 3, isIn: true, value: 0, inputReady: false), .value(0x03))
        XCTAssertEqual(u.access(offset: 7, isIn: false, value: 0x5A, inputReady: false), .value(0))
        XCTAssertEqual(u.access(offset: 7, isIn: true, value: 0, inputReady: false), .value(0x5A))
        XCTAssertEqual(u.access(offset: 0, isIn: false, value: 0x42, inputReady: false), .output(0x42))
        var rng = SplitMix64(seed: 0xC0_1000_0001)
        for _ in 0..<5000 {
            _ = u.access(offset: UInt16(rng.below(8)), isIn: rng.below(2) == 0, value: UInt8(truncatingIfNeeded: rng.next()),
                         inputReady: rng.below(2) == 0)
        }
    }
}
