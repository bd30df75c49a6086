// DevicesChannelsTests: passthrough devices and inter-guest channels across
// the owners' lifetimes, on the fake port.

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class DevicesTests: MachineTestCase {
    let virtio: UInt32 = 0x7472_6976

    func device(_ name: String, mmio: String, _ extra: String) -> String {
        "[[device]]\nname = \"\(name)\"\nmmio = \(mmio)\n\(extra)\n"
    }

    /// a owns d0 (irq 1, virtio, no DMA) and d2 (irq 3, DMA); b owns d1 (irq 2); d3 is the hypervisor's.
    override func setUpWithError() throws {
        try super.setUpWithError()
        try boot(guest("a") + guest("b", "harts = [1]") + guest("c")
                 + device("d0", mmio: "0x10001000", "irq = 1\nguest = \"a\"")
                 + device("d1", mmio: "0x10002000", "irq = 2\nguest = \"b\"")
                 + device("d2", mmio: "0x10003000", "irq = 3\nguest = \"a\"\ndma = true")
                 + device("d3", mmio: "0x10004000", "irq = 4"))
        H.registers[0x1000_1000] = virtio
    }

    func deviceTable(_ g: Int) -> DeviceTable {
        UnsafePointer<DeviceTable>(bitPattern: UInt(m.pointee.guests[g].sysTableHost + UInt64(RUM_DEVTABLE_OFFSET)))!.pointee
    }

    func testOnlyTheOwnerMapsItsDevicesAndGetsItsInterrupts() {
        create(0)
        let a = m.pointee.guests[0]
        XCTAssertGreaterThanOrEqual(a.ramHost, RUM_GUEST_RAM_GPA + a.ramSize, "DMA RAM lies above the guest RAM window")
        let maps = H.maps.map { [$0.gpa, $0.hpa, $0.size, $0.device ? 1 : 0] }
        XCTAssertEqual(maps, [[0x1000_1000, 0x1000_1000, 0x1000, 1], [0x1000_3000, 0x1000_3000, 0x1000, 1],
                              [a.ramHost, a.ramHost, a.ramSize, 0]])
        XCTAssertEqual(H.routes.map { [Int($0.0), $0.1 ? 1 : 0, $0.2] }, [[1, 1, 0], [3, 1, 0]])
        XCTAssertTrue(H.calls.contains(.resetVirtualInterrupts(guest: 0)))
        let t = deviceTable(0)
        XCTAssertEqual(t.magic, RUM_DEVTABLE_MAGIC)
        XCTAssertEqual(t.count, 2)
        XCTAssertEqual([t.irqchip.kind, t.irqchip.region_count], [RUM_IRQCHIP_PLIC, 1], "the port's controller, by kind")
        XCTAssertEqual([t.irqchip.regions.0.base, t.irqchip.regions.0.size], [0x0C00_0000, 0x60_0000])
        XCTAssertEqual(H.calls.filter { if case .vicAssign = $0 { return true }; return false },
                       [.vicAssign(guest: 0, source: 1), .vicAssign(guest: 0, source: 3)], "the controller learns g's sources")
        XCTAssertEqual(t.dma_base, a.ramHost)
        XCTAssertEqual(t.dma_size, a.ramSize)
        XCTAssertEqual([t.devices.0.mmio_base, UInt64(t.devices.0.irq), t.devices.1.mmio_base, UInt64(t.devices.1.irq)],
                       [0x1000_1000, 1, 0x1000_3000, 3])
        XCTAssertEqual(t.devices.1.flags, RUM_DEVICE_F_DMA)
        // c owns nothing: no mapping, an empty table.
        H.calls = []
        create(2)
        XCTAssertTrue(H.maps.isEmpty)
        XCTAssertTrue(H.routes.isEmpty)
        XCTAssertEqual(deviceTable(2).count, 0)
        XCTAssertEqual(deviceTable(2).dma_base, 0)
        XCTAssertEqual(m.pointee.guests[2].ramHost % (2 << 20), 0)
    }

    func testInterruptsGoToTheFirstHartTheOwnerMayRunOn() {
        create(1)
        XCTAssertEqual(H.routes.map { [Int($0.0), $0.1 ? 1 : 0, $0.2] }, [[2, 1, 1]])
    }

    func testDestroyUnroutesAndQuiescesVirtioDevices() {
        create(0)
        H.calls = []
        m.pointee.pending[0] = .stop
        m.pointee.settle(0)
        XCTAssertEqual(H.routes.map { [Int($0.0), $0.1 ? 1 : 0] }, [[1, 0], [3, 0]])
        XCTAssertTrue(H.calls.contains(.mmioWrite(0x1000_1070, 0)), "virtio d0 reset through its Status register")
        XCTAssertTrue(H.calls.contains(.mmioRead(0x1000_3000)), "d2 is probed")
        XCTAssertFalse(H.calls.contains(.mmioWrite(0x1000_3070, 0)), "d2 is not virtio: left alone")
        XCTAssertTrue(H.calls.contains(.resetVirtualInterrupts(guest: 0)))
        XCTAssertEqual(H.liveStage2, 0)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testInterruptOwner() {
        XCTAssertNil(m.pointee.interruptOwner(1), "owner not running")
        create(0)
        XCTAssertEqual(m.pointee.interruptOwner(1), 0)
        XCTAssertEqual(m.pointee.interruptOwner(3), 0)
        XCTAssertNil(m.pointee.interruptOwner(2), "b is stopped")
        XCTAssertNil(m.pointee.interruptOwner(4), "the hypervisor's own device")
        XCTAssertNil(m.pointee.interruptOwner(99))
    }

    /// The core routes what the port claims: the owner's controller gets the
    /// source, its vCPUs are kicked, the device counts it; nobody else sees it.
    func testClaimedInterruptsGoToTheirOwnerOnly() {
        create(0)
        H.calls = []
        H.claimable = [1, 1, 3, 2, 4, 99]        // b (owner of 2) is stopped; 4 is the hypervisor's; 99 unknown
        M.serviceInterrupts()
        XCTAssertEqual(H.calls.filter { if case .vicRaise = $0 { return true }; return false },
                       [.vicRaise(guest: 0, source: 1), .vicRaise(guest: 0, source: 1), .vicRaise(guest: 0, source: 3)])
        XCTAssertEqual((0..<4).map { m.pointee.devices[$0].interrupts }, [2, 0, 1, 0])
        XCTAssertTrue(H.vcpuWakeable(m.pointee.regsOf(0), m.pointee.vm(0), now: H.now), "the raised source wakes the owner's vCPU")
    }

    /// Delivery latency: from the hypervisor taking the interrupt to the owner claiming it.
    func testDeliveryLatencyIsMeasuredFromTakeToClaim() {
        create(0)
        for latency: UInt64 in [100, 300] {
            H.claimable = [1]
            M.serviceInterrupts()
            H.now += latency
            m.pointee.noteClaim(0, irq: 1)
        }
        m.pointee.noteClaim(0, irq: 1)             // a second claim of one interrupt: not counted twice
        m.pointee.noteClaim(1, irq: 1)             // not the owner: ignored
        XCTAssertEqual([m.pointee.devices[0].delivery.count, m.pointee.devices[0].delivery.mean, m.pointee.devices[0].delivery.max],
                       [2, 200, 300])
    }

    /// A virtual-controller access's event: a completion unmasks the source physically.
    func testCompletionUnmasksTheSource() {
        create(0)
        H.calls = []
        H.vicAnswer = VICResult(value: 0, event: .completed(3))
        XCTAssertTrue(H.handle(.emulatedAccess(emulated: true), slot: 0))
        XCTAssertTrue(H.calls.contains(.unmask(3)))
    }

    func testStage2MapFailureCrashesTheNewInstanceWithoutLeaks() {
        for n in 1...3 {   // d0's window, d2's window, the DMA alias
            H.failStage2MapIn = n
            XCTAssertThrowsError(try m.pointee.create(0)) { XCTAssertEqual($0 as? LifecycleError, .outOfMemory) }
            XCTAssertEqual(state(0), .crashed, "map \(n)")
            XCTAssertEqual(m.pointee.guests[0].ramHost, 0)
            XCTAssertEqual(H.liveStage2, 0)
            XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages, "map \(n)")
        }
        H.failStage2MapIn = 0
        create(0)
        XCTAssertEqual(state(0), .running)
    }

    func testLatencyStats() {
        var s = LatencyStats()
        XCTAssertEqual(s.mean, 0)
        s.add(10); s.add(4); s.add(1)
        XCTAssertEqual([s.count, s.sum, s.max, s.mean], [3, 15, 10, 5])
    }
}

final class ChannelsTests: MachineTestCase {
    /// c0 between a (side A) and b (side B), 16 KiB; c1 between b (A) and c (B), 4 KiB.
    override func setUpWithError() throws {
        try super.setUpWithError()
        try boot(guest("a") + guest("b") + guest("c")
                 + "[[channel]]\nname = \"c0\"\nbetween = [\"a\", \"b\"]\nsize = \"16K\"\n"
                 + "[[channel]]\nname = \"c1\"\nbetween = [\"b\", \"c\"]\nsize = \"4K\"\n")
    }

    func header(_ i: Int) -> ChannelHeader { m.pointee.channels[i].header.pointee }

    func systable(_ g: Int) -> SysTable { UnsafePointer<SysTable>(bitPattern: UInt(m.pointee.guests[g].sysTableHost))!.pointee }

    func testChannelMemoryIsFormattedAtBoot() {
        let h = header(0)
        XCTAssertEqual(h.magic, RUM_CHANNEL_MAGIC)
        XCTAssertEqual(h.revision, RUM_ABI_REVISION)
        XCTAssertEqual(h.ring_size, ((16384 - 64) / 2) & ~63)
        XCTAssertEqual([h.ring_offset.0, h.ring_offset.1], [64, 64 + h.ring_size])
        XCTAssertEqual([h.state.0, h.state.1, h.generation.0, h.generation.1], [0, 0, 0, 0])
        XCTAssertNotEqual(m.pointee.channels[0].shmHost, m.pointee.channels[1].shmHost)
        XCTAssertEqual(header(1).ring_size, ((4096 - 64) / 2) & ~63)
    }

    func testAttachMapsEachChannelAndDescribesItInTheSysTable() {
        create(1)   // b is on both channels: side B of c0, side A of c1
        let shm0 = m.pointee.channels[0].shmHost, shm1 = m.pointee.channels[1].shmHost
        XCTAssertEqual(H.maps.map { [$0.gpa, $0.hpa, $0.size, $0.device ? 1 : 0] },
                       [[RUM_GUEST_CHANNEL_GPA, shm0, 16384, 0], [RUM_GUEST_CHANNEL_GPA + RUM_GUEST_CHANNEL_STRIDE, shm1, 4096, 0]])
        let t = systable(1)
        XCTAssertEqual(t.channel_count, 2)
        XCTAssertEqual([t.channels.0.shm_base, UInt64(t.channels.0.shm_size), UInt64(t.channels.0.peer_id),
                        UInt64(t.channels.0.doorbell), UInt64(t.channels.0.side)],
                       [RUM_GUEST_CHANNEL_GPA, 16384, 0, 0, 1])
        XCTAssertEqual([t.channels.1.shm_base, UInt64(t.channels.1.peer_id), UInt64(t.channels.1.doorbell), UInt64(t.channels.1.side)],
                       [RUM_GUEST_CHANNEL_GPA + RUM_GUEST_CHANNEL_STRIDE, 2, 1, 0])
        XCTAssertEqual([header(0).state.1, header(0).generation.1, header(1).state.0, header(1).generation.0], [1, 1, 1, 1])
        XCTAssertEqual([header(0).state.0, header(1).state.1], [0, 0], "the peers are down")
        // b came up: a doorbell towards each peer side counted, no IPI since the peers do not exist.
        XCTAssertEqual([header(0).doorbells.0, header(1).doorbells.1], [1, 1])
        XCTAssertFalse(H.calls.contains { if case .inject = $0 { return true }; return false })
        XCTAssertEqual(systable(1).channel_count, 2)
    }

    func testRestartOfOneSideBumpsItsGenerationAndClearsTheRings() {
        create(0); create(1)
        XCTAssertEqual([header(0).state.0, header(0).state.1], [1, 1])
        // a writes into its ring; b's side must survive a's restart untouched except for the rings.
        let shm = m.pointee.channels[0].shmHost
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(shm + 100))!.pointee = 0xAB
        H.calls = []
        m.pointee.pending[0] = .stop
        m.pointee.settle(0)
        XCTAssertEqual([header(0).state.0, header(0).state.1], [0, 1], "a went down, b stays up")
        XCTAssertTrue(H.interruptRaised(slot(1)), "b hears that a went down")
        XCTAssertEqual(UnsafeMutablePointer<UInt8>(bitPattern: UInt(shm + 100))!.pointee, 0xAB, "rings kept while down")
        create(0)
        XCTAssertEqual([header(0).state.0, header(0).generation.0, header(0).generation.1], [1, 2, 1])
        XCTAssertEqual(UnsafeMutablePointer<UInt8>(bitPattern: UInt(shm + 100))!.pointee, 0, "a fresh instance: empty rings")
        XCTAssertEqual(header(0).magic, RUM_CHANNEL_MAGIC, "the header survives")
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages - (2 * (1024 + 1 + H.stage2RootPages) + 3),
                       "RAM, SysTable and tables of both; a page per channel mapping (a: 1, b: 2)")
    }

    func testDoorbells() {
        create(0); create(1)
        H.calls = []
        m.pointee.vcpus[slot(1)].runningOn = 1   // b runs on hart 1: kicked there
        H.handle(.doorbell(0), slot: slot(0))
        XCTAssertEqual(H.lastAnswer(slot(0)), .ok)
        XCTAssertTrue(H.interruptRaised(slot(1)))
        XCTAssertEqual(H.kicks, [1])
        XCTAssertEqual(m.pointee.channels[0].rung.0, 1)
        XCTAssertEqual(header(0).doorbells.1, 2, "one when a came up, one rung")
        // b rings c0 (its doorbell 0) and c1 (doorbell 1, c not running: counted, no IPI).
        H.calls = []
        H.handle(.doorbell(0), slot: slot(1))
        H.handle(.doorbell(1), slot: slot(1))
        XCTAssertEqual(H.answers(slot(1)), [.ok, .ok])
        XCTAssertEqual([m.pointee.channels[0].rung.1, m.pointee.channels[1].rung.0], [1, 1])
        XCTAssertTrue(H.interruptRaised(slot(0)))
        XCTAssertFalse(H.interruptRaised(slot(2)))
        // Doorbells beyond the guest's channels are refused and count nothing.
        H.handle(.doorbell(1), slot: slot(0))
        H.handle(.doorbell(UInt64.max), slot: slot(0))
        H.handle(.doorbell(2), slot: slot(1))
        XCTAssertEqual(H.lastAnswer(slot(0)), .invalidParam)
        XCTAssertEqual(H.answers(slot(1)).last, .invalidParam)
        XCTAssertEqual(m.pointee.channels[0].rung.0, 1)
        XCTAssertEqual(m.pointee.guests[0].exits[ExitReason.hypercall.rawValue], 3)
    }

    func testKickOfAWaitingVCPUWakesTheOnlineHartsThatMayRunIt() {
        create(0); create(1)
        H.calls = []
        H.hart = 0
        H.handle(.doorbell(0), slot: slot(0))   // b not running: harts it may run on, except the caller
        XCTAssertEqual(H.kicks, [1])
        m.pointee.cpuOnline[1] = false
        H.calls = []
        H.handle(.doorbell(0), slot: slot(0))
        XCTAssertEqual(H.kicks, [], "an offline hart is not kicked")
        // Running on the calling hart itself: nothing to kick.
        m.pointee.vcpus[slot(1)].runningOn = 0
        H.handle(.doorbell(0), slot: slot(0))
        XCTAssertEqual(H.kicks, [])
    }
}
