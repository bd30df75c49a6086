// Smp (x86_64): starting the application processors and telling CPUs apart.
//
// The boot CPU copies the real-mode trampoline (entry.S) to `trampolineBase`
// under 1 MiB and wakes each AP with the universal start-up algorithm (SDM
// Vol. 3A 9.4.4.1, "Typical BSP Initialization Sequence"): an INIT IPI,
// 10 ms, a start-up IPI whose vector is the trampoline's page number, 200 us,
// and a second start-up IPI if the AP has not answered yet. The Bochs BIOS has
// already woken the APs once to count them and left them halted, so the INIT
// is needed. IPIs go through the local APIC's interrupt command register in
// xAPIC mode (SDM Vol. 3A 10.6.1, MMIO at IA32_APIC_BASE). One AP starts at a
// time: the BSP waits up to 200 ms for it to report VMXON done (1) or failed
// (2) in `apStatus`. Each AP enters VMX root with its own VMXON region and
// the boot CPU's CR0/CR4, so the host state in every VMCS (CR0, CR3, CR4,
// GDT, IDT, TSS, EFER: shared by all CPUs) is right on any CPU and a vCPU can
// move between CPUs with only VMCLEAR/VMPTRLD.

import ArchShims
import RumkvCore
import Synchronization

/// Written by the AP being started, polled by the BSP.
let apStatus = Atomic<UInt64>(0)

enum Smp {
    /// The trampoline's page: SIPI vector 0x08 (entry.S X86_TRAMPOLINE_BASE).
    static let trampolineBase: UInt64 = 0x8000
    static let msrAPICBase: UInt32 = 0x1B
    static let apicICRLow: UInt64 = 0x300, apicICRHigh: UInt64 = 0x310, apicSVR: UInt64 = 0xF0
    static let icrDeliveryPending: UInt32 = 1 << 12

    /// Local APIC ids by CPU index (from the MADT), for `currentCPU`.
    nonisolated(unsafe) static var apicIDs: InlineArray<8, UInt32> = .init(repeating: 0)
    nonisolated(unsafe) static var count = 1
    /// False if the trampoline page is not free (the multiboot information or a module lies there).
    nonisolated(unsafe) static var trampolineFree = false
    nonisolated(unsafe) static var trampolineCopied = false
    /// The boot CPU's CR0 and CR4 after VMXON; every AP uses the same.
    nonisolated(unsafe) static var hostCR0: UInt64 = 0, hostCR4: UInt64 = 0

    static func record(_ platform: Platform) {
        count = min(platform.cpuCount, 8, Platform.cpuIDCapacity)
        for i in 0..<count { apicIDs[i] = UInt32(truncatingIfNeeded: platform.cpuIDs[i]) }
        hostCR0 = x86_read_cr0(); hostCR4 = x86_read_cr4()
    }

    /// Index of the CPU with local APIC id `id` (0 if unknown).
    static func index(ofAPIC id: UInt32) -> Int {
        for i in 0..<count where apicIDs[i] == id { return i }
        return 0
    }

    static func currentIndex() -> Int { count == 1 ? 0 : index(ofAPIC: x86_cpuid(1, 0).ebx >> 24) }

    static func delay(micros: UInt64) {
        let end = x86_rdtsc() &+ TimeStamp.hz / 1_000_000 * micros
        while x86_rdtsc() < end { x86_pause() }
    }

    /// The xAPIC's MMIO base, nil if the local APIC is off or in x2APIC mode.
    static func apicBase() -> UInt64? {
        let msr = x86_rdmsr(msrAPICBase)
        guard msr & (1 << 11) != 0, msr & (1 << 10) == 0 else { return nil }
        return msr & 0xF_FFFF_F000
    }

    /// Sends one IPI (`low`: delivery mode, level, vector) to APIC `id`; false if it stays pending.
    static func sendIPI(_ base: UInt64, to id: UInt32, _ low: UInt32) -> Bool {
        x86_mmio_write32(base + apicICRHigh, id << 24)
        x86_mmio_write32(base + apicICRLow, low)
        for _ in 0..<100_000 {
            if x86_mmio_read32(base + apicICRLow) & icrDeliveryPending == 0 { return true }
            x86_pause()
        }
        return false
    }

    static func waitForAP(micros: UInt64) -> UInt64 {
        let end = x86_rdtsc() &+ TimeStamp.hz / 1_000_000 * micros
        while x86_rdtsc() < end {
            let s = apStatus.load(ordering: .acquiring)
            if s != 0 { return s }
            x86_pause()
        }
        return apStatus.load(ordering: .acquiring)
    }

    /// INIT-SIPI-SIPI to the CPU with APIC id `id`, entering with `stack` as CPU `index`.
    static func start(_ index: Int, apicID id: UInt32, stack: UInt64) -> Bool {
        guard index > 0, index < 8, trampolineFree, let base = apicBase() else { return false }
        let size = Int(x86_ap_trampoline_size())
        guard size > 0, size <= 4096 else { return false }
        if !trampolineCopied {
            UnsafeMutableRawPointer(bitPattern: UInt(trampolineBase))!
                .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(x86_ap_trampoline_address()))!, byteCount: size)
            trampolineCopied = true
        }
        let svr = x86_mmio_read32(base + apicSVR)
        if svr & 0x100 == 0 { x86_mmio_write32(base + apicSVR, svr | 0x1FF) }   // software-enable, spurious vector 0xFF
        apStatus.store(0, ordering: .releasing)
        x86_set_ap_start(stack, UInt64(index))
        let vector = UInt32(trampolineBase >> 12)
        guard sendIPI(base, to: id, 0x0000_4500) else { return false }     // INIT, level assert
        delay(micros: 10_000)
        guard sendIPI(base, to: id, 0x0000_4600 | vector) else { return false }   // start-up
        if waitForAP(micros: 200) == 0 {
            guard sendIPI(base, to: id, 0x0000_4600 | vector) else { return false }
        }
        return waitForAP(micros: 200_000) == 1
    }
}

/// Where an AP arrives from entry.S (64-bit, on its own stack, IDT and TSS loaded).
@_cdecl("rumkv_secondary_main")
func rumkvSecondaryMain(_ index: UInt64) -> Never {
    x86_write_cr0(Smp.hostCR0)
    x86_write_cr4(Smp.hostCR4 & ~Virtualization.cr4VMXE)
    do throws(Virtualization.Failure) {
        _ = try Virtualization.enter(cpu: Int(index))
    } catch {
        apStatus.store(2, ordering: .releasing)
        while true { x86_cli(); x86_hlt() }
    }
    apStatus.store(1, ordering: .releasing)
    Hypervisor<X86_64>.secondaryStarted(Int(index))
}
