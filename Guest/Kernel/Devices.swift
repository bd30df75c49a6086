// Devices: the fiber that drives the guest's passed-through virtio devices.
//
// At boot the `devices` fiber walks the device table and, for each virtio
// device (magic "virt", version 2), runs its minimal driver once: virtio-blk
// reads the first sectors and prints their FNV-1a 64 checksum, virtio-rng
// reads 64 bytes of entropy, virtio-net reports its MAC address. Then the
// device is reset and its interrupt unrouted; the fiber ends when all are done.
//
// Completion has two modes (the Rumpk "adaptive I/O" notes): war mode polls
// the used ring, yielding between looks; peace mode routes the device's
// interrupt through the virtual PLIC and sleeps until the handler posts the
// device's event. virtio-blk does one pass of each and checks that they read
// the same bytes; peace mode needs the port's interrupt path and a source
// number, else war mode serves alone. All devices share one I/O page from
// the arena (virtqueue and request buffers), one device at a time.

import RumABI

/// How a request's completion is awaited.
enum IOMode {
    /// Poll the used ring.
    case war
    /// Sleep until the device's interrupt.
    case peace
}

/// Offsets in the shared I/O page (the virtqueue takes its first 512 bytes).
enum IOPage {
    static let blockHeader = 512
    static let blockStatus = 528
    static let entropy = 1024
    static let sector = 2048
}

enum Devices<P: GuestPort> {
    static func run() {
        guard let t = kernel.table, let table = DeviceTableView.open(t), let page = kernel.ioPage else { return }
        for slot in 0..<table.count {
            let d = table.device(slot)
            let device = VirtioDevice<P>(base: d.mmio_base)
            let id: UInt32
            do { id = try device.identify() } catch {
                if Console<P>.verbose() { name(d); Console<P>.say(": "); Console<P>.say(error.reason); Console<P>.say("\n") }
                continue
            }
            var driver = VirtioDriver<P>(device: device, slot: slot, irq: d.irq, table: table, page: page,
                                         timebase: t.pointee.timebase_hz)
            switch id {
            case VirtioDeviceID.block: VirtioBlock<P>.run(&driver)
            case VirtioDeviceID.entropy: VirtioEntropy<P>.run(&driver)
            case VirtioDeviceID.net: VirtioNet<P>.run(&driver)
            default:
                if Console<P>.verbose() {
                    name(d); Console<P>.say(": virtio device id "); Console<P>.dec(UInt64(id)); Console<P>.say(" has no driver\n")
                }
            }
            driver.finish()
        }
    }

    static func name(_ d: GuestDevice) {
        Console<P>.say("device '"); d.withName { Console<P>.bytes($0) }; Console<P>.say("'")
    }
}

/// One device's driver run: the transport, its queue in the I/O page, and the completion modes.
struct VirtioDriver<P: GuestPort> {
    let device: VirtioDevice<P>
    let slot: Int
    let irq: UInt32
    let table: DeviceTableView
    let page: UnsafeMutableRawBufferPointer
    let timebase: UInt64
    var queue: Virtqueue
    /// Peace mode is on: the interrupt is routed to this hart.
    var routed = false
    /// A peace-mode request completed but its interrupt never came.
    var interruptMissing = false
    /// Notify-to-handler delays of peace-mode requests.
    var latency = Samples()
    var latencyTicks = Samples()

    init(device: VirtioDevice<P>, slot: Int, irq: UInt32, table: DeviceTableView,
         page: UnsafeMutableRawBufferPointer, timebase: UInt64) {
        self.device = device
        self.slot = slot
        self.irq = irq
        self.table = table
        self.page = page
        self.timebase = timebase
        queue = Virtqueue(page: page)
    }

    /// Negotiates `features`, gives the device queue 0 and starts it (DRIVER_OK).
    mutating func bringUp(features: UInt64) throws(VirtioError) -> UInt64 {
        let accepted = try device.negotiate(features)
        queue = Virtqueue(page: page)
        try device.attach(queue: 0, queue, table)
        device.start()
        return accepted
    }

    /// Routes the device's interrupt if the port can take it; false means war mode only.
    mutating func enablePeace() -> Bool {
        guard kernel.interrupts, irq != 0 else { return false }
        Interrupts<P>.route(slot: slot, irq: irq, ack: device.interruptACK)
        routed = true
        return true
    }

    /// Guest address of `offset` in the I/O page, and its device address.
    func buffer(_ offset: Int, _ bytes: Int) throws(VirtioError) -> (UnsafeMutableRawPointer, UInt64) {
        let p = page.baseAddress! + offset
        guard let dma = table.deviceAddress(UInt64(UInt(bitPattern: p)), bytes: UInt64(bytes)) else { throw .noDMA }
        return (p, dma)
    }

    /// Makes chain `head` available, notifies queue 0 and waits for the device to return it.
    /// Peace mode waits for the interrupt too (the device may finish before it arrives), so
    /// every request times one delivery; a completion whose interrupt does not come within
    /// the second is still returned, with `interruptMissing` set (the caller may fall back).
    mutating func transact(_ head: UInt16, _ mode: IOMode) throws(VirtioError) -> (id: UInt32, length: UInt32) {
        queue.interrupts(mode == .peace)
        queue.publish(head, P.self)
        let sent = InterruptStamp(ticks: P.counter(), instructions: P.instructionsRetired())
        device.notify(0)
        let deadline = sent.ticks + timebase
        var used: (id: UInt32, length: UInt32)? = nil
        while true {
            if used == nil { used = queue.takeUsed(P.self) }
            let stamp = interruptTable.lines[slot].stamp
            if let used, mode == .war || stamp.instructions > sent.instructions {
                if mode == .peace { sample(sent, stamp) }
                return used
            }
            guard P.counter() < deadline else {
                guard let used else { throw .timeout }
                interruptMissing = true
                return used
            }
            switch mode {
            case .war: Scheduler<P>.yield()
            case .peace: Scheduler<P>.wait(for: Event.device(slot), until: deadline)
            }
        }
    }

    /// Records the delay from `sent` (just before the notify) to the handler.
    mutating func sample(_ sent: InterruptStamp, _ got: InterruptStamp) {
        latency.add(got.instructions - sent.instructions)
        latencyTicks.add(got.ticks &- sent.ticks)
    }

    /// Unroutes the interrupt and resets the device: it stops using the I/O page.
    mutating func finish() {
        if routed { Interrupts<P>.unroute(slot: slot); routed = false }
        device.reset()
    }
}

/// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
struct FNV1a64 {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
}
