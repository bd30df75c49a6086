// VirtioBlock: reads the first sectors of a virtio-blk disk (Virtio 1.1, 5.2).
//
// Reads sectors 0..<N, N = min(capacity, 16), one 512-byte sector per
// request: a three-descriptor chain of the request header (type IN, sector),
// the data buffer and the status byte the device writes. The first pass
// polls (war mode, device interrupts suppressed) and prints one line,
//   rumpk[<guest>]: virtio-blk: read N sectors, fnv1a64 0x<16 hex digits>
// (FNV-1a 64 over the N * 512 bytes in order) or the failure. If the
// interrupt can be routed, a second pass sleeps on it (peace mode); it is
// silent when it reads the same bytes, else it reports what went wrong.
// With the bench flag: the notify-to-handler delay of the interrupt pass.

enum VirtioBlock<P: GuestPort> {
    static var maxSectors: UInt64 { 16 }
    static var sectorSize: Int { 512 }

    static func run(_ d: inout VirtioDriver<P>) {
        let sectors: UInt64, war: UInt64
        do {
            _ = try d.bringUp(features: 0)
            sectors = min(d.device.config64(0), maxSectors)
            war = try read(&d, sectors, .war)
        } catch {
            Console<P>.begin(); Console<P>.say("virtio-blk: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        // Each line is written without yielding in between: other fibers print too.
        Console<P>.begin(); Console<P>.say("virtio-blk: read "); Console<P>.dec(sectors)
        Console<P>.say(" sectors, fnv1a64 "); Console<P>.hex(war); Console<P>.say("\n")
        guard d.enablePeace() else { return }
        let peace: UInt64
        do {
            peace = try read(&d, sectors, .peace)
        } catch {
            Console<P>.begin(); Console<P>.say("virtio-blk: interrupt pass: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        if peace != war {
            Console<P>.begin(); Console<P>.say("virtio-blk: interrupt pass read fnv1a64 "); Console<P>.hex(peace)
            Console<P>.say(", not the same\n")
        } else if Console<P>.verbose() {
            Console<P>.say("virtio-blk: polling and interrupt passes agree, ")
            Console<P>.dec(UInt64(d.latency.count)); Console<P>.say(" interrupts timed\n")
        }
        if kernel.bench, d.latency.count > 0 {
            Console<P>.bench("blk_interrupt_latency_instructions", d.latency.median())
            Console<P>.bench("blk_interrupt_latency_ticks", d.latencyTicks.median())
        }
    }

    /// FNV-1a 64 of sectors 0..<count, each read by its own request completed in `mode`.
    static func read(_ d: inout VirtioDriver<P>, _ count: UInt64, _ mode: IOMode) throws(VirtioError) -> UInt64 {
        let (header, headerDMA) = try d.buffer(IOPage.blockHeader, 16)
        let (status, statusDMA) = try d.buffer(IOPage.blockStatus, 1)
        let (data, dataDMA) = try d.buffer(IOPage.sector, sectorSize)
        var hash = FNV1a64()
        for sector in 0..<count {
            header.storeBytes(of: UInt32(0), toByteOffset: 0, as: UInt32.self)          // VIRTIO_BLK_T_IN
            header.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
            header.storeBytes(of: sector.littleEndian, toByteOffset: 8, as: UInt64.self)
            status.storeBytes(of: UInt8(0xFF), as: UInt8.self)
            d.queue.setDescriptor(0, address: headerDMA, length: 16, flags: Virtqueue.next, next: 1)
            d.queue.setDescriptor(1, address: dataDMA, length: UInt32(sectorSize), flags: Virtqueue.write | Virtqueue.next, next: 2)
            d.queue.setDescriptor(2, address: statusDMA, length: 1, flags: Virtqueue.write)
            let used = try d.transact(0, mode)
            if d.interruptMissing { throw .noInterrupt }
            guard used.id == 0, status.load(as: UInt8.self) == 0 else { throw .ioError }   // VIRTIO_BLK_S_OK
            hash.add(UnsafeRawBufferPointer(start: data, count: sectorSize))
        }
        return hash.value
    }
}
