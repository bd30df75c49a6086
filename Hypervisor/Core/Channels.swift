// Channels: shared memory and doorbells between two guests.
//
// A channel's memory is allocated once at boot and outlives restarts of
// either side. Its first 64 bytes are a header the hypervisor writes
// (rum_channel_header_t): each side's state (up/down) and generation, and a
// doorbell counter per direction; the rest holds two ION rings, one written by
// each side. When a side (re)starts, the ring areas are zeroed and its
// generation incremented, so the peer sees the channel go down and come back
// and starts its rings afresh; a stopped peer never wedges the other side.
// Doorbells (RUM_HC_DOORBELL) raise a virtual software interrupt in the peer.

import RumABI

public struct ChannelRecord {
    public var config = BundleChannel()
    public var shmHost: UInt64 = 0
    /// Doorbells rung by side A and by side B.
    public var rung: (UInt64, UInt64) = (0, 0)
    public init() {}

    var header: UnsafeMutablePointer<ChannelHeader> {
        UnsafeMutablePointer<ChannelHeader>(bitPattern: UInt(shmHost))!
    }

    /// 0 for side A, 1 for side B, nil if `g` is not on this channel.
    func side(_ g: Int) -> Int? {
        if config.guest_a == UInt32(g) { return 0 }
        if config.guest_b == UInt32(g) { return 1 }
        return nil
    }

    public func withName<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withPaddedName(config.name, body)
    }
}

extension Machine {
    /// Allocates and formats every channel's shared memory (at boot).
    mutating func setUpChannels() -> Bool {
        for i in 0..<channelCount {
            let size = UInt64(channels[i].config.size)
            guard let shm = pages.allocateZeroed(pages: Int(size / PageAllocator.pageSize)) else { return false }
            channels[i].shmHost = shm
            let h = channels[i].header
            h.pointee.magic = RUM_CHANNEL_MAGIC
            h.pointee.revision = RUM_ABI_REVISION
            let ring = UInt32((size - 64) / 2) & ~63
            h.pointee.ring_offset = (64, 64 + ring)
            h.pointee.ring_size = ring
        }
        return true
    }

    /// Maps guest `g`'s channels, marks its side up and fills its SysTable
    /// descriptors. Caller holds the lock.
    mutating func attachChannels(_ g: Int, _ table: UnsafeMutablePointer<SysTable>) -> Bool {
        var n = 0
        for i in 0..<channelCount {
            guard let side = channels[i].side(g), n < Int(RUM_SYSTABLE_CHANNELS) else { continue }
            let gpa = RUM_GUEST_CHANNEL_GPA + UInt64(n) * RUM_GUEST_CHANNEL_STRIDE
            let size = UInt64(channels[i].config.size)
            guard A.vmMap(vm(g), GuestPhysicalAddress(gpa), HostPhysicalAddress(channels[i].shmHost), size: size,
                          .normal, &pages) else { return false }
            let h = channels[i].header
            // A fresh instance: empty rings, a new generation, this side up.
            zeroPhysical(channels[i].shmHost + 64, bytes: size - 64)
            withUnsafeMutableBytes(of: &h.pointee.generation) { $0.bindMemory(to: UInt32.self)[side] &+= 1 }
            withUnsafeMutableBytes(of: &h.pointee.state) { $0.bindMemory(to: UInt32.self)[side] = 1 }
            let peer = side == 0 ? channels[i].config.guest_b : channels[i].config.guest_a
            let desc = ChannelDesc(shm_base: gpa, shm_size: UInt32(size), peer_id: UInt16(peer),
                                   doorbell: UInt8(n), side: UInt8(side))
            withUnsafeMutableBytes(of: &table.pointee.channels) { $0.bindMemory(to: ChannelDesc.self)[n] = desc }
            n += 1
            ringPeer(i, from: side)     // the peer learns that this side came up
        }
        table.pointee.channel_count = UInt32(n)
        return true
    }

    /// Marks guest `g`'s side of its channels down and tells the peers.
    mutating func detachChannels(_ g: Int) {
        for i in 0..<channelCount {
            guard let side = channels[i].side(g), channels[i].shmHost != 0 else { continue }
            withUnsafeMutableBytes(of: &channels[i].header.pointee.state) { $0.bindMemory(to: UInt32.self)[side] = 0 }
            ringPeer(i, from: side)
        }
    }

    /// Doorbell `n` of guest `g` (its n-th channel): counts it and raises the peer's interrupt.
    public mutating func doorbell(_ g: Int, _ n: UInt64) -> CallResult {
        var k: UInt64 = 0
        for i in 0..<channelCount {
            guard let side = channels[i].side(g) else { continue }
            if k == n {
                if side == 0 { channels[i].rung.0 &+= 1 } else { channels[i].rung.1 &+= 1 }
                ringPeer(i, from: side)
                return .success(0)
            }
            k += 1
        }
        return .failure(.invalidParameter)
    }

    /// The index of channel `i` among guest `g`'s channels (its doorbell number).
    mutating func channelIndex(_ i: Int, of g: Int) -> UInt32 {
        var n: UInt32 = 0
        for j in 0..<i where channels[j].side(g) != nil { n += 1 }
        return n
    }

    /// Counts a doorbell towards the other side of channel `i` and interrupts it if it runs.
    mutating func ringPeer(_ i: Int, from side: Int) {
        let peer = Int(side == 0 ? channels[i].config.guest_b : channels[i].config.guest_a)
        withUnsafeMutableBytes(of: &channels[i].header.pointee.doorbells) { $0.bindMemory(to: UInt32.self)[1 - side] &+= 1 }
        guard guests[peer].ramHost != 0 else { return }
        let n = channelIndex(i, of: peer)
        for k in 0..<vcpuCount where vcpus[k].guest == peer && vcpus[k].index == 0 {
            A.vcpuInject(regsOf(k), .doorbell(channel: n))
            kick(k)
        }
    }

    /// Gets vCPU slot `k` to notice new virtual interrupts soon: the CPU running
    /// it leaves the guest, or, if it waits, the CPUs that may run it wake up.
    public mutating func kick(_ k: Int) {
        let me = A.currentCPU()
        if vcpus[k].runningOn >= 0 {
            if vcpus[k].runningOn != me { A.kickCPU(vcpus[k].runningOn) }
            return
        }
        for c in 0..<min(platform.cpuCount, Machine.maxCPUs)
        where c != me && cpuOnline[c] && vcpus[k].cpuMask & (1 << UInt64(c)) != 0 {
            A.kickCPU(c)
        }
    }
}
