// GuestHosting: what an architecture port provides to run guests.
//
// Extends `Architecture` with VMs, vCPUs and physical interrupts. The port
// decodes (raw trap state -> `VMExit`, SBI/PSCI/VMCALL registers ->
// `GuestCall`) and encodes (a `CallResult` -> the guest's registers, a
// `VirtualInterrupt` -> hvip, a list register or an event injection); the
// core validates, decides and changes state. Design note:
// docs/design/007-guest-hosting-seam.md maps each requirement to riscv64,
// aarch64 and x86_64.
//
// Contract:
// - State a port keeps per VM lives in its `VMState`, per vCPU in its
//   `VCPURegisters`; the core owns both (stable addresses in pages taken at
//   boot) and passes pointers. A port keeps no per-guest globals and never
//   reaches into the core's `Machine`.
// - `vmCreate` maps guest RAM at `layout.ram` and the SysTable page read-only
//   at `layout.sysTable`. A port may add mappings it owns (pages it takes from
//   `pages` there and gives back in `vmDestroy`, e.g. x86 boot page tables), but
//   only inside `portWindow`, which the core and the config tool keep free of
//   RAM, channels and devices. Everything else is mapped by the core through
//   `vmMap` (device windows, channels, the DMA alias).
// - vCPU functions run on the CPU that owns the vCPU at that moment, between
//   `vcpuLoad` and `vcpuPut`; `vcpuInject` may be called from any CPU (it
//   must be safe against a concurrent `vcpuRun` of that vCPU).
// - `vcpuRun` returns at the next exit, by `sliceEnd` (counter value) at the latest.
// - The `vic*` functions act on the VM's virtual interrupt controller; the
//   core calls them with the lock held.
// - Nothing allocates except through the `PageAllocator` passed in.

public protocol GuestHosting: Architecture, LockHost {
    /// One vCPU's register state, saved while it is not running.
    associatedtype VCPURegisters
    /// Per-VM port state: stage-2 root and VMID, the virtual interrupt controller.
    associatedtype VMState
    /// A trap the port decoded and emulates itself at the core's request
    /// (system registers, port I/O, MSRs). `Never` for a port with none.
    associatedtype PortTrap

    /// The NPL architecture byte guest images must carry (RUM_NPL_ARCH_*).
    static var nplArch: UInt8 { get }

    /// The guest-physical range reserved for mappings the port owns (empty if none).
    static var portWindow: GuestRegion { get }

    /// The virtual interrupt controller every guest sees, for its device table.
    static var interruptController: InterruptControllerInfo { get }

    /// Index of the calling CPU (0-based, < Platform.cpuCount).
    static func currentCPU() -> Int

    /// The retired-instruction counter (deterministic under QEMU -icount).
    static func instructionsRetired() -> UInt64

    // MARK: VMs

    /// A VM state with nothing mapped (what a zeroed slot holds).
    static func vmEmpty() -> VMState

    /// Builds the stage-2 translation of a new VM; false if out of memory
    /// (then nothing stays allocated).
    static func vmCreate(_ vm: UnsafeMutablePointer<VMState>, vmid: UInt16, layout: GuestLayout,
                         _ pages: inout PageAllocator) -> Bool

    /// Frees the VM's tables and flushes its translations; `vm` is empty afterwards.
    static func vmDestroy(_ vm: UnsafeMutablePointer<VMState>, _ pages: inout PageAllocator)

    /// Maps [gpa, gpa + size) to [hpa, ...): device memory (never executable) or normal memory.
    static func vmMap(_ vm: UnsafeMutablePointer<VMState>, _ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress,
                      size: UInt64, _ kind: MappingKind, _ pages: inout PageAllocator) -> Bool

    /// Empties the VM's virtual interrupt controller (no source assigned, nothing pending).
    static func vicReset(_ vm: UnsafeMutablePointer<VMState>)

    /// Lets the VM's virtual controller accept physical source `source` (a device it owns).
    static func vicAssign(_ vm: UnsafeMutablePointer<VMState>, source: UInt32)

    /// Marks source `source` pending in the VM's virtual controller.
    static func vicRaise(_ vm: UnsafeMutablePointer<VMState>, source: UInt32)

    /// Performs an access of vCPU `vcpu` to the virtual controller's registers;
    /// nil if `access` is not one of them (the guest is then stopped).
    static func vicAccess(_ vm: UnsafeMutablePointer<VMState>, vcpu: Int, _ access: MMIOAccess) -> VICResult?

    // MARK: vCPUs

    /// Prepares a vCPU slot once at boot (e.g. a VMCS page); false if out of memory.
    static func vcpuCreate(_ r: UnsafeMutablePointer<VCPURegisters>, _ pages: inout PageAllocator) -> Bool

    /// Resets a vCPU to enter the guest at `entry` with its index and one boot argument.
    static func vcpuReset(_ r: UnsafeMutablePointer<VCPURegisters>, vcpu: Int, entry: GuestPhysicalAddress, arg: UInt64)

    /// The vCPU is about to run on the calling CPU (VMCS currency, lazy state).
    static func vcpuLoad(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>)

    /// The vCPU leaves the calling CPU (save lazy state, e.g. the timer's active bit).
    static func vcpuPut(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>)

    /// Runs the vCPU until its next exit.
    static func vcpuRun(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                        sliceEnd: UInt64) -> VMExit<PortTrap>

    /// Writes the result of a `GuestCall` into the vCPU in the port's calling convention and steps past the call.
    static func vcpuComplete(_ r: UnsafeMutablePointer<VCPURegisters>, _ result: CallResult)

    /// Finishes an emulated MMIO access: a load gets `value`; the instruction is skipped.
    static func vcpuCompleteMMIO(_ r: UnsafeMutablePointer<VCPURegisters>, _ access: MMIOAccess, value: UInt64)

    /// Emulates a port-specific trap (system register, port I/O, MSR).
    static func vcpuEmulate(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                            _ trap: PortTrap) -> TrapOutcome

    /// Steps past the trapping instruction (after a wfi exit).
    static func vcpuSkip(_ r: UnsafeMutablePointer<VCPURegisters>)

    /// Makes `interrupt` pending in the vCPU (any CPU may call this).
    static func vcpuInject(_ r: UnsafeMutablePointer<VCPURegisters>, _ interrupt: VirtualInterrupt)

    /// True if the vCPU has an interrupt that should wake it from wfi now.
    static func vcpuWakeable(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                             now: UInt64) -> Bool

    /// Counter value at which a waiting vCPU's own timer fires (UInt64.max if none).
    static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    /// Calls the port answered without leaving its trap handler (counted as hypercalls).
    static func vcpuFastCalls(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    /// Program-counter value for fault reports.
    static func vcpuPC(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    // MARK: CPUs and physical interrupts

    /// Idles the calling CPU until an interrupt or `until` (counter value).
    static func idle(until: UInt64)

    /// Starts CPU `index` on `stack` (top of `stackSize` bytes the core allocated);
    /// it enters `Hypervisor<Self>.secondaryStarted(index)`. False if refused.
    static func startSecondary(_ index: Int, hardwareID: UInt64, stack: HostPhysicalAddress) -> Bool

    /// CPU `cpu` now runs Rumkv (lock held): per-CPU interrupt setup that had to wait for it.
    static func cpuReady(_ cpu: Int)

    /// Makes CPU `cpu` leave its guest soon (IPI), so it sees new virtual interrupts.
    static func kickCPU(_ cpu: Int)

    /// Routes physical source `irq` to the hypervisor on CPU `cpu` (the port may use
    /// another CPU until that one is ready), or unroutes it.
    static func routeInterrupt(_ irq: UInt32, enabled: Bool, cpu: Int)

    /// Unmasks a source the port masked when it claimed it (its owner completed it).
    static func unmaskInterrupt(_ irq: UInt32)

    /// Claims every pending physical interrupt on this CPU (masking each until the
    /// owner completes it, where the controller needs that) and hands it to `deliver`.
    static func claimInterrupts(_ deliver: (UInt32) -> Void)

    /// True if a device interrupt waits for `claimInterrupts` (cheap, no lock).
    static func externalInterruptPending() -> Bool

    /// 32-bit device register access (host-physical, identity-mapped).
    static func mmioRead32(_ address: HostPhysicalAddress) -> UInt32
    static func mmioWrite32(_ address: HostPhysicalAddress, _ value: UInt32)
}

/// Where a guest's memory lies, for `vmCreate`.
public struct GuestLayout {
    public var ram: GuestPhysicalAddress
    public var ramHost: HostPhysicalAddress
    public var ramSize: UInt64
    public var sysTable: GuestPhysicalAddress
    public var sysTableHost: HostPhysicalAddress
    public init(ram: GuestPhysicalAddress, ramHost: HostPhysicalAddress, ramSize: UInt64,
                sysTable: GuestPhysicalAddress, sysTableHost: HostPhysicalAddress) {
        self.ram = ram; self.ramHost = ramHost; self.ramSize = ramSize
        self.sysTable = sysTable; self.sysTableHost = sysTableHost
    }
}

/// A guest-physical range.
public struct GuestRegion {
    public var base: GuestPhysicalAddress
    public var size: UInt64
    public init(base: GuestPhysicalAddress, size: UInt64) { self.base = base; self.size = size }
    public static var empty: GuestRegion { GuestRegion(base: GuestPhysicalAddress(0), size: 0) }

    public func contains(_ a: GuestPhysicalAddress) -> Bool { a.value >= base.value && a.value - base.value < size }
}

public enum MappingKind { case normal, device }

/// The guest's interrupt controller as its device table describes it (RUM_IRQCHIP_*).
public struct InterruptControllerInfo {
    public var kind: UInt32
    public var regions: (GuestRegion, GuestRegion)
    public var regionCount: Int
    public init(kind: UInt32, regions: (GuestRegion, GuestRegion), regionCount: Int) {
        self.kind = kind; self.regions = regions; self.regionCount = regionCount
    }
}

/// A decoded guest access to an emulated device register.
public struct MMIOAccess {
    public var address: GuestPhysicalAddress
    /// Bytes: 1, 2, 4 or 8.
    public var width: UInt8
    public var write: Bool
    /// The value stored (writes), zero-extended to 64 bits.
    public var value: UInt64
    /// The register a load targets, in the port's numbering.
    public var register: UInt8
    /// Sign-extend the loaded value to the register width.
    public var signExtend: Bool
    /// Bytes of the trapping instruction (to step past it).
    public var instructionLength: UInt8

    public init(address: GuestPhysicalAddress, width: UInt8, write: Bool, value: UInt64, register: UInt8,
                signExtend: Bool, instructionLength: UInt8) {
        self.address = address; self.width = width; self.write = write; self.value = value
        self.register = register; self.signExtend = signExtend; self.instructionLength = instructionLength
    }
}

/// What a virtual-controller access did besides its value.
public enum VICEvent: Equatable {
    case none
    /// The guest claimed source n (delivery is complete: the core measures latency).
    case claimed(UInt32)
    /// The guest completed source n (the core unmasks it physically).
    case completed(UInt32)
}

public struct VICResult {
    public var value: UInt64
    public var event: VICEvent
    public init(value: UInt64 = 0, event: VICEvent = .none) { self.value = value; self.event = event }
}

/// The port's answer to `vcpuEmulate`.
public enum TrapOutcome {
    case handled
    /// The access is not allowed: stop the guest with this fault.
    case fault(FaultKind, detail: UInt64)
}

/// An interrupt the core makes pending in a vCPU; the port picks the wire
/// (riscv64: VSSIP; aarch64: an SGI in a list register; x86: a vector).
public enum VirtualInterrupt: Equatable {
    /// Another vCPU of the same guest sent an inter-processor interrupt.
    case ipi
    /// The peer on the guest's channel `channel` rang its doorbell (or changed state).
    case doorbell(channel: UInt32)
}

/// Why a vCPU left the guest, decoded by the port.
public enum VMExit<PortTrap> {
    /// A hypercall / firmware call the core must act on.
    case call(GuestCall)
    /// A call the port answered itself (e.g. SBI probe); counted only.
    case handled
    /// An access to an emulated device register (the virtual interrupt controller).
    case mmio(MMIOAccess)
    /// A trap the port emulates when the core asks it to (`vcpuEmulate`).
    case portTrap(PortTrap)
    /// The hypervisor's own timer: end of the time slice.
    case tick
    /// The guest waits for an interrupt (wfi / hlt).
    case waitForInterrupt
    /// A guest access outside its stage-2 mapping.
    case stage2Fault(gpa: GuestPhysicalAddress, access: Access, pc: UInt64)
    /// Any other trap the guest may not take: the guest is stopped.
    case fatal(FaultKind, pc: UInt64, detail: UInt64)
    /// A host interrupt that is not the tick (an IPI between CPUs, a device).
    case interrupt
}

/// Raw values are the ABI's RUM_ACCESS_* (SysTable.last_fault_access).
public enum Access: UInt32 { case read = 0, write = 1, execute = 2 }

/// Raw values are the ABI's RUM_FAULT_* (SysTable.last_fault); 0 is "none".
public enum FaultKind: UInt32 {
    case illegalInstruction = 1, virtualInstruction, misaligned, accessFault, unknown
    case guestCrashReport, stage2Fault

    public var label: StaticString {
        switch self {
        case .illegalInstruction: "illegal instruction"
        case .virtualInstruction: "virtual instruction"
        case .misaligned: "misaligned access"
        case .accessFault: "access fault"
        case .unknown: "unexpected trap"
        case .guestCrashReport: "guest reported a crash"
        case .stage2Fault: "stage-2 fault"
        }
    }
}

/// A set of vCPU indices of one guest (bit n = vCPU n), as IPI and fence calls name them.
public struct VCPUSet: Equatable {
    public var bits: UInt64
    public init(bits: UInt64) { self.bits = bits }
    public static var all: VCPUSet { VCPUSet(bits: ~0) }
    /// True if the set names only vCPUs below `count` (or is `all`).
    public func within(_ count: Int) -> Bool { self == .all || count >= 64 || bits >> UInt64(max(count, 0)) == 0 }
    public func contains(_ vcpu: Int) -> Bool { vcpu >= 0 && vcpu < 64 && bits & (1 << UInt64(vcpu)) != 0 }
}

/// A decoded hypercall in the core's vocabulary. Addresses are guest-physical and untrusted.
public enum GuestCall: Equatable {
    case consolePutchar(UInt8)
    case consoleGetchar
    case consoleWrite(GuestPhysicalAddress, length: UInt64)
    case consoleRead(GuestPhysicalAddress, length: UInt64)
    /// The port programmed the guest's own timer compare; counted.
    case setTimer(UInt64)
    case yield
    /// The guest stops itself: clean shutdown, reboot, or crash.
    case systemReset(SystemResetKind)
    case sendIPI(VCPUSet)
    case vcpuStart(vcpu: UInt64, entry: GuestPhysicalAddress, arg: UInt64)
    case vcpuStop
    case vcpuStatus(vcpu: UInt64)
    case remoteFence(VCPUSet)
    /// Ring the doorbell of the guest's n-th channel.
    case doorbell(UInt64)
    case unsupported
    /// A known call whose arguments the port's ABI does not allow (a hart
    /// mask naming harts beyond 63, an unknown reset type): refused as an
    /// invalid parameter, with nothing done.
    case invalid
}

public enum SystemResetKind: Equatable { case shutdown, reboot, crash }

/// Why the core refused a call; each port maps these onto its ABI
/// (SBI error codes, PSCI/SMCCC return values, Rumkv's VMCALL errors).
public enum CallError: UInt8, Error {
    case failed, notSupported, invalidParameter, invalidAddress, alreadyAvailable, alreadyStarted, alreadyStopped
}

/// The core's answer to a `GuestCall`: a value, or why not.
public typealias CallResult = Result<UInt64, CallError>

/// A vCPU's power state as `vcpuStatus` reports it (SBI HSM and PSCI
/// AFFINITY_INFO both number these 0 and 1).
public enum VCPUPowerState: UInt64 { case on = 0, off = 1 }

/// Exit reasons counted per guest and per CPU (`stats`).
public enum ExitReason: Int {
    case hypercall = 0, console, timer, tick, wfi, ipi, stage2Fault, fault, other, mmio, irq
    public static let count = 11

    public var label: StaticString {
        switch self {
        case .hypercall: "hypercall"
        case .console: "console"
        case .timer: "timer"
        case .tick: "tick"
        case .wfi: "wfi"
        case .ipi: "ipi/cpu"
        case .stage2Fault: "stage2"
        case .fault: "fault"
        case .other: "other"
        case .mmio: "mmio"
        case .irq: "irq"
        }
    }
}
