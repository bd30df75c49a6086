// Devices: platform devices passed through to guests, and their lifetime.
//
// Each device of the bundle is owned by at most one guest. While the owner
// exists, the device's MMIO window is mapped into the owner's stage-2 at the
// same address (GPA == HPA) and its interrupt is routed to the owner's
// virtual interrupt controller; nothing else maps it. When the owner stops,
// the device is quiesced (a virtio device is reset, so it cannot keep writing
// into memory that is about to be given to someone else), its interrupt is
// masked and the mapping goes away with the owner's stage-2 tables.

import RumABI

public struct DeviceRecord {
    public var config = BundleDevice()
    /// Interrupts delivered to the owner.
    public var interrupts: UInt64 = 0
    /// Delivery latency: from the hypervisor taking the physical interrupt to
    /// the owner claiming it from its virtual controller, in retired instructions.
    public var delivery = LatencyStats()
    public init() {}

    public var owned: Bool { config.owner != RUM_DEVICE_UNOWNED }

    public func withName<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withPaddedName(config.name, body)
    }
}

extension Machine {
    /// Maps the devices guest `g` owns, fills its device table and routes
    /// their interrupts. Caller holds the lock; `s2` is g's fresh stage-2.
    mutating func attachDevices(_ g: Int, _ s2: inout A.Stage2) -> Bool {
        let table = UnsafeMutablePointer<DeviceTable>(bitPattern: UInt(guests[g].sysTableHost + UInt64(RUM_DEVTABLE_OFFSET)))!
        table.pointee = DeviceTable()
        table.pointee.magic = RUM_DEVTABLE_MAGIC
        table.pointee.vplic_base = A.virtualInterruptControllerBase
        var n = 0
        var dma = false
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) {
            let d = devices[i].config
            guard A.stage2Map(&s2, gpa: d.mmio_base, hpa: d.mmio_base, size: d.mmio_size, device: true, &pages) else { return false }
            withUnsafeMutableBytes(of: &table.pointee.devices) { raw in
                let slots = raw.bindMemory(to: GuestDevice.self)
                slots[n] = GuestDevice(name: d.name, mmio_base: d.mmio_base, mmio_size: d.mmio_size, irq: d.irq, flags: d.flags)
            }
            n += 1
            if d.flags & RUM_DEVICE_F_DMA != 0 { dma = true }
        }
        table.pointee.count = UInt32(n)
        if dma {
            // The device sees host-physical addresses: give the guest an alias of its RAM there.
            guard A.stage2Map(&s2, gpa: guests[g].ramHost, hpa: guests[g].ramHost, size: guests[g].ramSize,
                              device: false, &pages) else { return false }
            table.pointee.dma_base = guests[g].ramHost
            table.pointee.dma_size = guests[g].ramSize
        }
        // The virtual controller starts empty and knows the sources g owns before
        // any of them can fire (it only accepts those).
        A.resetVirtualInterrupts(guest: g)
        let hart = interruptHart(g)
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) && devices[i].config.irq != 0 {
            A.routeInterrupt(devices[i].config.irq, enabled: true, hart: hart)
        }
        return true
    }

    /// Quiesces and unroutes the devices of guest `g`. Caller holds the lock.
    mutating func detachDevices(_ g: Int) {
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) {
            if devices[i].config.irq != 0 { A.routeInterrupt(devices[i].config.irq, enabled: false, hart: 0) }
            Self.quiesce(devices[i].config)
        }
        A.resetVirtualInterrupts(guest: g)
    }

    /// The hart guest `g`'s device interrupts go to: the first hart its vCPU 0
    /// may run on, so a pinned owner takes them where it runs (no IPI).
    mutating func interruptHart(_ g: Int) -> Int {
        let harts = UInt64(min(platform.cpuCount, Self.maxHarts))
        let present: UInt64 = harts >= 64 ? ~0 : (1 << harts) - 1
        for k in 0..<vcpuCount where vcpus[k].guest == g && vcpus[k].index == 0 {
            let mask = vcpus[k].hartMask & present
            if mask != 0 { return mask.trailingZeroBitCount }
        }
        return 0
    }

    /// Stops a device from doing anything further before its owner's memory is
    /// reused: a virtio-mmio device (magic "virt") is reset by writing 0 to its
    /// Status register (Virtio 1.1, 4.2.2); other devices just lose their mapping.
    static func quiesce(_ d: BundleDevice) {
        guard d.mmio_size >= 0x100, A.mmioRead32(d.mmio_base) == 0x7472_6976 else { return }
        A.mmioWrite32(d.mmio_base + 0x70, 0)
    }

    /// Owner of interrupt `irq`, if a running guest owns it.
    public mutating func interruptOwner(_ irq: UInt32) -> Int? {
        for i in 0..<deviceCount where devices[i].config.irq == irq && devices[i].owned {
            let g = Int(devices[i].config.owner)
            guard guests[g].ramHost != 0 else { return nil }
            devices[i].interrupts &+= 1
            return g
        }
        return nil
    }

    /// Guest `g` claimed source `irq` from its virtual controller `instructions`
    /// after the hypervisor took it (lock held; the port measures).
    public mutating func noteDelivery(_ g: Int, irq: UInt32, instructions: UInt64) {
        for i in 0..<deviceCount where devices[i].config.irq == irq && devices[i].config.owner == UInt32(g) {
            devices[i].delivery.add(instructions)
            return
        }
    }

    /// Whether guest `g` needs DMA memory (it owns a bus-master device).
    mutating func needsDMAWindow(_ g: Int) -> Bool {
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) && devices[i].config.flags & RUM_DEVICE_F_DMA != 0 {
            return true
        }
        return false
    }
}

/// Count, mean and maximum of a latency, kept without division until shown.
public struct LatencyStats {
    public var count: UInt64 = 0
    public var sum: UInt64 = 0
    public var max: UInt64 = 0
    public init() {}

    public mutating func add(_ v: UInt64) {
        count &+= 1
        sum &+= v
        if v > max { max = v }
    }

    public var mean: UInt64 { count == 0 ? 0 : sum / count }
}
