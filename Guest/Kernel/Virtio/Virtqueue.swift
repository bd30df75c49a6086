// Virtqueue: one split virtqueue in a page of guest RAM (Virtio 1.1, 2.6).
//
// The page holds the descriptor table (16 bytes per entry: addr u64, len
// u32, flags u16, next u16), the available ring (flags, idx, ring[size],
// used_event) and the used ring (flags, idx, ring[size] of {id u32, len u32},
// avail_event), each at a fixed offset that satisfies the split ring's
// alignment (16, 2, 4). The driver writes descriptors and the available ring
// and reads the used ring; fields are stored byte-exact little-endian, never
// through a Swift struct layout. The rest of the page is free for request
// headers and small buffers (IOPage offsets in Devices.swift). Descriptor
// addresses are device addresses: the caller translates through the DMA window.

struct Virtqueue {
    static let size: UInt16 = 8
    static let bytes: UInt64 = 4096
    static let descOffset: UInt64 = 0
    static let availOffset: UInt64 = 128
    static let usedOffset: UInt64 = 256

    static let next: UInt16 = 1
    static let write: UInt16 = 2

    /// Guest-physical address of the page.
    let address: UInt64
    /// Available entries published so far (free-running, as the avail idx).
    var published: UInt16 = 0
    /// Used entries consumed so far.
    var consumed: UInt16 = 0

    /// A fresh queue in `page` (4 KiB, zeroed here).
    init(page: UnsafeMutableRawBufferPointer) {
        address = UInt64(UInt(bitPattern: page.baseAddress!))
        for i in 0..<Int(Self.usedOffset + 128) { page[i] = 0 }
    }

    var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: UInt(address))! }

    func setDescriptor(_ i: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16 = 0) {
        let d = raw + Int(Self.descOffset) + Int(i) * 16
        d.storeBytes(of: address.littleEndian, toByteOffset: 0, as: UInt64.self)
        d.storeBytes(of: length.littleEndian, toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: flags.littleEndian, toByteOffset: 12, as: UInt16.self)
        d.storeBytes(of: next.littleEndian, toByteOffset: 14, as: UInt16.self)
    }

    /// Asks the device to interrupt on completions (peace mode) or not (war mode:
    /// VIRTQ_AVAIL_F_NO_INTERRUPT, a hint the device may ignore).
    func interrupts(_ on: Bool) {
        (raw + Int(Self.availOffset)).storeBytes(of: UInt16(on ? 0 : 1).littleEndian, as: UInt16.self)
    }

    /// Makes the chain starting at descriptor `head` available (the caller then notifies).
    mutating func publish<P: GuestPort>(_ head: UInt16, _ port: P.Type) {
        let avail = raw + Int(Self.availOffset)
        avail.storeBytes(of: head.littleEndian, toByteOffset: 4 + Int(published % Self.size) * 2, as: UInt16.self)
        P.ioBarrier()                       // the entry before the index that exposes it
        published &+= 1
        avail.storeBytes(of: published.littleEndian, toByteOffset: 2, as: UInt16.self)
    }

    /// The next used element (descriptor id, bytes written), if the device returned one.
    mutating func takeUsed<P: GuestPort>(_ port: P.Type) -> (id: UInt32, length: UInt32)? {
        let used = raw + Int(Self.usedOffset)
        P.ioBarrier()                       // re-read the index the device writes
        let index = UInt16(littleEndian: used.load(fromByteOffset: 2, as: UInt16.self))
        guard index != consumed else { return nil }
        P.ioBarrier()                       // the index before the element it covers
        let e = 4 + Int(consumed % Self.size) * 8
        let id = UInt32(littleEndian: used.load(fromByteOffset: e, as: UInt32.self))
        let length = UInt32(littleEndian: used.load(fromByteOffset: e + 4, as: UInt32.self))
        consumed &+= 1
        return (id, length)
    }
}
