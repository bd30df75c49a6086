// VirtioNet: identifies a virtio-net device (Virtio 1.1, 5.1) by its MAC.
//
// Negotiates VERSION_1 and VIRTIO_NET_F_MAC (bit 5), reads the MAC address
// from the configuration space and prints
//   rumpk[<guest>]: virtio-net: mac xx:xx:xx:xx:xx:xx
// No packets are sent or received yet: the device is reset afterwards.

enum VirtioNet<P: GuestPort> {
    static var macFeature: UInt64 { 1 << 5 }

    static func run(_ d: inout VirtioDriver<P>) {
        let accepted: UInt64
        do { accepted = try d.device.negotiate(macFeature) } catch {
            Console<P>.begin(); Console<P>.say("virtio-net: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        Console<P>.begin(); Console<P>.say("virtio-net: ")
        guard accepted & macFeature != 0 else { Console<P>.say("no MAC address offered\n"); return }
        let low = d.device.config32(0), high = d.device.config32(4)
        Console<P>.say("mac ")
        for i in 0..<6 {
            let byte = i < 4 ? low >> UInt32(8 * i) : high >> UInt32(8 * (i - 4))
            if i > 0 { Console<P>.say(":") }
            Console<P>.hexByte(UInt8(truncatingIfNeeded: byte))
        }
        Console<P>.say("\n")
    }
}
