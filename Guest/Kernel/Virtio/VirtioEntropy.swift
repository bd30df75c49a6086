// VirtioEntropy: 64 bytes from a virtio-rng device (Virtio 1.1, 5.4).
//
// One device-writable buffer on queue 0, resubmitted for the rest until 64
// bytes have come back (the device may return fewer per request). Completion
// by interrupt when it can be routed, else (or if it never comes) by
// polling. Prints
//   rumpk[<guest>]: virtio-rng: 64 bytes, not all zero
// or what went wrong (all zero, no bytes, a transport error).

enum VirtioEntropy<P: GuestPort> {
    static var wanted: Int { 64 }

    static func run(_ d: inout VirtioDriver<P>) {
        var got = 0
        var any: UInt8 = 0
        do {
            _ = try d.bringUp(features: 0)
            var mode: IOMode = d.enablePeace() ? .peace : .war
            let (buffer, dma) = try d.buffer(IOPage.entropy, wanted)
            for i in 0..<wanted { buffer.storeBytes(of: UInt8(0), toByteOffset: i, as: UInt8.self) }
            var tries = 0
            while got < wanted && tries < 16 {
                d.queue.setDescriptor(0, address: dma + UInt64(got), length: UInt32(wanted - got), flags: Virtqueue.write)
                let used = try d.transact(0, mode)
                got += min(Int(used.length), wanted - got)
                tries += 1
                if d.interruptMissing && mode == .peace {      // entropy matters more than the mode
                    mode = .war
                    if Console<P>.verbose() { Console<P>.say("virtio-rng: no interrupt came, polling instead\n") }
                }
            }
            for i in 0..<got { any |= buffer.load(fromByteOffset: i, as: UInt8.self) }
        } catch {
            Console<P>.begin(); Console<P>.say("virtio-rng: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        Console<P>.begin(); Console<P>.say("virtio-rng: "); Console<P>.dec(UInt64(got)); Console<P>.say(" bytes, ")
        Console<P>.say(got == 0 ? "none returned\n" : any != 0 ? "not all zero\n" : "ALL ZERO\n")
    }
}
