// Machine: the guest-hosting hypervisor's state and its boot.
//
// One `Machine<A>` lives in pages taken from the allocator at boot and is
// reached through `Machine<A>.shared`. It holds the guest table, the vCPU
// slots, per-CPU counters and the console attachment. The port's state lives
// beside it, in page arrays whose addresses never move (the world switch
// keeps pointers into them): one `A.VCPURegisters` per vCPU slot and one
// `A.VMState` per guest. All fields are guarded by `BigLock`.
//
// `Machine` is non-copyable: there is exactly one. Every method is
// `mutating`, even the ones that only read: a borrowing method of this
// loadable ~40 KiB struct, called through `shared.pointee`, gets its `self`
// as a value and the compiler builds that value on the (64 KiB) hypervisor
// stack; an inout `self` is passed by address. The image test
// `testNoHypervisorFunctionHasAHugeStackFrame` catches a regression.

import RumABI

public struct VCPUSlot {
    public enum State: UInt8 { case offline, runnable, waiting }
    public var guest = 0
    public var index = 0
    public var state = State.offline
    /// CPU running it now, or -1.
    public var runningOn = -1
    /// CPUs it may run on (bit n = CPU index n).
    public var cpuMask: UInt64 = 0
}

public enum PendingAction: UInt8 { case none, stop, restart, crash }

public struct Machine<A: GuestHosting>: ~Copyable {
    public static var maxGuests: Int { 8 }
    public static var maxVCPUs: Int { Int(RUM_BUNDLE_MAX_VCPUS) }
    public static var maxCPUs: Int { 8 }
    /// Time slice in microseconds.
    public static var sliceMicros: UInt64 { 4000 }
    /// Stack of each secondary CPU, in pages.
    public static var stackPages: Int { 16 }

    public var platform: Platform
    public var pages: PageAllocator
    /// Free pages once boot is complete (every CPU started): `stats` compares against it.
    public var bootFreePages = 0
    public var guests: InlineArray<8, GuestRecord> = .init(repeating: GuestRecord())
    /// Virtual consoles, apart from the records so a record stays small to copy.
    public var consoles: InlineArray<8, VConsole> = .init(repeating: VConsole())
    /// Each guest's emulated NS16550 (used by guests with RUM_VDEV_NS16550), reset at every start.
    public var uarts: InlineArray<8, NS16550> = .init(repeating: NS16550())
    public var pending: InlineArray<8, PendingAction> = .init(repeating: .none)
    /// Whether guest g's VM state holds a live stage-2 (between create and destroy).
    public var vmLive: InlineArray<8, Bool> = .init(repeating: false)
    public var guestCount = 0
    public var vcpus: InlineArray<16, VCPUSlot> = .init(repeating: VCPUSlot())
    public var vcpuCount = 0
    public var regs: UnsafeMutablePointer<A.VCPURegisters>
    public var vmStates: UnsafeMutablePointer<A.VMState>
    public var lastPicked: InlineArray<8, Int> = .init(repeating: 0)
    public var cpuExits: InlineArray<88, UInt64> = .init(repeating: 0)  // 8 CPUs x 11 reasons
    public var cpuOnline: InlineArray<8, Bool> = .init(repeating: false)
    /// Stack (lowest address) of each secondary CPU, taken at boot so that the
    /// free-memory baseline already counts them; 0 for the boot CPU.
    public var cpuStacks: InlineArray<8, UInt64> = .init(repeating: 0)
    /// CPUs reserved by pinned guests (bit n = CPU n).
    public var pinnedCPUs: UInt64 = 0
    public var attached = -1
    /// A line end the console read while CPU 0 was inside a guest's slice, kept
    /// for the scheduler loop (0x100 | byte), or 0 (ConsoleService.poll).
    public var heldLineEnd: UInt16 = 0
    public var editor = LineEditor<Shell<A>.Echo>()
    public var bundle: BundleView
    public var devices: InlineArray<8, DeviceRecord> = .init(repeating: DeviceRecord())
    public var deviceCount = 0
    public var channels: InlineArray<8, ChannelRecord> = .init(repeating: ChannelRecord())
    public var channelCount = 0

    public static var shared: UnsafeMutablePointer<Machine<A>> {
        machineStorage.unsafelyUnwrapped.assumingMemoryBound(to: Machine<A>.self)
    }

    /// Sets up the machine: takes the largest free range as the page pool,
    /// places the state, register and VM pages, creates the guest table from
    /// the bundle. Returns a reason on failure.
    public static func boot(_ platform: Platform, bundle: BundleView, bootCPU: Int = 0) -> StaticString? {
        var pages = PageAllocator(memory: platform.memory)
        let statePages = (MemoryLayout<Machine<A>>.size + 4095) / 4096
        let regPages = (MemoryLayout<A.VCPURegisters>.stride * maxVCPUs + 4095) / 4096
        let vmPages = (MemoryLayout<A.VMState>.stride * maxGuests + 4095) / 4096
        guard let stateAddr = pages.allocateZeroed(pages: statePages),
              let regAddr = pages.allocateZeroed(pages: regPages),
              let vmAddr = pages.allocateZeroed(pages: vmPages) else { return "not enough memory for the hypervisor state" }
        // The state is too large for a boot stack, so it is built in place: every
        // stored property is trivial and all-zero bytes are a valid value for
        // each, except the fields assigned right here.
        let m = UnsafeMutablePointer<Machine<A>>(bitPattern: UInt(stateAddr))!
        machineStorage = UnsafeMutableRawPointer(m)
        m.pointee.platform = platform
        m.pointee.regs = UnsafeMutablePointer<A.VCPURegisters>(bitPattern: UInt(regAddr))!
        m.pointee.vmStates = UnsafeMutablePointer<A.VMState>(bitPattern: UInt(vmAddr))!
        for g in 0..<maxGuests { (m.pointee.vmStates + g).initialize(to: A.vmEmpty()) }
        m.pointee.bundle = bundle
        m.pointee.attached = -1
        for k in 0..<maxVCPUs where !A.vcpuCreate(m.pointee.regs + k, &pages) {
            return "not enough memory for the vCPUs"
        }
        for c in 0..<min(platform.cpuCount, maxCPUs) where c != bootCPU {
            guard let stack = pages.allocateZeroed(pages: stackPages) else { return "not enough memory for the CPU stacks" }
            m.pointee.cpuStacks[c] = stack
        }
        m.pointee.pages = pages
        m.pointee.populate()
        guard m.pointee.setUpChannels() else { return "not enough memory for the channels" }
        m.pointee.bootFreePages = m.pointee.pages.freePages
        guestCommandsEnabled = true
        return nil
    }

    /// Fills the guest table and vCPU slots from the bundle.
    mutating func populate() {
        for i in 0..<min(bundle.guestCount, Machine.maxGuests) {
            let cfg = bundle.guest(i)      // BundleView bounded the vCPUs in total
            var g = GuestRecord()
            g.id = i
            g.config = cfg
            g.imageAddress = bundle.base + UInt64(cfg.image_offset)
            guests[i] = g
            let allCPUs: UInt64 = platform.cpuCount >= 64 ? ~0 : (1 << UInt64(platform.cpuCount)) - 1
            var mask = cfg.cpu_mask & allCPUs
            if mask == 0 { mask = allCPUs }
            if g.flags.contains(.pinned) { pinnedCPUs |= mask }
            for v in 0..<Int(cfg.vcpus) {
                var slot = VCPUSlot()
                slot.guest = i
                slot.index = v
                slot.cpuMask = mask
                vcpus[vcpuCount] = slot
                vcpuCount += 1
            }
            guestCount += 1
        }
        for i in 0..<min(bundle.deviceCount, 8) {
            devices[i].config = bundle.device(i)
            deviceCount += 1
        }
        for i in 0..<min(bundle.channelCount, 8) {
            channels[i].config = bundle.channel(i)
            channelCount += 1
        }
        // Unpinned guests stay off CPUs that pinned guests own, unless that leaves them none.
        for k in 0..<vcpuCount where !guests[vcpus[k].guest].flags.contains(.pinned) {
            let free = vcpus[k].cpuMask & ~pinnedCPUs
            if free != 0 { vcpus[k].cpuMask = free }
        }
    }

    public mutating func regsOf(_ slot: Int) -> UnsafeMutablePointer<A.VCPURegisters> { regs + slot }

    /// The port's state of guest `g`'s VM.
    public mutating func vm(_ g: Int) -> UnsafeMutablePointer<A.VMState> { vmStates + g }

    /// First vCPU slot of guest `g`.
    mutating func firstSlot(_ g: Int) -> Int {
        for k in 0..<vcpuCount where vcpus[k].guest == g { return k }
        return 0
    }

    mutating func anyRunning(_ g: Int) -> Bool {
        for k in 0..<vcpuCount where vcpus[k].guest == g && vcpus[k].runningOn >= 0 { return true }
        return false
    }

    /// Slot of vCPU `vcpu` of guest `g`, if it has one.
    mutating func slotOf(_ g: Int, vcpu: UInt64) -> Int? {
        for k in 0..<vcpuCount where vcpus[k].guest == g && UInt64(vcpus[k].index) == vcpu { return k }
        return nil
    }

    /// The CPUs present (bit n = CPU n), at most `maxCPUs`.
    var presentCPUs: UInt64 {
        mutating get {
            let n = UInt64(min(platform.cpuCount, Self.maxCPUs))
            return n >= 64 ? ~0 : (1 << n) - 1
        }
    }

    mutating func count(_ reason: ExitReason, guest g: Int, cpu c: Int) {
        guests[g].exits[reason.rawValue] &+= 1
        if c < Machine.maxCPUs { cpuExits[c * ExitReason.count + reason.rawValue] &+= 1 }
    }
}

nonisolated(unsafe) var machineStorage: UnsafeMutableRawPointer? = nil
