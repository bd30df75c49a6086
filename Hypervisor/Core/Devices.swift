// Devices: platform devices passed through to guests, and their lifetime.
//
// Each device of the bundle is owned by at most one guest. While the owner
// exists, the device's MMIO window is mapped into the owner's stage-2 at the
// same address (GPA == HPA) and its interrupt is routed to the owner's
// virtual interrupt controller; nothing else maps it. The core owns the
// routing: the port claims physical interrupts and hands them over
// (`serviceInterrupts`), the core finds the owner, counts, raises the source
// in the owner's virtual controller and kicks its vCPUs. When the owner stops,
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
    /// Retired-instruction count when the hypervisor last took its interrupt (0: none outstanding).
    public var takenAt: UInt64 = 0
    public init() {}

    public var owned: Bool { config.owner != RUM_DEVICE_UNOWNED }

    public func withName<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withPaddedName(config.name, body)
    }
}

extension Machine {
    /// Maps the devices guest `g` owns, fills its device table, sets up its
    /// virtual interrupt controller and routes their interrupts. Caller holds
    /// the lock; g's VM state is fresh.
    mutating func attachDevices(_ g: Int) -> Bool {
        let table = HostPhysicalAddress(guests[g].sysTableHost + UInt64(RUM_DEVTABLE_OFFSET)).pointer(to: DeviceTable.self)
        table.pointee = DeviceTable()
        table.pointee.magic = RUM_DEVTABLE_MAGIC
        table.pointee.irqchip = Self.describe(A.interruptController)
        var n = 0
        var dma = false
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) {
            let d = devices[i].config
            guard A.vmMap(vm(g), GuestPhysicalAddress(d.mmio_base), HostPhysicalAddress(d.mmio_base), size: d.mmio_size,
                          .device, &pages) else { return false }
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
            guard A.vmMap(vm(g), GuestPhysicalAddress(guests[g].ramHost), HostPhysicalAddress(guests[g].ramHost),
                          size: guests[g].ramSize, .normal, &pages) else { return false }
            table.pointee.dma_base = guests[g].ramHost
            table.pointee.dma_size = guests[g].ramSize
        }
        // The virtual controller starts empty and knows the sources g owns before
        // any of them can fire (it only accepts those).
        A.vicReset(vm(g))
        let cpu = interruptCPU(g)
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) && devices[i].config.irq != 0 {
            devices[i].takenAt = 0
            A.vicAssign(vm(g), source: devices[i].config.irq)
            A.routeInterrupt(devices[i].config.irq, enabled: true, cpu: cpu)
        }
        return true
    }

    /// The device table's form of the port's interrupt controller description.
    static func describe(_ info: InterruptControllerInfo) -> IRQChip {
        var chip = IRQChip()
        chip.kind = info.kind
        chip.region_count = UInt32(min(info.regionCount, 2))
        chip.regions.0 = MemRange(base: info.regions.0.base.value, size: info.regions.0.size)
        if info.regionCount > 1 { chip.regions.1 = MemRange(base: info.regions.1.base.value, size: info.regions.1.size) }
        return chip
    }

    /// Quiesces and unroutes the devices of guest `g`. Caller holds the lock.
    mutating func detachDevices(_ g: Int) {
        for i in 0..<deviceCount where devices[i].config.owner == UInt32(g) {
            if devices[i].config.irq != 0 { A.routeInterrupt(devices[i].config.irq, enabled: false, cpu: 0) }
            Self.quiesce(devices[i].config)
        }
        A.vicReset(vm(g))
    }

    /// The CPU guest `g`'s device interrupts go to: the first CPU its vCPU 0
    /// may run on, so a pinned owner takes them where it runs (no IPI).
    mutating func interruptCPU(_ g: Int) -> Int {
        for k in 0..<vcpuCount where vcpus[k].guest == g && vcpus[k].index == 0 {
            let mask = vcpus[k].cpuMask & presentCPUs
            if mask != 0 { return mask.trailingZeroBitCount }
        }
        return 0
    }

    /// Stops a device from doing anything further before its owner's memory is
    /// reused: a virtio-mmio device (magic "virt") is reset by writing 0 to its
    /// Status register (Virtio 1.1, 4.2.2); other devices just lose their mapping.
    static func quiesce(_ d: BundleDevice) {
        let base = HostPhysicalAddress(d.mmio_base)
        guard d.mmio_size >= 0x100, A.mmioRead32(base) == 0x7472_6976 else { return }
        A.mmioWrite32(base.adding(0x70), 0)
    }

    /// Claims the physical interrupts pending on this CPU and delivers each to
    /// its owner. Lock held.
    static func serviceInterrupts() {
        A.claimInterrupts { irq in shared.pointee.deliver(irq) }
    }

    /// Physical interrupt `irq` was taken: its owner's virtual controller gets
    /// it pending and the owner's vCPUs are kicked; nobody else sees it. A
    /// source no running guest owns is dropped (it stays masked). Lock held.
    mutating func deliver(_ irq: UInt32) {
        for i in 0..<deviceCount where devices[i].config.irq == irq && devices[i].owned {
            let g = Int(devices[i].config.owner)
            guard g < guestCount, guests[g].ramHost != 0, vmLive[g] else { return }
            devices[i].interrupts &+= 1
            devices[i].takenAt = A.instructionsRetired()
            A.vicRaise(vm(g), source: irq)
            for k in 0..<vcpuCount where vcpus[k].guest == g { kick(k) }
            return
        }
    }

    /// Owner of interrupt `irq`, if a running guest owns it.
    public mutating func interruptOwner(_ irq: UInt32) -> Int? {
        for i in 0..<deviceCount where devices[i].config.irq == irq && devices[i].owned {
            let g = Int(devices[i].config.owner)
            return g < guestCount && guests[g].ramHost != 0 ? g : nil
        }
        return nil
    }

    /// Guest `g` claimed source `irq` from its virtual controller: the delivery
    /// latency since the hypervisor took it is recorded. Lock held.
    mutating func noteClaim(_ g: Int, irq: UInt32) {
        for i in 0..<deviceCount where devices[i].config.irq == irq && devices[i].config.owner == UInt32(g) {
            if devices[i].takenAt != 0 {
                devices[i].delivery.add(A.instructionsRetired() &- devices[i].takenAt)
                devices[i].takenAt = 0
            }
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
