// ION: the Swift view of an ION ring (Shared/include/ion.h).
//
// `IONRing` is the rich view: a pointer to the shared region plus the
// capacity this side validated when it formatted or attached the ring. Push
// and pop go through the C inline functions of ion.h, which carry the
// acquire/release ordering, and always use the private capacity mask, so a
// peer that scribbles on the header cannot make this side index outside the
// region. One side may push and one side may pop (SPSC); the value itself is
// freely copyable, the discipline is the caller's.

import CRumABI

public enum IONError: Error, Equatable {
    /// The region is smaller than the header plus `capacity` slots.
    case regionTooSmall(needed: UInt64, available: UInt64)
    /// The capacity is not a power of two in 1...RUM_ION_MAX_CAPACITY.
    case badCapacity(UInt32)
    /// The region's base is not 64-byte aligned.
    case misaligned
    /// Attach found no ring header (magic, revision or slot size differ).
    case notARing
    /// The counters say more packets are queued than the ring holds.
    case corrupt
}

public struct IONRing {
    public let ring: UnsafeMutablePointer<rum_ion_ring_t>
    /// Slots, as validated by this side.
    public let capacity: UInt32
    let mask: UInt32

    public static let headerSize = Int(RUM_ION_SLOTS_OFF)

    /// Bytes a ring of `capacity` slots needs.
    public static func bytes(capacity: UInt32) -> UInt64 { rum_ion_bytes(capacity) }

    /// Writes an empty ring into `region` (the producer's or the owner's side).
    public static func format(_ region: UnsafeMutableRawBufferPointer, capacity: UInt32) throws(IONError) -> IONRing {
        let r = try validate(region, capacity: capacity)
        r.ring.pointee = rum_ion_ring_t()
        r.ring.pointee.revision = UInt16(RUM_ABI_REVISION)
        r.ring.pointee.slot_size = UInt16(MemoryLayout<CmdPacket>.size)
        r.ring.pointee.capacity = capacity
        rum_ion_publish(r.ring, RUM_ION_MAGIC)      // last: an attacher that sees it sees the rest
        return r
    }

    /// Attaches to a ring another party formatted, checking its header once.
    public static func attach(_ region: UnsafeMutableRawBufferPointer) throws(IONError) -> IONRing {
        guard region.count >= headerSize, let base = region.baseAddress else {
            throw .regionTooSmall(needed: UInt64(headerSize), available: UInt64(region.count))
        }
        let h = base.assumingMemoryBound(to: rum_ion_ring_t.self)
        guard rum_ion_magic(h) == RUM_ION_MAGIC, UInt32(h.pointee.revision) == RUM_ABI_REVISION,
              Int(h.pointee.slot_size) == MemoryLayout<CmdPacket>.size else { throw .notARing }
        let r = try validate(region, capacity: h.pointee.capacity)
        guard rum_ion_count(r.ring) <= UInt64(r.capacity) else { throw .corrupt }
        return r
    }

    static func validate(_ region: UnsafeMutableRawBufferPointer, capacity: UInt32) throws(IONError) -> IONRing {
        guard capacity > 0, capacity <= RUM_ION_MAX_CAPACITY, capacity & (capacity - 1) == 0 else {
            throw .badCapacity(capacity)
        }
        let needed = rum_ion_bytes(capacity)
        guard let base = region.baseAddress, UInt64(region.count) >= needed else {
            throw .regionTooSmall(needed: needed, available: UInt64(region.count))
        }
        guard UInt(bitPattern: base) & 63 == 0 else { throw .misaligned }
        return IONRing(ring: base.assumingMemoryBound(to: rum_ion_ring_t.self), capacity: capacity, mask: capacity - 1)
    }

    /// Producer: queues a copy of `packet`; false if the ring is full.
    @discardableResult
    public func push(_ packet: CmdPacket) -> Bool {
        var p = packet
        return rum_ion_push(ring, mask, &p) == 1
    }

    /// Consumer: the oldest packet, or nil if the ring is empty.
    public func pop() throws(IONError) -> CmdPacket? {
        var p = CmdPacket()
        switch rum_ion_pop(ring, mask, &p) {
        case RUM_ION_OK: return p
        case RUM_ION_EMPTY: return nil
        default: throw .corrupt
        }
    }

    /// Packets queued right now (a snapshot; either side may call it).
    public var count: UInt64 { rum_ion_count(ring) }

    /// Whether the header still says this is a ring (a shared region may be
    /// wiped under a side, e.g. when its peer restarts).
    public var isFormatted: Bool { rum_ion_magic(ring) == RUM_ION_MAGIC }

    /// Producer, after pushing `pushed` packets in a row: true if the consumer
    /// may have seen the ring empty and gone to wait, so it must be woken
    /// (doorbell). That is the case when nothing but this batch is queued:
    /// the ring was empty before it, as far as the consumer has consumed.
    /// Pairs with `stillEmpty` through full fences, so one of the two sides
    /// always sees the other's update.
    public func needsWakeUp(afterPushing pushed: UInt64) -> Bool {
        rum_ion_fence()
        return count <= pushed
    }

    /// Consumer, having found the ring empty: checks again behind a full
    /// fence; true means it may wait, the producer will see its `head`.
    public func stillEmpty() -> Bool {
        rum_ion_fence()
        return count == 0
    }
}
