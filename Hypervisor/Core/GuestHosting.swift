// GuestHosting: what an architecture port provides to run guests.
//
// Extends `Architecture` with the vCPU and stage-2 operations. The core calls
// them only from the hart that owns the vCPU at that moment. Decoding happens
// in the port (raw trap state -> `VMExit`, SBI/HVC/VMCALL registers ->
// `GuestCall`); validation and every state change happen in the core, which
// answers a call with a `CallResult` that the port writes back.
//
// Contract:
// - `vcpuRun` enters the guest and returns at the next exit. It must return
//   by `sliceEnd` (counter value) at the latest, via the port's own timer.
// - A `Stage2` maps exactly guest RAM at RUM_GUEST_RAM_GPA and the SysTable
//   page (read-only) at RUM_GUEST_SYSTABLE_GPA, nothing else.
// - Nothing allocates except through the `PageAllocator` passed in.

public protocol GuestHosting: Architecture {
    /// The full register state of one vCPU, saved while it is not running.
    associatedtype VCPURegisters
    /// A guest's stage-2 translation (root table and VMID).
    associatedtype Stage2

    /// The NPL architecture byte guest images must carry (RUM_NPL_ARCH_*).
    static var nplArch: UInt8 { get }

    /// Index of the calling hart/CPU (0-based, < Platform.cpuCount).
    static func currentHart() -> Int

    /// The retired-instruction counter (deterministic under QEMU -icount).
    static func instructionsRetired() -> UInt64

    /// Builds stage-2 tables for a guest; nil if out of memory.
    static func stage2Create(_ pages: inout PageAllocator, vmid: UInt16, ramHost: UInt64, ramSize: UInt64,
                             sysTableHost: UInt64) -> Stage2?

    /// Frees a guest's stage-2 tables and flushes its translations.
    static func stage2Destroy(_ s: Stage2, _ pages: inout PageAllocator)

    /// Pages the tables use (for `info`).
    static func stage2Pages(_ s: Stage2) -> Int

    /// Resets a vCPU to enter the guest at `entry` with two boot arguments.
    static func vcpuReset(_ r: UnsafeMutablePointer<VCPURegisters>, guest: Int, hartID: UInt64, entry: UInt64, arg: UInt64)

    /// Runs the vCPU until its next exit.
    static func vcpuRun(_ r: UnsafeMutablePointer<VCPURegisters>, _ s: Stage2, sliceEnd: UInt64) -> VMExit

    /// Writes the result of a `GuestCall` into the vCPU and steps past the call.
    static func vcpuComplete(_ r: UnsafeMutablePointer<VCPURegisters>, _ result: CallResult)

    /// Steps past the trapping instruction (after a wfi exit).
    static func vcpuSkip(_ r: UnsafeMutablePointer<VCPURegisters>)

    /// Raises or clears the guest's virtual software interrupt (IPI).
    static func vcpuSetIPI(_ r: UnsafeMutablePointer<VCPURegisters>, _ pending: Bool)

    /// True if the vCPU has an interrupt that should wake it from wfi now.
    static func vcpuWakeable(_ r: UnsafeMutablePointer<VCPURegisters>, now: UInt64) -> Bool

    /// Counter value at which a waiting vCPU's own timer fires (UInt64.max if none).
    static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    /// Calls the port answered without leaving the trap handler (counted as hypercalls).
    static func vcpuFastCalls(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    /// Program-counter value for fault reports.
    static func vcpuPC(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64

    /// Idles the hart until an interrupt or `until` (counter value).
    static func idle(until: UInt64)

    /// Starts secondary hart `index` running `Hypervisor` code (returns false if refused).
    static func startSecondary(_ index: Int, hardwareID: UInt64) -> Bool

    // Device passthrough and channels.

    /// Maps [gpa, gpa + size) to [hpa, ...) in `s`: device memory (no execute) or normal memory.
    static func stage2Map(_ s: inout Stage2, gpa: UInt64, hpa: UInt64, size: UInt64, device: Bool,
                          _ pages: inout PageAllocator) -> Bool

    /// Performs the MMIO access decoded at the last `.mmio` exit; false if the
    /// address is not an emulated register (the guest is then stopped).
    static func emulateMMIO(_ r: UnsafeMutablePointer<VCPURegisters>, guest g: Int) -> Bool

    /// Guest-physical base of the virtual interrupt controller every guest sees.
    static var virtualInterruptControllerBase: UInt64 { get }

    /// Routes a physical interrupt source to the hypervisor on hart `hart` (index;
    /// the port may use another hart until that one is up), or unroutes it.
    static func routeInterrupt(_ irq: UInt32, enabled: Bool, hart: Int)

    /// 32-bit device register access (host-physical, identity-mapped).
    static func mmioRead32(_ address: UInt64) -> UInt32
    static func mmioWrite32(_ address: UInt64, _ value: UInt32)

    /// Forgets guest `g`'s virtual interrupt controller state.
    static func resetVirtualInterrupts(guest g: Int)

    /// Claims pending physical interrupts and forwards each to its owner.
    static func serviceInterrupts()

    /// True if a device interrupt waits for `serviceInterrupts` (cheap, no lock).
    static func externalInterruptPending() -> Bool

    /// Makes hart `h` leave its guest soon (IPI), so it sees new virtual interrupts.
    static func kickHart(_ h: Int)
}

/// Why a vCPU left the guest, decoded by the port.
public enum VMExit {
    /// A hypercall / firmware call the core must act on.
    case call(GuestCall)
    /// A call the port answered itself (e.g. SBI probe); counted only.
    case handled
    /// An access to an emulated device (the virtual interrupt controller): the
    /// port decoded it and performs it in `emulateMMIO` under the lock.
    case mmio
    /// The hypervisor's own timer: end of the time slice.
    case tick
    /// The guest waits for an interrupt (wfi).
    case waitForInterrupt
    /// A guest access outside its stage-2 mapping.
    case stage2Fault(gpa: UInt64, access: Access, pc: UInt64)
    /// Any other trap the guest may not take: the guest is stopped.
    case fatal(FaultKind, pc: UInt64, detail: UInt64)
    /// A host interrupt that is not the tick (e.g. an IPI between harts).
    case interrupt
}

public enum Access { case read, write, execute }

public enum FaultKind: UInt8 {
    case illegalInstruction, virtualInstruction, misaligned, accessFault, unknown
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

/// A decoded hypercall. Addresses are guest-physical and untrusted.
public enum GuestCall {
    case consolePutchar(UInt8)
    case consoleGetchar
    case consoleWrite(gpa: UInt64, length: UInt64)
    case consoleRead(gpa: UInt64, length: UInt64)
    case setTimer(UInt64)
    case yield
    /// The guest stops itself: clean shutdown, reboot, or crash.
    case systemReset(SystemResetKind)
    case sendIPI(hartMask: UInt64, hartBase: UInt64)
    case hartStart(hart: UInt64, entry: UInt64, arg: UInt64)
    case hartStop
    case hartStatus(hart: UInt64)
    case remoteFence(hartMask: UInt64, hartBase: UInt64)
    /// Ring the doorbell of the guest's n-th channel.
    case doorbell(UInt64)
    case unsupported
}

public enum SystemResetKind { case shutdown, reboot, crash }

/// The core's answer to a `GuestCall`, in SBI terms (error, value), which
/// the other ports map onto their own conventions.
public struct CallResult {
    public var error: Int64
    public var value: Int64
    public init(error: Int64, value: Int64 = 0) { self.error = error; self.value = value }

    public static let ok = CallResult(error: 0)
    public static let failed = CallResult(error: -1)
    public static let notSupported = CallResult(error: -2)
    public static let invalidParam = CallResult(error: -3)
    public static let invalidAddress = CallResult(error: -5)
    public static let alreadyAvailable = CallResult(error: -6)
    public static let alreadyStarted = CallResult(error: -7)
    public static let alreadyStopped = CallResult(error: -8)
}

/// Exit reasons counted per guest and per hart (`stats`).
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
        case .ipi: "ipi/hsm"
        case .stage2Fault: "stage2"
        case .fault: "fault"
        case .other: "other"
        case .mmio: "mmio"
        case .irq: "irq"
        }
    }
}
