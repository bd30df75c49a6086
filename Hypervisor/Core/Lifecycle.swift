// Lifecycle: creating, stopping, restarting and failing guests.
//
// A guest exists (owns RAM, a SysTable page and stage-2 tables) only while it
// is running or paused. Creation zeroes its RAM and copies its pristine image
// from the bundle, so nothing leaks between instances or tenants. Stopping is
// two-phase: a pending action is recorded, and whichever CPU sees the last
// vCPU of the guest leave the CPU finishes it (`settle`). A fault therefore
// never waits for other CPUs, and the other guests keep running.

import RumABI
import RumCrypto

public enum LifecycleError: Error {
    case notStopped, notRunning, notPaused, outOfMemory, refused

    public var reason: StaticString {
        switch self {
        case .notStopped: "is not stopped"
        case .notRunning: "is not running"
        case .notPaused: "is not paused"
        case .outOfMemory: "cannot be created: not enough free memory"
        case .refused: "has an image that failed verification (see info)"
        }
    }
}

/// What phase 2 of a guest's creation copies, taken under the lock in phase 1.
public struct GuestBuild {
    public var ram: UInt64 = 0
    public var ramSize: UInt64 = 0
    public var body: UInt64 = 0
    public var bodySize: UInt64 = 0
    public var storeFrom: UInt64 = 0
    public var storeTo: UInt64 = 0
    public var storeSize: UInt64 = 0
    /// Where in RAM the image goes (its load address minus the RAM base).
    public var imageOffset: UInt64 = 0
    /// A Linux-style guest's device tree: from the bundle to this host address.
    public var treeFrom: UInt64 = 0
    public var treeTo: UInt64 = 0
    public var treeSize: UInt64 = 0
    public init() {}

    /// Phase 2, without the lock: the pages are reserved and nothing maps them yet.
    public func fill() {
        zeroPhysical(ram, bytes: ramSize)
        copyPhysical(to: ram + imageOffset, from: body, bytes: bodySize)
        if storeSize > 0 { copyPhysical(to: storeTo, from: storeFrom, bytes: storeSize) }
        if treeSize > 0 { copyPhysical(to: treeTo, from: treeFrom, bytes: treeSize) }
    }
}

extension Machine {
    /// Creates guest `g` from its pristine image and makes vCPU 0 runnable,
    /// all three phases with the lock held (boot, before other CPUs run).
    public mutating func create(_ g: Int) throws(LifecycleError) {
        let b = try reserve(g, builder: A.currentCPU())
        b.fill()
        try finish(g)
    }

    /// Phase 1 of creation, lock held: checks the image (once per boot),
    /// allocates RAM and the SysTable page. The guest is then `.starting`:
    /// `builder` (or, if -1, the first CPU that claims it) fills its RAM
    /// without the lock (`GuestBuild.fill`) and calls `finish`. Zeroing and
    /// copying megabytes under the lock would stall every other CPU.
    public mutating func reserve(_ g: Int, builder: Int) throws(LifecycleError) -> GuestBuild {
        guard guests[g].ramHost == 0 else { throw .notStopped }
        if guests[g].bodyAddress == 0 {
            switch ImageCheck.verify(address: guests[g].imageAddress, size: UInt64(guests[g].config.image_size), arch: A.nplArch) {
            case .success(let (body, size)):
                guests[g].bodyAddress = body
                guests[g].bodySize = size
            case .failure(let refusal):
                guests[g].refusal = refusal
                guests[g].state = .refused
                throw .refused
            }
        }
        // The verified body (the NPL header's body size, not the bundle's image size) must fit
        // from the load address, clear of the payload store and of the device tree.
        let imageOffset = guests[g].config.entry - guests[g].ramBase      // BundleView: entry lies in RAM
        let imageEnd = imageOffset + guests[g].bodySize
        guard imageEnd <= guests[g].ramSize - storePages(g) * PageAllocator.pageSize else { throw .outOfMemory }
        if guests[g].bootsLinux {
            let tree = guests[g].config.dtb_gpa - guests[g].ramBase
            guard imageEnd <= tree || tree + UInt64(guests[g].config.dtb_size) <= imageOffset else { throw .outOfMemory }
        }
        let ramPages = Int(guests[g].ramSize / PageAllocator.pageSize)
        // A guest with a DMA device also sees its RAM at GPA == HPA, so that RAM
        // must lie above its normal guest-physical RAM window.
        let dma = needsDMAWindow(g)
        guard let ram = dma
            ? pages.allocateHigh(pages: ramPages, align: 2 << 20, minimum: guests[g].ramBase + guests[g].ramSize)
            : pages.allocate(pages: ramPages, align: 2 << 20) else { throw .outOfMemory }
        guard let st = pages.allocateZeroed(pages: 1) else {
            pages.free(ram, pages: ramPages); throw .outOfMemory
        }
        guests[g].ramHost = ram
        guests[g].sysTableHost = st
        guests[g].state = .starting
        guests[g].builder = builder
        return building(g)
    }

    /// The copy job of a `.starting` guest.
    public mutating func building(_ g: Int) -> GuestBuild {
        var b = GuestBuild()
        b.ram = guests[g].ramHost
        b.ramSize = guests[g].ramSize
        b.body = guests[g].bodyAddress
        b.bodySize = guests[g].bodySize
        b.imageOffset = guests[g].config.entry - guests[g].ramBase
        if guests[g].bootsLinux {
            b.treeFrom = bundle.base + UInt64(guests[g].config.dtb_offset)
            b.treeTo = b.ram + (guests[g].config.dtb_gpa - guests[g].ramBase)
            b.treeSize = UInt64(guests[g].config.dtb_size)
        }
        let store = storePages(g) * PageAllocator.pageSize
        if store > 0 {
            b.storeTo = b.ram + b.ramSize - store
            b.storeFrom = bundle.base + UInt64(guests[g].config.store_offset)
            b.storeSize = UInt64(guests[g].config.store_size)
        }
        return b
    }

    /// A `.starting` guest nobody builds yet whose vCPU 0 may run on CPU `c`,
    /// now claimed by `c` (a CPU pinned to another guest never builds it). Lock held.
    public mutating func claimBuild(_ c: Int) -> Int? {
        for k in 0..<vcpuCount where vcpus[k].index == 0 && vcpus[k].cpuMask & (1 << UInt64(c)) != 0 {
            let g = vcpus[k].guest
            guard guests[g].state == .starting, guests[g].builder < 0 else { continue }
            guests[g].builder = c
            return g
        }
        return nil
    }

    /// Phase 3 of creation, lock held, after `fill`: stage-2 tables, SysTable,
    /// devices and channels, vCPU 0 runnable. On failure the reserved memory
    /// is freed and the guest is `.crashed` (out of memory).
    public mutating func finish(_ g: Int) throws(LifecycleError) {
        guard guests[g].state == .starting else { throw .notStopped }
        let ram = guests[g].ramHost, st = guests[g].sysTableHost
        guests[g].builder = -1
        let layout = GuestLayout(ram: GuestPhysicalAddress(guests[g].ramBase), ramHost: HostPhysicalAddress(ram),
                                 ramSize: guests[g].ramSize, sysTable: GuestPhysicalAddress(RUM_GUEST_SYSTABLE_GPA),
                                 sysTableHost: HostPhysicalAddress(st))
        guard A.vmCreate(vm(g), vmid: UInt16(g + 1), layout: layout, &pages) else {
            pages.free(ram, pages: Int(guests[g].ramSize / PageAllocator.pageSize)); pages.free(st, pages: 1)
            guests[g].ramHost = 0
            guests[g].sysTableHost = 0
            guests[g].state = .crashed
            throw .outOfMemory
        }
        vmLive[g] = true
        fillSysTable(g)
        guests[g].faultEndedLastInstance = false
        let table = UnsafeMutablePointer<SysTable>(bitPattern: UInt(st))!
        guard attachDevices(g), attachChannels(g, table) else {
            destroy(g)
            guests[g].state = .crashed
            throw .outOfMemory
        }
        uarts[g] = NS16550()
        // Rumpk: a1 = its SysTable. Linux/U-Boot: a1 = the device tree (a0 = hart id either way).
        let entry = GuestPhysicalAddress(guests[g].config.entry)
        let arg = guests[g].bootsLinux ? guests[g].config.dtb_gpa : RUM_GUEST_SYSTABLE_GPA
        for k in 0..<vcpuCount where vcpus[k].guest == g {
            vcpus[k].state = vcpus[k].index == 0 ? .runnable : .offline
            A.vcpuReset(regsOf(k), vcpu: vcpus[k].index, entry: entry, arg: arg)
        }
        if guests[g].restarts > 0 || guests[g].lastFault.valid { markRestart(g) }
        guests[g].state = .running
        guests[g].startedAt = A.counter()
    }

    /// Pages at the top of guest RAM that hold the payload store.
    mutating func storePages(_ g: Int) -> UInt64 {
        (UInt64(guests[g].config.store_size) + PageAllocator.pageSize - 1) / PageAllocator.pageSize
    }

    /// Puts a marker in the backlog so the previous instance's output stays
    /// readable (the backlog survives restarts: it shows why a guest died),
    /// and on the console if it is attached to `g`.
    mutating func markRestart(_ g: Int) {
        let marker: StaticString = "\n[rumkv: new instance]\n"
        marker.withUTF8Buffer { for b in $0 { consoles[g].put(b) } }
        if attached == g { Out<A>.str(marker) }        // live, like the guest's own output
    }

    /// Frees everything guest `g` owns. Caller holds the lock; no vCPU of g runs.
    public mutating func destroy(_ g: Int) {
        if vmLive[g] {                   // finished: its devices and channels were attached
            detachDevices(g)
            detachChannels(g)
            A.vmDestroy(vm(g), &pages)
        }
        vmLive[g] = false
        if guests[g].ramHost != 0 {
            pages.free(guests[g].ramHost, pages: Int(guests[g].ramSize / PageAllocator.pageSize))
            pages.free(guests[g].sysTableHost, pages: 1)
        }
        guests[g].ramHost = 0
        guests[g].sysTableHost = 0
        for k in 0..<vcpuCount where vcpus[k].guest == g { vcpus[k].state = .offline }
    }

    /// Writes the guest's SysTable (ABI: rumabi.h) into its read-only page.
    mutating func fillSysTable(_ g: Int) {
        var t = SysTable()
        t.magic = RUM_SYSTABLE_MAGIC
        t.revision = UInt16(RUM_ABI_REVISION)
        t.size = UInt16(MemoryLayout<SysTable>.size)
        t.guest_id = UInt32(g)
        t.vcpu_count = guests[g].config.vcpus
        t.name = guests[g].config.name
        // Provenance id: SipHash-2-4 (128-bit) of the guest's name and index,
        // keyed with the build's first trusted key, so ids differ per guest and per build.
        let key = SipHashKey(bytes: UnsafeRawBufferPointer(start: rum_trusted_keys_base(), count: 16))
        var idInput = (guests[g].config.name, UInt32(g))
        let id = withUnsafeBytes(of: &idInput) { SipHash24.hash128(key: key, bytes: $0) }
        t.sip_id_lo = id.low
        t.sip_id_hi = id.high
        t.mem_count = 1
        t.mem.0 = MemRange(base: guests[g].ramBase, size: guests[g].ramSize)
        t.console_kind = RUM_CONSOLE_HYPERCALL
        t.hypercall_abi = RUM_HC_ABI_VERSION
        t.timebase_hz = A.counterFrequency
        t.boot_time = A.counter()
        t.restart_count = guests[g].restarts
        let store = storePages(g) * PageAllocator.pageSize
        if store > 0 {
            t.payload_base = guests[g].ramBase + guests[g].ramSize - store
            t.payload_size = UInt64(guests[g].config.store_size)
        }
        let f = guests[g].flags
        t.flags = (f.contains(.verbose) ? RUM_SYSTABLE_F_VERBOSE : 0) | (f.contains(.pinned) ? RUM_SYSTABLE_F_PINNED : 0)
        t.test_payload = guests[g].flags.contains(.test) ? guests[g].config.payload : 0
        t.devtable = RUM_GUEST_SYSTABLE_GPA + UInt64(RUM_DEVTABLE_OFFSET)
        // How the previous instance ended: the fault that ended it, else
        // none. A guest learns why it was restarted; the attack tests check
        // each attack was stopped where it was made.
        let last = guests[g].lastFault
        if last.valid, guests[g].faultEndedLastInstance {
            t.last_fault = last.kind.rawValue
            t.last_fault_access = last.kind == .stage2Fault ? last.access.rawValue : 0
            t.last_fault_address = last.address
        }
        UnsafeMutablePointer<SysTable>(bitPattern: UInt(guests[g].sysTableHost))!.pointee = t
    }

    /// Records a fault of guest `g` and schedules its teardown (and restart if
    /// its policy says so). Caller holds the lock.
    public mutating func fault(_ g: Int, _ record: FaultRecord) {
        guard guests[g].state == .running || guests[g].state == .paused else { return }
        guests[g].lastFault = record
        guests[g].faultEndedLastInstance = true
        guests[g].state = .crashed
        if pending[g] == .none { pending[g] = .crash }    // a stop or restart asked for stays
        settle(g)
    }

    /// An operator's request (`stop`, `restart`): it replaces whatever the
    /// guest itself caused (a crash, a reset) and is carried out as soon as
    /// no vCPU of `g` is on a CPU. Lock held.
    public mutating func request(_ g: Int, _ action: PendingAction) {
        pending[g] = action
        settle(g)
    }

    /// Finishes a pending action once no vCPU of `g` is on a CPU. Returns
    /// true if something was done. Caller holds the lock.
    /// A guest being built is left alone until `finish`; its builder settles
    /// it then (an unclaimed one is undone at once). A restart only reserves the new instance (phase 1): a CPU's
    /// scheduler loop fills and finishes it (Scheduler.build).
    @discardableResult
    public mutating func settle(_ g: Int) -> Bool {
        // A guest being built waits for its builder; one no CPU has claimed yet
        // has nothing mapped and nobody writing its pages: it is undone at once.
        guard pending[g] != .none, !anyRunning(g), guests[g].state != .starting || guests[g].builder < 0 else { return false }
        let action = pending[g]
        pending[g] = .none
        // Blink priority for the new instance, unless the old one died within
        // 10 ms: a crash loop must not starve the others (plain round robin).
        let ranFor = A.counter() &- guests[g].startedAt
        guests[g].blink = ranFor > A.counterFrequency / 100
        destroy(g)
        switch action {
        case .none:
            break
        case .stop:
            guests[g].state = .stopped
        case .restart:
            guests[g].state = .stopped
            guests[g].restarts += 1
            _ = try? reserve(g, builder: -1)
        case .crash:
            let policy = guests[g].config.restart_policy
            if policy == RUM_RESTART_ON_CRASH || policy == RUM_RESTART_ALWAYS {
                guests[g].restarts += 1
                do {
                    _ = try reserve(g, builder: -1)
                    guests[g].awaitingFirstOutput = true
                } catch {
                    guests[g].state = .crashed
                }
            }
        }
        return true
    }

    /// A guest stopped itself through a reset call.
    public mutating func guestReset(_ g: Int, _ kind: SystemResetKind, pc: UInt64) {
        switch kind {
        case .shutdown:
            guard pending[g] == .none else { break }
            pending[g] = guests[g].config.restart_policy == RUM_RESTART_ALWAYS ? .restart : .stop
            if pending[g] == .stop { guests[g].state = .stopped }
        case .reboot:
            if pending[g] == .none { pending[g] = .restart }
        case .crash:
            fault(g, FaultRecord(.guestCrashReport, pc: pc, at: A.counter()))
            return
        }
        settle(g)
    }
}
