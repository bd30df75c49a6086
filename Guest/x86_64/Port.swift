// Port (x86_64): Rumpk on an x86-64 vCPU in VMX non-root operation.
//
// Every service is a VMCALL (SDM Vol. 3C 30.3 "VMCALL"), which exits to Rumkv
// with rax = hypercall number, rdi/rsi/rdx = arguments and the result in rax:
// a negative RUM_HC_ERR_* or a value (rumabi.h). The guest runs
// identity-mapped, so a buffer's address is its guest-physical address. Time
// is the TSC. The guest timer is RUM_HC_SET_TIMER (one-shot, a TSC deadline);
// Rumkv injects it as vector 0x20, a doorbell as 0x21 and an IPI as 0x22
// through the IDT (entry.S stubs, `rumpk_interrupt`, which only posts
// events). Idling is `sti; hlt` with the timer armed (Rumkv resumes the vCPU
// when its timer is due or an interrupt pends and injects it, so the handler
// runs right after hlt), then cli again; outside idle IF stays 0 unless the
// kernel turned doorbell interrupts on. A fault prints its vector, error
// code, RIP and CR2 and exits with a crash code.

import ArchShims
import RumABI
import CRumpk
import _Volatile

public enum GuestX86_64: GuestPort {
    public static var name: StaticString { "x86_64" }
    public static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_X86_64) }

    public static func consoleWrite(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = x86_vmcall(UInt64(Hypercall.consoleWrite), UInt64(UInt(bitPattern: base)), UInt64(bytes.count), 0)
    }

    public static func exit(_ code: UInt64) -> Never {
        _ = x86_vmcall(UInt64(Hypercall.exit), code, 0, 0)
        waitForever()
    }

    public static func counter() -> UInt64 { x86_rdtsc() }

    /// Waits for the deadline whatever happens meanwhile (events only shorten each idle).
    public static func sleep(until deadline: UInt64) {
        while x86_rdtsc() < deadline { idle(until: deadline) }
    }

    /// RUM_HC_SET_TIMER(deadline): one-shot, UInt64.max disarms.
    public static func setTimer(_ deadline: UInt64) {
        _ = x86_vmcall(UInt64(Hypercall.setTimer), deadline, 0, 0)
    }

    /// Whether the kernel turned interrupts on (then IF = 1 outside `idle`).
    nonisolated(unsafe) static var interruptsOn = false

    /// 64-bit interrupt gates (SDM Vol. 3A 6.14.1) for the 32 exception
    /// vectors, on the code segment the guest was entered with.
    public static func installTrapHandler() {
        let idt = rumpk_idt_address()
        let cs = UInt64(x86_read_cs())
        for v in 0..<32 {
            let stub: UInt64 = rumpk_trap_stub(UInt32(v))
            let low: UInt64 = stub & 0xFFFF
            let high: UInt64 = (stub >> 16) & 0xFFFF
            let presentInterruptGate: UInt64 = 0x8E
            idt[2 * v] = low | cs << 16 | presentInterruptGate << 40 | high << 48
            idt[2 * v + 1] = stub >> 32
        }
        for i in 0..<3 {
            let stub = rumpk_interrupt_stub(UInt32(i))
            let v = 32 + i
            idt[2 * v] = stub & 0xFFFF | cs << 16 | UInt64(0x8E) << 40 | (stub >> 16 & 0xFFFF) << 48
            idt[2 * v + 1] = stub >> 32
        }
        x86_lidt(UInt64(UInt(bitPattern: idt)), 35 * 16 - 1)
    }
}

/// Devices and channels: doorbells arrive as vector 0x21 (posting
/// Event.doorbell); no device is passed through to x86 guests yet, so there
/// is no interrupt controller driver.
extension GuestX86_64 {
    public static func read32(_ address: UInt64) -> UInt32 {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(address)).load()
    }
    public static func write32(_ address: UInt64, _ value: UInt32) {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(address)).store(value)
    }
    /// x86 orders uncached device accesses with memory; a fence keeps the compiler honest.
    public static func ioBarrier() { rum_ion_fence() }
    public static func doorbell(_ n: UInt64) -> Int64 {
        Int64(bitPattern: x86_vmcall(UInt64(Hypercall.doorbell), n, 0, 0))
    }
    /// Doorbells only (no x86 device is passed through yet): IF = 1 from now on.
    public static func enableInterrupts(devices: Bool, doorbells: Bool) -> Bool {
        guard doorbells else { return false }
        interruptsOn = true
        x86_sti()
        return true
    }
    /// No interrupt controller driver yet on this port: devices are polled.
    public static func interruptControllerStart(_ chip: IRQChip) -> Bool { false }
    public static func interruptSource(_ irq: UInt32, enabled: Bool) {}
    public static func interruptClaim() -> UInt32 { 0 }
    public static func interruptComplete(_ irq: UInt32) {}
    public static func postEvents(_ bits: UInt64) { rumpk_post_events(bits) }
    public static func takeEvents() -> UInt64 { rumpk_take_events() }

    public static func idle(until deadline: UInt64) {
        x86_cli()                                         // no handler between the check and hlt
        while x86_rdtsc() < deadline && rumpk_peek_events() == 0 {
            if deadline != UInt64.max { setTimer(deadline) }
            x86_sti_hlt()                                 // the injected vector's handler runs after hlt
            x86_cli()
        }
        reportFirstInterrupts()
        if interruptsOn { x86_sti() }
    }

    /// Vectors taken by the handler (timer, doorbell, IPI), and which `idle` has reported.
    nonisolated(unsafe) static var taken: InlineArray<3, UInt64> = .init(repeating: 0)
    nonisolated(unsafe) static var reported: UInt8 = 0

    /// One line per vector the first time it was taken, printed outside the
    /// handler: "rumpk[<guest>]: x86: first doorbell interrupt taken (vector 0x21)".
    static func reportFirstInterrupts() {
        for i in 0..<3 where taken[i] > 0 && reported & (1 << UInt8(i)) == 0 {
            reported |= 1 << UInt8(i)
            Console<GuestX86_64>.begin()
            Console<GuestX86_64>.say("x86: first ")
            Console<GuestX86_64>.say(i == 0 ? "timer" : i == 1 ? "doorbell" : "IPI")
            Console<GuestX86_64>.say(" interrupt taken (vector 0x2")
            Console<GuestX86_64>.dec(UInt64(i))
            Console<GuestX86_64>.say(")\n")
        }
    }
}

extension GuestX86_64: HostilePort {
    public static func load(_ address: UInt64) -> UInt64 { x86_mmio_read64(address) }
    public static func store(_ address: UInt64, _ value: UInt64) { x86_mmio_write64(address, value) }
    /// x86 has one hypercall number space: `ext` goes in rax, `fid` is unused.
    public static func rawCall(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64) -> (Int64, Int64) {
        let r = Int64(bitPattern: x86_vmcall(ext, a0, a1, a2))
        return r < 0 ? (r, 0) : (0, r)
    }
    public static func illegalInstruction() { x86_ud2() }
    public static func waitForever() -> Never {
        while true {
            x86_cli()
            x86_hlt()
        }
    }
    /// RUM_HC_CONSOLE_WRITE(address, length) in rdi/rsi.
    public static func consoleWriteRaw(address: UInt64, length: UInt64) -> Int64 {
        Int64(bitPattern: x86_vmcall(UInt64(Hypercall.consoleWrite), address, length, 0))
    }
    /// The TSC: Bochs advances it by emulated instructions (no performance
    /// counters are given to guests), so the bench payload counts with it.
    public static func instructionsRetired() -> UInt64 { x86_rdtsc() }
    public static func nullCall() { _ = x86_vmcall(UInt64(Hypercall.version), 0, 0, 0) }
    public static func rumkvCall(_ fid: UInt32, _ a0: UInt64, _ a1: UInt64) -> Int64 {
        min(Int64(bitPattern: x86_vmcall(UInt64(fid), a0, a1, 0)), 0)
    }
    /// The I/O APIC, which no guest is given.
    public static var unassignedMMIO: UInt64 { 0xFEC0_0000 }

    /// VMX instructions (each a VM exit in non-root operation: Rumkv stops the
    /// guest, the exit reason recorded), control-register writes (CR0 and CR4
    /// belong to the host: every write exits and stops the guest; CR3 is the
    /// guest's, so page tables outside its RAM end in an EPT violation at the
    /// walk), I/O ports it does not own (stopped, the port recorded: Bochs's
    /// power-off port, PCI configuration, the keyboard controller's and port
    /// 0xCF9's resets, a 16-bit COM1 access), MSRs outside the allow-list (#GP
    /// injected: the guest's own handler reports the crash), and the x86-only
    /// VMCALLs with hostile arguments.
    public static func portAttack(_ i: Int, _ c: AttackContext) -> Attack? {
        let virtual = RUM_FAULT_VIRTUAL_INSTRUCTION, access = RUM_FAULT_ACCESS, ownCrash = RUM_FAULT_CRASH_REPORT
        let invalid = Int64(RUM_HC_ERR_INVALID), address = Int64(RUM_HC_ERR_ADDRESS)
        switch i {
        case 0: return Attack("vmxon", .instruction(id: 0, fault: virtual, detail: 27))
        case 1: return Attack("vmclear", .instruction(id: 1, fault: virtual, detail: 19))
        case 2: return Attack("vmptrld", .instruction(id: 2, fault: virtual, detail: 21))
        case 3: return Attack("vmread", .instruction(id: 3, fault: virtual, detail: 23))
        case 4: return Attack("vmwrite", .instruction(id: 4, fault: virtual, detail: 25))
        case 5: return Attack("invept", .instruction(id: 5, fault: virtual, detail: 50))
        case 6: return Attack("vmlaunch", .instruction(id: 6, fault: virtual, detail: 20))
        case 7: return Attack("mov-cr4-pge", .instruction(id: 7, fault: virtual, detail: nil))
        case 8: return Attack("mov-cr0-cd", .instruction(id: 8, fault: virtual, detail: nil))
        case 9: return Attack("cr3-outside-ram", .instruction(id: 9, fault: RUM_FAULT_STAGE2, detail: 0x1000_0000))
        case 10: return Attack("bochs-shutdown-port", .instruction(id: 10, fault: access, detail: 0x8900))
        case 11: return Attack("pci-config-port", .instruction(id: 11, fault: access, detail: 0xCF8))
        case 12: return Attack("kbc-reset-port", .instruction(id: 12, fault: access, detail: 0x64))
        case 13: return Attack("cf9-reset-port", .instruction(id: 13, fault: access, detail: 0xCF9))
        case 14: return Attack("com1-16-bit", .instruction(id: 14, fault: access, detail: 0x3F8))
        case 15: return Attack("rdmsr-vmx-basic", .instruction(id: 15, fault: ownCrash, detail: nil))
        case 16: return Attack("rdmsr-feature-control", .instruction(id: 16, fault: ownCrash, detail: nil))
        case 17: return Attack("wrmsr-apic-base", .instruction(id: 17, fault: ownCrash, detail: nil))
        case 18: return Attack("wrmsr-efer-lme-off", .instruction(id: 18, fault: ownCrash, detail: nil))
        case 19: return Attack("hc-vcpu-start-absent", .hypercall(fid: RUM_HC_VCPU_START, a0: 9, a1: c.ramBase, expect: invalid))
        case 20: return Attack("hc-vcpu-start-outside-ram", .hypercall(fid: RUM_HC_VCPU_START, a0: 0, a1: 0x1000, expect: address))
        case 21: return Attack("hc-send-ipi-beyond", .hypercall(fid: RUM_HC_SEND_IPI, a0: 1 << 40, a1: 0, expect: invalid))
        case 22: return Attack("hc-vcpu-status-absent", .hypercall(fid: RUM_HC_VCPU_STATUS, a0: 3, a1: 0, expect: invalid))
        default: return nil
        }
    }

    /// The fuzzer's "extensions" are Rumkv's VMCALL numbers (rax; `fid` is unused on x86).
    public static func fuzzExtension(_ i: Int) -> UInt64? {
        i <= Int(RUM_HC_SEND_IPI) ? UInt64(i) : nil
    }

    /// RUM_HC_EXIT and stopping its only vCPU end the guest.
    public static func fuzzEndsGuest(_ ext: UInt64, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64) -> Bool {
        ext == UInt64(RUM_HC_EXIT) || ext == UInt64(RUM_HC_VCPU_STOP)
    }

    public static func attackInstruction(_ id: Int) {
        switch id {
        case 0: _ = x86_vmxon(0x8000_0000)
        case 1: _ = x86_vmclear(0x8000_0000)
        case 2: _ = x86_vmptrld(0x8000_0000)
        case 3: _ = x86_vmread(0x681E)
        case 4: _ = x86_vmwrite(0x681E, 0)
        case 5: x86_invept_all()
        case 6: x86_vmlaunch_attempt()
        case 7: x86_write_cr4(x86_read_cr4() | 1 << 7)
        case 8: x86_write_cr0(x86_read_cr0() | 1 << 30)
        case 9: x86_write_cr3(0x1000_0000)
        case 10: x86_outb(0x8900, 0x53)                   // 'S' of "Shutdown"
        case 11: _ = x86_inb(0xCF8)
        case 12: x86_outb(0x64, 0xFE)
        case 13: x86_outb(0xCF9, 0x06)
        case 14: x86_outw(0x3F8, 0x4141)
        case 15: _ = x86_rdmsr(0x480)
        case 16: _ = x86_rdmsr(0x3A)
        case 17: x86_wrmsr(0x1B, 0)
        case 18: x86_wrmsr(0xC000_0080, 0)
        default: break
        }
    }
}

@_cdecl("rumpk_main")
func rumpkMain(_ cpuID: UInt64, _ sysTable: UInt64) -> Never {
    Rumpk<GuestX86_64>.main(sysTable: sysTable)
}

/// Vectors 0x20-0x22 (rumabi.h RUM_X86_VECTOR_*), from the interrupt stubs.
@_cdecl("rumpk_interrupt")
func rumpkInterrupt(_ vector: UInt64) {
    switch UInt32(truncatingIfNeeded: vector) {
    case RUM_X86_VECTOR_TIMER:
        GuestX86_64.taken[0] &+= 1
        GuestX86_64.postEvents(Event.timer)
    case RUM_X86_VECTOR_DOORBELL:
        GuestX86_64.taken[1] &+= 1
        GuestX86_64.postEvents(Event.doorbell)
    default:                                              // an IPI only wakes the vCPU
        GuestX86_64.taken[2] &+= 1
    }
}

/// Called by the exception stubs: the kernel has no use for traps yet, so
/// each is a fatal fault, reported before the guest exits with a crash code.
@_cdecl("rumpk_trap")
func rumpkTrap(_ vector: UInt64, _ error: UInt64, _ rip: UInt64, _ cr2: UInt64) -> Never {
    typealias K = Rumpk<GuestX86_64>
    K.say("rumpk: fatal trap, vector "); K.hex(vector)
    K.say(" error "); K.hex(error)
    K.say(" rip "); K.hex(rip)
    K.say(" cr2 "); K.hex(cr2)
    K.say("\n")
    GuestX86_64.exit(1)
}

/// Every fiber's first Swift frame (Guest/x86_64/fiber.S, rumpk_fiber_start).
@_cdecl("rumpk_fiber_entry")
func rumpkFiberEntry() -> Never {
    Rumpk<GuestX86_64>.fiberMain()
}

extension GuestX86_64 {
    /// Payload service thunks: closures without captures, so they are C function pointers.
    public static func fillServices(_ table: inout rum_payload_services_t) {
        table.write = { Services<GuestX86_64>.write($0, $1) }
        table.exit = { Services<GuestX86_64>.exit($0) }
        table.yield = { Services<GuestX86_64>.yield() }
        table.sleep = { Services<GuestX86_64>.sleep($0) }
    }
}
