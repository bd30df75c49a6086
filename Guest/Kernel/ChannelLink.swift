// ChannelLink: one SysTable channel descriptor and its shared region, checked once.
//
// A channel is memory shared with one other guest (docs/abi.md, Channels):
// a 64-byte header the hypervisor writes (each side's state and generation,
// doorbell counters, the two ring offsets and the ring size), then two ring
// areas. The descriptor's `side` says which header index is this guest's:
// it formats and writes the ring at ring_offset[side] and reads the one at
// ring_offset[1 - side]. The offsets and size are read once and kept here,
// so a peer scribbling on the header later cannot move this side's rings;
// state and generation are re-read on every look (they are only hints).

import RumABI

struct ChannelLink {
    let index: Int
    let side: Int
    let doorbell: UInt64
    let peerID: UInt16
    let header: UnsafeMutableRawPointer
    /// The ring area this side writes, and the one the peer writes.
    let tx: UnsafeMutableRawBufferPointer
    let rx: UnsafeMutableRawBufferPointer
    /// Slots of the ring this side formats: the largest power of two that fits (at most 1024).
    let capacity: UInt32

    static func open(_ t: UnsafePointer<SysTable>, _ index: Int) -> ChannelLink? {
        guard index >= 0, index < min(Int(t.pointee.channel_count), Int(RUM_SYSTABLE_CHANNELS)) else { return nil }
        let d = withUnsafeBytes(of: t.pointee.channels) {
            $0.load(fromByteOffset: index * MemoryLayout<ChannelDesc>.size, as: ChannelDesc.self)
        }
        guard d.side <= 1, d.shm_size >= 4096, d.shm_base & 0xFFF == 0,
              let base = UnsafeMutableRawPointer(bitPattern: UInt(d.shm_base)) else { return nil }
        let h = base.load(as: ChannelHeader.self)
        guard h.magic == RUM_CHANNEL_MAGIC, h.revision == RUM_ABI_REVISION else { return nil }
        let size = UInt64(d.shm_size), ring = UInt64(h.ring_size)
        let mine = UInt64(d.side == 0 ? h.ring_offset.0 : h.ring_offset.1)
        let theirs = UInt64(d.side == 0 ? h.ring_offset.1 : h.ring_offset.0)
        guard ring >= IONRing.bytes(capacity: 1), ring <= size, mine >= 64, theirs >= 64,
              mine & 63 == 0, theirs & 63 == 0, mine <= size - ring, theirs <= size - ring,
              mine + ring <= theirs || theirs + ring <= mine else { return nil }
        var capacity: UInt32 = 1
        while capacity < 1024 && IONRing.bytes(capacity: capacity * 2) <= ring { capacity *= 2 }
        return ChannelLink(index: index, side: Int(d.side), doorbell: UInt64(d.doorbell), peerID: d.peer_id,
                           header: base,
                           tx: UnsafeMutableRawBufferPointer(start: base + Int(mine), count: Int(ring)),
                           rx: UnsafeMutableRawBufferPointer(start: base + Int(theirs), count: Int(ring)),
                           capacity: capacity)
    }

    /// The peer's side as the hypervisor last wrote it: up or down, and its instance count.
    var peer: (up: Bool, generation: UInt32) {
        rum_ion_fence()             // a fresh look, ordered before what the caller reads next
        let s = 1 - side
        let state = header.load(fromByteOffset: 0x08 + 4 * s, as: UInt32.self)
        let generation = header.load(fromByteOffset: 0x10 + 4 * s, as: UInt32.self)
        return (state == 1, generation)
    }
}
