// FakeGuestHost: a GuestHosting port for host tests of the portable core.
//
// Guest RAM is host memory: one 64 MiB buffer (posix_memalign) is described
// as the Platform's only RAM range, so the PageAllocator hands out real host
// addresses the core reads and writes through pointers. Each vCPU slot has a
// scripted queue of exits that `vcpuRun` pops (an empty queue runs the guest
// to the end of its slice: a `.tick` at `sliceEnd`); the counter is a plain
// variable the tests and the script advance. Everything the core asks of the
// port is recorded (`calls`).
//
// Every detail of the GuestHosting protocol lives in this file: tests speak
// `Exit` (what the guest did) and `Answer` (what the core told it), never
// `VMExit`, `GuestCall` or `CallResult`, so a new seam means a new mapping
// here, not new tests. All static state is reset by `reset()` (MachineTestCase
// calls it in setUp).

import Foundation
import RumABI
@testable import RumkvCore

enum FakeGuestHost: GuestHosting {
    // MARK: Test-facing vocabulary

    /// What a guest did to leave the CPU, in words independent of the seam.
    enum Exit {
        // Calls.
        case putchar(UInt8), getchar
        case write(gpa: UInt64, length: UInt64), read(gpa: UInt64, length: UInt64)
        case setTimer(UInt64), yield
        case shutdown, reboot, crashReport
        case sendIPI(mask: UInt64, base: UInt64), remoteFence(mask: UInt64, base: UInt64)
        case vcpuStart(UInt64, entry: UInt64, arg: UInt64), vcpuStop, vcpuStatus(UInt64)
        case doorbell(UInt64)
        case unsupported
        // Other exits.
        case answeredByPort, tick, interrupt, waitForInterrupt
        /// An access to an emulated device register; `emulated: false` means no such register.
        case emulatedAccess(emulated: Bool)
        /// A port-specific trap (a system register, port I/O, an MSR) the port allows or refuses.
        case portTrap(allowed: Bool)
        case stage2Fault(gpa: UInt64, access: Access, pc: UInt64)
        case fatal(FaultKind, pc: UInt64, detail: UInt64)
    }

    /// What the core answered a call with.
    enum Answer: Equatable, CustomStringConvertible {
        case ok(Int64)
        case failed, notSupported, invalidParam, invalidAddress, alreadyAvailable, alreadyStarted, alreadyStopped

        static var ok: Answer { .ok(0) }

        var description: String {
            switch self {
            case .ok(let v): "ok(\(v))"
            case .failed: "failed"
            case .notSupported: "notSupported"
            case .invalidParam: "invalidParam"
            case .invalidAddress: "invalidAddress"
            case .alreadyAvailable: "alreadyAvailable"
            case .alreadyStarted: "alreadyStarted"
            case .alreadyStopped: "alreadyStopped"
            }
        }
    }

    /// One call of the core into the port, as recorded.
    enum Call: Equatable {
        case stage2Create(id: Int, vmid: UInt16, ramHost: UInt64, ramSize: UInt64, sysTableHost: UInt64)
        case stage2Destroy(id: Int)
        case stage2Map(id: Int, gpa: UInt64, hpa: UInt64, size: UInt64, device: Bool)
        case reset(slot: Int, guest: Int, vcpu: UInt64, entry: UInt64, arg: UInt64)
        case complete(slot: Int, Answer)
        case skip(slot: Int)
        case inject(slot: Int, VirtualInterrupt)
        case route(irq: UInt32, enabled: Bool, hart: Int)
        case unmask(UInt32)
        case kick(hart: Int)
        case mmioRead(UInt64)
        case mmioWrite(UInt64, UInt32)
        case vicAccess(guest: Int, vcpu: Int, write: Bool)
        case vicAssign(guest: Int, source: UInt32)
        case vicRaise(guest: Int, source: UInt32)
        case resetVirtualInterrupts(guest: Int)
        case serviceInterrupts
        case emulateTrap(slot: Int, allowed: Bool)
        case completeMMIO(slot: Int, value: UInt64)
        case idle(until: UInt64)
        case startSecondary(Int, hardwareID: UInt64)
        case cpuReady(Int)
    }

    struct VCPURegisters {
        var pc: UInt64
        var a0: UInt64
    }

    /// A VM: its stage-2 (an id for the pages it took; 0 when none) and a
    /// one-word virtual interrupt controller (bit n = source n).
    struct VMState {
        var id = 0
        var vmid: UInt16 = 0
        var assigned: UInt64 = 0
        var pending: UInt64 = 0
        var guest: Int { Int(vmid) - 1 }
    }

    /// A port-specific trap: allowed (emulated) or not.
    enum PortTrap { case allowed, denied }

    // MARK: State (all reset by `reset()`)

    nonisolated(unsafe) static var now: UInt64 = 0
    nonisolated(unsafe) static var hart = 0
    nonisolated(unsafe) static var calls: [Call] = []
    nonisolated(unsafe) static var console: [UInt8] = []
    nonisolated(unsafe) static var consoleInput: [UInt8] = []
    /// Scripted exits per vCPU slot, with the ticks each one takes.
    nonisolated(unsafe) static var script: [Int: [(Exit, UInt64)]] = [:]
    /// The emulated-access outcome of the exit being handled, per slot.
    nonisolated(unsafe) static var emulation: [Int: Bool] = [:]
    nonisolated(unsafe) static var ipiPending: [Int: Bool] = [:]
    nonisolated(unsafe) static var timerDeadline: [Int: UInt64] = [:]
    nonisolated(unsafe) static var fastCalls: [Int: UInt64] = [:]
    /// Device registers `mmioRead32` answers (others read 0).
    nonisolated(unsafe) static var registers: [UInt64: UInt32] = [:]
    nonisolated(unsafe) static var interruptPending = false
    /// Physical sources `claimInterrupts` finds pending (handed to the core in order).
    nonisolated(unsafe) static var claimable: [UInt32] = []
    /// What the next virtual-controller access answers (nil: not a register).
    nonisolated(unsafe) static var vicAnswer: VICResult? = VICResult()
    nonisolated(unsafe) static var secondaryStarts = true
    /// Failure injection: stage-2 creation fails; the n-th next `stage2Map` fails (1 = the next).
    nonisolated(unsafe) static var failStage2Create = false
    nonisolated(unsafe) static var failStage2MapIn = 0
    /// Pages each stage-2 takes at creation, and one more per mapping.
    nonisolated(unsafe) static var stage2RootPages = 2
    nonisolated(unsafe) static var nextStage2 = 1
    nonisolated(unsafe) static var stage2Owned: [Int: [(UInt64, Int)]] = [:]

    /// For the never-returning loops (Scheduler.runHart, Hypervisor.startWithGuests), run
    /// on a thread of their own: with `park` set, the thread stops for good (and signals
    /// `parked`) when its vCPU has no scripted exit left, or at an idle after `idlesBeforePark`.
    nonisolated(unsafe) static var park = false
    nonisolated(unsafe) static var idlesBeforePark = 0
    nonisolated(unsafe) static var idles = 0
    static let parked = DispatchSemaphore(value: 0)

    static func parkForever() -> Never {
        parked.signal()
        let never = DispatchSemaphore(value: 0)
        while true { never.wait() }
    }

    static func reset() {
        park = false
        idlesBeforePark = 0
        idles = 0
        now = 1_000
        hart = 0
        calls = []
        console = []
        consoleInput = []
        script = [:]
        emulation = [:]
        ipiPending = [:]
        timerDeadline = [:]
        fastCalls = [:]
        registers = [:]
        interruptPending = false
        claimable = []
        vicAnswer = VICResult()
        secondaryStarts = true
        failStage2Create = false
        failStage2MapIn = 0
        stage2RootPages = 2
        nextStage2 = 1
        stage2Owned = [:]
        guestCommandsEnabled = false
        machineStorage = nil
    }

    // MARK: Test helpers

    static var m: UnsafeMutablePointer<Machine<FakeGuestHost>> { Machine<FakeGuestHost>.shared }

    static func slot(of r: UnsafeMutablePointer<VCPURegisters>) -> Int { m.pointee.regs.distance(to: r) }

    /// Queues exits for `slot`; each takes `ticks` counter ticks.
    static func queue(_ slot: Int, _ exits: Exit..., ticks: UInt64 = 10) {
        script[slot, default: []] += exits.map { ($0, ticks) }
    }

    /// Lets the core act on one exit of `slot` taken on hart `h`, as the
    /// scheduler does; true if the vCPU may keep running.
    @discardableResult
    static func handle(_ exit: Exit, slot k: Int, hart h: Int = 0) -> Bool {
        prepare(exit, slot: k)
        return Exits<FakeGuestHost>.handle(vmExit(exit), slot: k, cpu: h)
    }

    /// Makes an interrupt pending for `slot` (as a device or the guest's own timer would).
    static func raiseInterrupt(slot k: Int) { ipiPending[k] = true }

    /// The answers the core wrote into `slot`, oldest first.
    static func answers(_ slot: Int) -> [Answer] {
        calls.compactMap { if case .complete(slot: slot, let a) = $0 { return a }; return nil }
    }

    static func lastAnswer(_ slot: Int) -> Answer? { answers(slot).last }

    /// Whether the core asked for the guest's software interrupt (IPI/doorbell) on `slot`.
    static func interruptRaised(_ slot: Int) -> Bool {
        calls.contains { if case .inject(slot: slot, _) = $0 { return true }; return false }
    }

    static func resets(_ slot: Int) -> [(entry: UInt64, arg: UInt64, vcpu: UInt64)] {
        calls.compactMap { if case .reset(slot: slot, guest: _, vcpu: let v, entry: let e, arg: let a) = $0 { return (e, a, v) }; return nil }
    }

    static var kicks: [Int] { calls.compactMap { if case .kick(let h) = $0 { return h }; return nil } }
    static var routes: [(UInt32, Bool, Int)] {
        calls.compactMap { if case .route(let i, let e, let h) = $0 { return (i, e, h) }; return nil }
    }
    static var maps: [(id: Int, gpa: UInt64, hpa: UInt64, size: UInt64, device: Bool)] {
        calls.compactMap { if case .stage2Map(let i, let g, let h, let s, let d) = $0 { return (i, g, h, s, d) }; return nil }
    }
    static var liveStage2: Int { stage2Owned.count }

    /// What `body` printed on the hypervisor console.
    static func capture(_ body: () -> Void) -> String {
        console.removeAll()
        body()
        defer { console.removeAll() }
        return String(decoding: console, as: UTF8.self)
    }

    /// The port-side state an exit implies (a controller answer, a timer compare).
    static func prepare(_ exit: Exit, slot k: Int) {
        if case .emulatedAccess(let ok) = exit { vicAnswer = ok ? (vicAnswer ?? VICResult()) : nil }
        if case .setTimer(let t) = exit { timerDeadline[k] = t }
    }

    /// An SBI-style hart mask (bit i = vCPU base + i; base all-ones: every vCPU).
    /// nil if it names a vCPU at or beyond 64 (the call is then `.invalid`).
    static func targets(_ mask: UInt64, _ base: UInt64) -> VCPUSet? {
        if base == .max { return .all }
        if mask == 0 { return VCPUSet(bits: 0) }
        guard base < 64, base == 0 || mask >> (64 - base) == 0 else { return nil }
        return VCPUSet(bits: mask << base)
    }

    static let vicAddress = GuestPhysicalAddress(0x0C00_2000)

    static func vmExit(_ e: Exit) -> VMExit<PortTrap> {
        switch e {
        case .putchar(let b): .call(.consolePutchar(b))
        case .getchar: .call(.consoleGetchar)
        case .write(let gpa, let length): .call(.consoleWrite(GuestPhysicalAddress(gpa), length: length))
        case .read(let gpa, let length): .call(.consoleRead(GuestPhysicalAddress(gpa), length: length))
        case .setTimer(let t): .call(.setTimer(t))
        case .yield: .call(.yield)
        case .shutdown: .call(.systemReset(.shutdown))
        case .reboot: .call(.systemReset(.reboot))
        case .crashReport: .call(.systemReset(.crash))
        case .sendIPI(let mask, let base): .call(targets(mask, base).map { .sendIPI($0) } ?? .invalid)
        case .remoteFence(let mask, let base): .call(targets(mask, base).map { .remoteFence($0) } ?? .invalid)
        case .vcpuStart(let v, let entry, let arg): .call(.vcpuStart(vcpu: v, entry: GuestPhysicalAddress(entry), arg: arg))
        case .vcpuStop: .call(.vcpuStop)
        case .vcpuStatus(let v): .call(.vcpuStatus(vcpu: v))
        case .doorbell(let n): .call(.doorbell(n))
        case .unsupported: .call(.unsupported)
        case .answeredByPort: .handled
        case .tick: .tick
        case .interrupt: .interrupt
        case .waitForInterrupt: .waitForInterrupt
        case .emulatedAccess:
            .mmio(MMIOAccess(address: vicAddress, width: 4, write: false, value: 0, register: 10, signExtend: false,
                             instructionLength: 4))
        case .portTrap(let allowed): .portTrap(allowed ? .allowed : .denied)
        case .stage2Fault(let gpa, let access, let pc): .stage2Fault(gpa: GuestPhysicalAddress(gpa), access: access, pc: pc)
        case .fatal(let kind, let pc, let detail): .fatal(kind, pc: pc, detail: detail)
        }
    }

    static func answer(_ r: CallResult) -> Answer {
        switch r {
        case .success(let v): .ok(Int64(bitPattern: v))
        case .failure(.failed): .failed
        case .failure(.notSupported): .notSupported
        case .failure(.invalidParameter): .invalidParam
        case .failure(.invalidAddress): .invalidAddress
        case .failure(.alreadyAvailable): .alreadyAvailable
        case .failure(.alreadyStarted): .alreadyStarted
        case .failure(.alreadyStopped): .alreadyStopped
        }
    }

    // MARK: Architecture

    static var name: StaticString { "fake" }
    static func consoleWrite(_ byte: UInt8) { console.append(byte) }
    static func consoleRead() -> UInt8? { consoleInput.isEmpty ? nil : consoleInput.removeFirst() }
    static func relax() { now += 1_000 }   // a polling loop sees time pass
    static func counter() -> UInt64 { now }
    static var counterFrequency: UInt64 { 1_000_000 }
    static func powerOff() -> Never { fatalError("FakeGuestHost.powerOff: tests must not power off") }
    static func halt() -> Never { fatalError("FakeGuestHost.halt: tests must not halt") }
    static func provokeTrap() {}

    // MARK: GuestHosting

    static var nplArch: UInt8 { UInt8(RUM_NPL_ARCH_RISCV64) }
    static var portWindow: GuestRegion { .empty }
    static var interruptController: InterruptControllerInfo {
        InterruptControllerInfo(kind: RUM_IRQCHIP_PLIC,
                                regions: (GuestRegion(base: GuestPhysicalAddress(0x0C00_0000), size: 0x60_0000), .empty),
                                regionCount: 1)
    }
    static func currentCPU() -> Int { hart }
    static func instructionsRetired() -> UInt64 { now }

    static func vmEmpty() -> VMState { VMState() }

    static func vmCreate(_ vm: UnsafeMutablePointer<VMState>, vmid: UInt16, layout: GuestLayout,
                         _ pages: inout PageAllocator) -> Bool {
        guard !failStage2Create, let root = pages.allocateZeroed(pages: stage2RootPages) else { return false }
        let id = nextStage2
        nextStage2 += 1
        stage2Owned[id] = [(root, stage2RootPages)]
        vm.pointee = VMState(id: id, vmid: vmid)
        calls.append(.stage2Create(id: id, vmid: vmid, ramHost: layout.ramHost.value, ramSize: layout.ramSize,
                                   sysTableHost: layout.sysTableHost.value))
        return true
    }

    static func vmDestroy(_ vm: UnsafeMutablePointer<VMState>, _ pages: inout PageAllocator) {
        calls.append(.stage2Destroy(id: vm.pointee.id))
        for (a, n) in stage2Owned.removeValue(forKey: vm.pointee.id) ?? [] { pages.free(a, pages: n) }
        vm.pointee = VMState()
    }

    static func vmMap(_ vm: UnsafeMutablePointer<VMState>, _ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress,
                      size: UInt64, _ kind: MappingKind, _ pages: inout PageAllocator) -> Bool {
        if failStage2MapIn > 0 {
            failStage2MapIn -= 1
            if failStage2MapIn == 0 { return false }
        }
        guard let table = pages.allocateZeroed(pages: 1) else { return false }
        stage2Owned[vm.pointee.id, default: []].append((table, 1))
        calls.append(.stage2Map(id: vm.pointee.id, gpa: gpa.value, hpa: hpa.value, size: size, device: kind == .device))
        return true
    }

    static func vicReset(_ vm: UnsafeMutablePointer<VMState>) {
        vm.pointee.assigned = 0
        vm.pointee.pending = 0
        calls.append(.resetVirtualInterrupts(guest: vm.pointee.guest))
    }

    static func vicAssign(_ vm: UnsafeMutablePointer<VMState>, source: UInt32) {
        if source < 64 { vm.pointee.assigned |= 1 << UInt64(source) }
        calls.append(.vicAssign(guest: vm.pointee.guest, source: source))
    }

    static func vicRaise(_ vm: UnsafeMutablePointer<VMState>, source: UInt32) {
        if source < 64 { vm.pointee.pending |= 1 << UInt64(source) }
        calls.append(.vicRaise(guest: vm.pointee.guest, source: source))
    }

    static func vicAccess(_ vm: UnsafeMutablePointer<VMState>, vcpu: Int, _ access: MMIOAccess) -> VICResult? {
        calls.append(.vicAccess(guest: vm.pointee.guest, vcpu: vcpu, write: access.write))
        return vicAnswer
    }

    static func vcpuCreate(_ r: UnsafeMutablePointer<VCPURegisters>, _ pages: inout PageAllocator) -> Bool {
        r.initialize(to: VCPURegisters(pc: 0, a0: 0))
        return true
    }

    static func vcpuReset(_ r: UnsafeMutablePointer<VCPURegisters>, vcpu: Int, entry: GuestPhysicalAddress, arg: UInt64) {
        let k = slot(of: r)
        r.pointee = VCPURegisters(pc: entry.value, a0: arg)
        ipiPending[k] = nil
        timerDeadline[k] = nil
        calls.append(.reset(slot: k, guest: m.pointee.vcpus[k].guest, vcpu: UInt64(vcpu), entry: entry.value, arg: arg))
    }

    static func vcpuLoad(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>) {}
    static func vcpuPut(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>) {}

    static func vcpuRun(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                        sliceEnd: UInt64) -> VMExit<PortTrap> {
        let k = slot(of: r)
        guard var q = script[k], !q.isEmpty else {
            if park { parkForever() }
            now = max(now, sliceEnd)
            return .tick
        }
        let (exit, ticks) = q.removeFirst()
        script[k] = q
        now += ticks
        prepare(exit, slot: k)
        return vmExit(exit)
    }

    static func vcpuComplete(_ r: UnsafeMutablePointer<VCPURegisters>, _ result: CallResult) {
        r.pointee.pc &+= 4
        calls.append(.complete(slot: slot(of: r), answer(result)))
    }

    static func vcpuCompleteMMIO(_ r: UnsafeMutablePointer<VCPURegisters>, _ access: MMIOAccess, value: UInt64) {
        r.pointee.pc &+= UInt64(access.instructionLength)
        calls.append(.completeMMIO(slot: slot(of: r), value: value))
    }

    static func vcpuEmulate(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                            _ trap: PortTrap) -> TrapOutcome {
        calls.append(.emulateTrap(slot: slot(of: r), allowed: trap == .allowed))
        return trap == .allowed ? .handled : .fault(.illegalInstruction, detail: 0xBAD)
    }

    static func vcpuSkip(_ r: UnsafeMutablePointer<VCPURegisters>) {
        r.pointee.pc &+= 4
        calls.append(.skip(slot: slot(of: r)))
    }

    static func vcpuInject(_ r: UnsafeMutablePointer<VCPURegisters>, _ interrupt: VirtualInterrupt) {
        let k = slot(of: r)
        ipiPending[k] = true
        calls.append(.inject(slot: k, interrupt))
    }

    static func vcpuWakeable(_ r: UnsafeMutablePointer<VCPURegisters>, _ vm: UnsafeMutablePointer<VMState>,
                             now t: UInt64) -> Bool {
        let k = slot(of: r)
        return ipiPending[k] == true || (timerDeadline[k] ?? .max) <= t || vm.pointee.pending & vm.pointee.assigned != 0
    }

    static func vcpuTimerDeadline(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64 { timerDeadline[slot(of: r)] ?? .max }
    static func vcpuFastCalls(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64 { fastCalls[slot(of: r)] ?? 0 }
    static func vcpuPC(_ r: UnsafeMutablePointer<VCPURegisters>) -> UInt64 { r.pointee.pc }

    static func idle(until: UInt64) {
        calls.append(.idle(until: until))
        now = max(now, until)
        idles += 1
        if park && idles > idlesBeforePark { parkForever() }
    }

    static func startSecondary(_ index: Int, hardwareID: UInt64, stack: HostPhysicalAddress) -> Bool {
        calls.append(.startSecondary(index, hardwareID: hardwareID))
        return secondaryStarts
    }

    static func cpuReady(_ cpu: Int) { calls.append(.cpuReady(cpu)) }

    static func routeInterrupt(_ irq: UInt32, enabled: Bool, cpu: Int) {
        calls.append(.route(irq: irq, enabled: enabled, hart: cpu))
    }

    static func unmaskInterrupt(_ irq: UInt32) { calls.append(.unmask(irq)) }

    static func claimInterrupts(_ deliver: (UInt32) -> Void) {
        calls.append(.serviceInterrupts)
        interruptPending = false
        let sources = claimable
        claimable = []
        for irq in sources { deliver(irq) }
    }

    static func externalInterruptPending() -> Bool { interruptPending }

    static func mmioRead32(_ address: HostPhysicalAddress) -> UInt32 {
        calls.append(.mmioRead(address.value))
        return registers[address.value] ?? 0
    }

    static func mmioWrite32(_ address: HostPhysicalAddress, _ value: UInt32) {
        calls.append(.mmioWrite(address.value, value))
        registers[address.value] = value
    }

    static func kickCPU(_ c: Int) { calls.append(.kick(hart: c)) }
}
