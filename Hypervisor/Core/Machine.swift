// Machine: the guest-hosting hypervisor's state and its boot.
//
// One `Machine<A>` lives in pages taken from the allocator at boot and is
// reached through `Machine<A>.shared`. It holds the guest table, the vCPU
// slots (register files live in a separate page array so their addresses
// never move: the world switch keeps a pointer to them), per-hart counters and
// the console attachment. All fields are guarded by `BigLock`.
//
// Every method is `mutating`, even the ones that only read: a non-mutating
// method takes `self` by value, which for this ~40 KiB struct reached through
// a pointer means a copy on the (small) hypervisor stack.

import RumABI

public struct VCPUSlot {
    public enum State: UInt8 { case offline, runnable, waiting }
    public var guest = 0
    public var index = 0
    public var state = State.offline
    /// Hart running it now, or -1.
    public var runningOn = -1
    public var hartMask: UInt64 = 0
}

public enum PendingAction: UInt8 { case none, stop, restart, crash }

public struct Machine<A: GuestHosting> {
    public static var maxGuests: Int { 8 }
    public static var maxVCPUs: Int { Int(RUM_BUNDLE_MAX_VCPUS) }
    public static var maxHarts: Int { 8 }
    /// Time slice in microseconds.
    public static var sliceMicros: UInt64 { 4000 }

    public var platform: Platform
    public var pages: PageAllocator
    public var bootFreePages = 0
    public var guests: InlineArray<8, GuestRecord> = .init(repeating: GuestRecord())
    /// Virtual consoles, apart from the records so a record stays small to copy.
    public var consoles: InlineArray<8, VConsole> = .init(repeating: VConsole())
    public var pending: InlineArray<8, PendingAction> = .init(repeating: .none)
    public var stage2: InlineArray<8, A.Stage2?> = .init(repeating: nil)
    public var guestCount = 0
    public var vcpus: InlineArray<16, VCPUSlot> = .init(repeating: VCPUSlot())
    public var vcpuCount = 0
    public var regs: UnsafeMutablePointer<A.VCPURegisters>
    public var lastPicked: InlineArray<8, Int> = .init(repeating: 0)
    public var hartExits: InlineArray<88, UInt64> = .init(repeating: 0)  // 8 harts x 11 reasons
    public var hartOnline: InlineArray<8, Bool> = .init(repeating: false)
    /// Harts reserved by pinned guests (bit n = hart n).
    public var pinnedHarts: UInt64 = 0
    public var attached = -1
    public var editor = LineEditor<Shell<A>.Echo>()
    public var bundle: BundleView
    public var devices: InlineArray<8, DeviceRecord> = .init(repeating: DeviceRecord())
    public var deviceCount = 0
    public var channels: InlineArray<8, ChannelRecord> = .init(repeating: ChannelRecord())
    public var channelCount = 0

    nonisolated(unsafe) static var storage: UnsafeMutableRawPointer? { get { machineStorage } set { machineStorage = newValue } }

    public static var shared: UnsafeMutablePointer<Machine<A>> {
        machineStorage.unsafelyUnwrapped.assumingMemoryBound(to: Machine<A>.self)
    }

    /// Sets up the machine: takes the largest free range as the page pool,
    /// places the state and register pages, creates the guest table from the
    /// bundle. Returns a reason on failure.
    public static func boot(_ platform: Platform, bundle: BundleView) -> StaticString? {
        var pages = PageAllocator(memory: platform.memory)
        let statePages = (MemoryLayout<Machine<A>>.size + 4095) / 4096
        let regPages = (MemoryLayout<A.VCPURegisters>.stride * 16 + 4095) / 4096
        guard let stateAddr = pages.allocateZeroed(pages: statePages),
              let regAddr = pages.allocateZeroed(pages: regPages) else { return "not enough memory for the hypervisor state" }
        let regsPtr = UnsafeMutablePointer<A.VCPURegisters>(bitPattern: UInt(regAddr))!
        // The state is too large for a boot stack, so it is built in place: every
        // stored property is trivial and all-zero bytes are a valid value for
        // each, except the fields assigned right here.
        let m = UnsafeMutablePointer<Machine<A>>(bitPattern: UInt(stateAddr))!
        machineStorage = UnsafeMutableRawPointer(m)
        m.pointee.platform = platform
        m.pointee.pages = pages
        m.pointee.regs = regsPtr
        m.pointee.bundle = bundle
        m.pointee.attached = -1
        for g in 0..<Machine.maxGuests { m.pointee.stage2[g] = nil }
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
            let allHarts: UInt64 = platform.cpuCount >= 64 ? ~0 : (1 << UInt64(platform.cpuCount)) - 1
            var mask = cfg.hart_mask & allHarts
            if mask == 0 { mask = allHarts }
            if cfg.flags & RUM_GUEST_F_PINNED != 0 { pinnedHarts |= mask }
            for v in 0..<Int(cfg.vcpus) {
                var slot = VCPUSlot()
                slot.guest = i
                slot.index = v
                slot.hartMask = mask
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
        // Unpinned guests stay off harts that pinned guests own, unless that leaves them none.
        for k in 0..<vcpuCount where guests[vcpus[k].guest].config.flags & RUM_GUEST_F_PINNED == 0 {
            let free = vcpus[k].hartMask & ~pinnedHarts
            if free != 0 { vcpus[k].hartMask = free }
        }
    }

    public mutating func regsOf(_ slot: Int) -> UnsafeMutablePointer<A.VCPURegisters> { regs + slot }

    /// First vCPU slot of guest `g`.
    mutating func firstSlot(_ g: Int) -> Int {
        for k in 0..<vcpuCount where vcpus[k].guest == g { return k }
        return 0
    }

    mutating func anyRunning(_ g: Int) -> Bool {
        for k in 0..<vcpuCount where vcpus[k].guest == g && vcpus[k].runningOn >= 0 { return true }
        return false
    }

    mutating func count(_ reason: ExitReason, guest g: Int, hart h: Int) {
        guests[g].exits[reason.rawValue] &+= 1
        if h < Machine.maxHarts { hartExits[h * ExitReason.count + reason.rawValue] &+= 1 }
    }
}

nonisolated(unsafe) var machineStorage: UnsafeMutableRawPointer? = nil
