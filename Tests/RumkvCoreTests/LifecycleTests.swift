// LifecycleTests: creating, stopping, restarting and failing guests on the fake port.
//
// Guests are built from signed images in a real bundle; their RAM is host
// memory, so the tests read back what creation copied and zeroed. The page
// pool must come back to its boot value whatever happens.

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class LifecycleTests: MachineTestCase {
    func ram(_ g: Int, _ offset: Int, _ count: Int) -> [UInt8] {
        let p = UnsafePointer<UInt8>(bitPattern: UInt(m.pointee.guests[g].ramHost + UInt64(offset)))!
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    func testBootBuildsTheGuestTableFromTheBundle() throws {
        try boot(guest("a", "vcpus = 2") + guest("b", "autostart = false\nrestart = \"never\""), harts: 2)
        XCTAssertEqual(m.pointee.guestCount, 2)
        XCTAssertEqual(m.pointee.vcpuCount, 3)
        XCTAssertEqual((0..<3).map { m.pointee.vcpus[$0].guest }, [0, 0, 1])
        XCTAssertEqual((0..<3).map { m.pointee.vcpus[$0].index }, [0, 1, 0])
        XCTAssertEqual((0..<3).map { m.pointee.vcpus[$0].cpuMask }, [3, 3, 3])
        XCTAssertEqual(state(0), .stopped)
        XCTAssertEqual(m.pointee.bootFreePages, m.pointee.pages.freePages)
        XCTAssertTrue(guestCommandsEnabled)
        XCTAssertEqual(m.pointee.guests[1].config.restart_policy, RUM_RESTART_NEVER)
    }

    func testBootFailsWithoutMemoryForTheState() throws {
        XCTAssertThrowsError(try FakeMachine.boot(guest("a"), ram: 16 << 10)) {
            XCTAssertEqual("\($0)", "not enough memory for the hypervisor state")
        }
    }

    func testCreateCopiesTheVerifiedBodyZeroesTheRestAndFillsTheSysTable() throws {
        try boot(guest("a") + guest("b", "vcpus = 2\nverbose = true"))
        // Dirty the pool first: creation must zero what it hands out.
        UnsafeMutableRawPointer(bitPattern: UInt(HostRAM.base))!.initializeMemory(as: UInt8.self, repeating: 0xEE, count: HostRAM.size / 2)
        try boot(guest("a") + guest("b", "vcpus = 2\nverbose = true"))
        create(1)
        let g = m.pointee.guests[1]
        XCTAssertEqual(state(1), .running)
        XCTAssertNotEqual(g.ramHost, 0)
        XCTAssertEqual(g.ramHost % (2 << 20), 0, "guest RAM is 2 MiB aligned")
        XCTAssertEqual(g.bodySize, 600)
        XCTAssertEqual(ram(1, 0, 600), [UInt8](FakeMachine.body(1)))
        XCTAssertEqual(ram(1, 600, 4096), [UInt8](repeating: 0, count: 4096))
        XCTAssertEqual(ram(1, Int(g.ramSize) - 8, 8), [UInt8](repeating: 0, count: 8))
        let t = UnsafePointer<SysTable>(bitPattern: UInt(g.sysTableHost))!.pointee
        XCTAssertEqual(t.magic, RUM_SYSTABLE_MAGIC)
        XCTAssertEqual(t.guest_id, 1)
        XCTAssertEqual(t.vcpu_count, 2)
        XCTAssertEqual(t.mem.0.base, RUM_GUEST_RAM_GPA)
        XCTAssertEqual(t.mem.0.size, 4 << 20)
        XCTAssertEqual(t.flags, RUM_SYSTABLE_F_VERBOSE)
        XCTAssertEqual(t.timebase_hz, H.counterFrequency)
        XCTAssertEqual(t.boot_time, H.now)
        XCTAssertEqual(t.restart_count, 0)
        XCTAssertEqual(t.payload_base, 0)
        XCTAssertNotEqual(t.sip_id_lo | t.sip_id_hi, 0)
        // vCPU 0 runnable at the image entry with the SysTable as argument; vCPU 1 offline.
        XCTAssertEqual(m.pointee.vcpus[slot(1, 0)].state, .runnable)
        XCTAssertEqual(m.pointee.vcpus[slot(1, 1)].state, .offline)
        XCTAssertEqual(H.resets(slot(1, 0)).map { [$0.entry, $0.arg, $0.vcpu] }, [[RUM_GUEST_RAM_GPA, RUM_GUEST_SYSTABLE_GPA, 0]])
        XCTAssertEqual(H.resets(slot(1, 1)).map { $0.vcpu }, [1])
        XCTAssertTrue(H.calls.contains(.stage2Create(id: 1, vmid: 2, ramHost: g.ramHost, ramSize: 4 << 20, sysTableHost: g.sysTableHost)))
        XCTAssertEqual(m.pointee.guests[0].ramHost, 0, "guest a was not created")
    }

    func testSysTableIDsDifferPerGuest() throws {
        try boot(guest("a") + guest("b"))
        create(0); create(1)
        let ids = (0..<2).map { g -> [UInt64] in
            let t = UnsafePointer<SysTable>(bitPattern: UInt(m.pointee.guests[g].sysTableHost))!.pointee
            return [t.sip_id_lo, t.sip_id_hi]
        }
        XCTAssertNotEqual(ids[0], ids[1])
    }

    func testPayloadStoreIsCopiedToTheTopOfRAM() throws {
        let store = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13) })
        try boot(guest("a"), stores: [0: store])
        create(0)
        let g = m.pointee.guests[0]
        let t = UnsafePointer<SysTable>(bitPattern: UInt(g.sysTableHost))!.pointee
        XCTAssertEqual(t.payload_size, 5000)
        XCTAssertEqual(t.payload_base, RUM_GUEST_RAM_GPA + (4 << 20) - 8192)
        XCTAssertEqual(ram(0, (4 << 20) - 8192, 5000), [UInt8](store))
    }

    func testStoreThatLeavesNoRoomForTheImageIsOutOfMemory() throws {
        // 2 MiB guest, a store of just under 2 MiB: body + store pages exceed RAM.
        let store = Data(repeating: 1, count: (2 << 20) - 100)
        try boot(guest("a", memory: "2M"), stores: [0: store])
        XCTAssertThrowsError(try m.pointee.create(0)) { XCTAssertEqual($0 as? LifecycleError, .outOfMemory) }
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testReserveFillFinishPhases() throws {
        try boot(guest("a"))
        H.hart = 1
        let job = try m.pointee.reserve(0, builder: 1)
        XCTAssertEqual(state(0), .starting)
        XCTAssertEqual(m.pointee.guests[0].builder, 1)
        XCTAssertEqual(job.ram, m.pointee.guests[0].ramHost)
        XCTAssertEqual(job.ramSize, 4 << 20)
        XCTAssertEqual(job.bodySize, 600)
        XCTAssertNil(m.pointee.claimBuild(0), "a guest with a builder is not claimed again")
        XCTAssertEqual(H.liveStage2, 0, "no stage-2 before finish")
        XCTAssertNil(m.pointee.pick(0, now: H.now), "a starting guest does not run")
        XCTAssertThrowsError(try m.pointee.reserve(0, builder: 0)) { XCTAssertEqual($0 as? LifecycleError, .notStopped) }
        job.fill()
        try m.pointee.finish(0)
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(m.pointee.guests[0].builder, -1)
        XCTAssertEqual(H.liveStage2, 1)
        XCTAssertThrowsError(try m.pointee.finish(0)) { XCTAssertEqual($0 as? LifecycleError, .notStopped) }
    }

    func testClaimBuildRespectsTheHartMask() throws {
        try boot(guest("a", "harts = [1]"), harts: 2)
        _ = try m.pointee.reserve(0, builder: -1)
        XCTAssertNil(m.pointee.claimBuild(0))
        XCTAssertEqual(m.pointee.claimBuild(1), 0)
        XCTAssertEqual(m.pointee.guests[0].builder, 1)
        XCTAssertNil(m.pointee.claimBuild(1))
    }

    func testStopOfAStartingGuestWaitsForItsBuilder() throws {
        try boot(guest("a"))
        _ = try m.pointee.reserve(0, builder: 1)
        m.pointee.pending[0] = .stop
        XCTAssertFalse(m.pointee.settle(0), "a guest being built is left alone")
        m.pointee.guests[0].builder = -1            // as if CPU 1 handed it back: built by the next claimant
        XCTAssertEqual(state(0), .starting)
        buildPending()
        XCTAssertEqual(state(0), .stopped, "its builder settles the stop after finish")
        XCTAssertEqual(m.pointee.guests[0].ramHost, 0)
        XCTAssertEqual(H.liveStage2, 0)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testRestartOfAStartingGuestBuildsANewInstance() throws {
        try boot(guest("a"))
        _ = try m.pointee.reserve(0, builder: -1)
        m.pointee.pending[0] = .restart
        buildOne()
        XCTAssertEqual(state(0), .starting, "the restart reserved a new instance")
        XCTAssertEqual(m.pointee.guests[0].restarts, 1)
        buildPending()
        XCTAssertEqual(state(0), .running)
        XCTAssertTrue(backlog(0).contains("[rumkv: new instance]"))
        let t = UnsafePointer<SysTable>(bitPattern: UInt(m.pointee.guests[0].sysTableHost))!.pointee
        XCTAssertEqual(t.restart_count, 1)
    }

    /// A new instance's SysTable says how the previous one ended: the fault
    /// recorded during it, or none after a clean or operator restart.
    func testSysTableCarriesHowThePreviousInstanceEnded() throws {
        try boot(guest("a", "restart = \"on-crash\""))
        create(0)
        func table() -> SysTable { UnsafePointer<SysTable>(bitPattern: UInt(m.pointee.guests[0].sysTableHost))!.pointee }
        XCTAssertEqual(table().last_fault, RUM_FAULT_NONE, "the first instance")
        H.now += 20_000
        H.handle(.stage2Fault(gpa: 0x1000_0000, access: .write, pc: 0x8000_0040), slot: slot(0))
        buildPending()
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(table().last_fault, RUM_FAULT_STAGE2)
        XCTAssertEqual(table().last_fault_access, RUM_ACCESS_WRITE)
        XCTAssertEqual(table().last_fault_address, 0x1000_0000)
        H.now += 20_000
        H.handle(.fatal(.virtualInstruction, pc: 0x8000_0080, detail: 0x6C05_C573), slot: slot(0))
        buildPending()
        XCTAssertEqual(table().last_fault, RUM_FAULT_VIRTUAL_INSTRUCTION)
        XCTAssertEqual(table().last_fault_access, 0, "only a stage-2 fault has an access")
        XCTAssertEqual(table().last_fault_address, 0x6C05_C573, "the trap's detail: the instruction")
        // An operator restart of the healthy new instance: it did not fault.
        H.now += 20_000
        m.pointee.request(0, .restart)
        buildPending()
        XCTAssertEqual(m.pointee.guests[0].restarts, 3)
        XCTAssertEqual(table().last_fault, RUM_FAULT_NONE)
        XCTAssertEqual(table().last_fault_address, 0)
        XCTAssertTrue(m.pointee.guests[0].lastFault.valid, "info still shows the old fault")
    }

    func testBuildGivesBlinkPriorityOnlyOnItsOwnHart() throws {
        try boot(guest("a") + guest("b") + guest("c", "harts = [1]"), harts: 2)
        create(0); create(1); create(2)
        // b ran for 20 ms, then crashed: blink priority, runs next on the building hart.
        H.now += 20_000
        H.handle(.fatal(.illegalInstruction, pc: 0x8000_0010, detail: 0), slot: slot(1))
        XCTAssertTrue(m.pointee.guests[1].blink)
        m.pointee.lastPicked[0] = 0
        buildPending(hart: 0)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), slot(1), "the rebuilt guest runs next")
        // c may not run on hart 0: its builder kicks the harts that may run it.
        H.now += 20_000
        H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(2))
        H.calls = []
        _ = m.pointee.claimBuild(1).map { Scheduler<FakeGuestHost>.build($0, cpu: 0) }
        XCTAssertEqual(state(2), .running)
        XCTAssertEqual(H.kicks, [1])
    }

    func testCrashLoopGetsNoBlinkPriority() throws {
        try boot(guest("a") + guest("b"))
        create(0); create(1)
        H.now += 5_000      // 5 ms after it started
        H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(1))
        XCTAssertFalse(m.pointee.guests[1].blink)
        XCTAssertEqual(state(1), .starting)
        m.pointee.lastPicked[0] = 0
        buildPending()
        XCTAssertEqual(state(1), .running)
        // Plain round robin: after slot 0 comes slot 1 anyway; make a the next candidate.
        m.pointee.lastPicked[0] = slot(1)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), slot(0), "no jump to the crash-looping guest")
        // Exactly at 10 ms: still a crash loop (ranFor must exceed frequency / 100).
        H.now += 10_000
        H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(1))
        XCTAssertFalse(m.pointee.guests[1].blink)
        buildPending()
        H.now += 10_001
        H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(1))
        XCTAssertTrue(m.pointee.guests[1].blink)
    }

    func testRestartPolicies() throws {
        try boot(guest("never", "restart = \"never\"") + guest("crash", "restart = \"on-crash\"")
                 + guest("always", "restart = \"always\""), harts: 1)
        for g in 0..<3 { create(g) }
        // Crash: never stays crashed; on-crash and always come back.
        for g in 0..<3 { H.handle(.fatal(.accessFault, pc: 0x8000_0000, detail: 0x1234), slot: slot(g)) }
        buildPending()
        XCTAssertEqual([state(0), state(1), state(2)], [.crashed, .running, .running])
        XCTAssertEqual((0..<3).map { m.pointee.guests[$0].restarts }, [0, 1, 1])
        XCTAssertEqual(m.pointee.guests[0].ramHost, 0, "a crashed guest owns nothing")
        // Clean shutdown: only always comes back.
        for g in 1..<3 { H.handle(.shutdown, slot: slot(g)) }
        buildPending()
        XCTAssertEqual([state(1), state(2)], [.stopped, .running])
        XCTAssertEqual(m.pointee.guests[2].restarts, 2)
        // Reboot: any policy comes back.
        create(0)
        H.handle(.reboot, slot: slot(0))
        buildPending()
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(m.pointee.guests[0].restarts, 1)
        // A crash report is a crash with the guest's pc.
        H.handle(.crashReport, slot: slot(0))
        XCTAssertEqual(state(0), .crashed)
        XCTAssertEqual(m.pointee.guests[0].lastFault.kind, .guestCrashReport)
        XCTAssertEqual(m.pointee.guests[0].lastFault.pc, RUM_GUEST_RAM_GPA + 4, "pc after the completed call")
        XCTAssertEqual(m.pointee.pending[0], .none)
    }

    func testAThousandRestartsLeaveThePagePoolAsItWas() throws {
        try boot(guest("a", "restart = \"always\"", memory: "2M") + guest("b"))
        let boot = m.pointee.pages.freePages
        create(1)
        let withB = m.pointee.pages.freePages
        create(0)
        let ramHost = m.pointee.guests[0].ramHost
        for i in 0..<1000 {
            H.now += 20_000
            switch i % 4 {
            case 0: H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(0))
            case 1: H.handle(.shutdown, slot: slot(0))
            case 2: H.handle(.reboot, slot: slot(0))
            default: H.handle(.stage2Fault(gpa: 0x1000, access: .write, pc: 0), slot: slot(0))
            }
            buildPending()
            XCTAssertEqual(state(0), .running, "restart \(i)")
        }
        XCTAssertEqual(m.pointee.guests[0].restarts, 1000)
        XCTAssertEqual(m.pointee.guests[0].ramHost, ramHost, "first fit gives the same RAM back")
        XCTAssertEqual(H.liveStage2, 2)
        m.pointee.pending[0] = .stop
        m.pointee.settle(0)
        XCTAssertEqual(m.pointee.pages.freePages, withB)
        m.pointee.pending[1] = .stop
        m.pointee.settle(1)
        XCTAssertEqual(m.pointee.pages.freePages, boot)
        XCTAssertEqual(H.liveStage2, 0)
    }

    func testOutOfMemoryForGuestRAM() throws {
        // 16 MiB of pool: the state and two 4 MiB guests fit, a 8 MiB third does not.
        try boot(guest("a") + guest("b") + guest("c", memory: "8M"), ram: 16 << 20)
        create(0); create(1)
        let free = m.pointee.pages.freePages
        XCTAssertThrowsError(try m.pointee.create(2)) { XCTAssertEqual($0 as? LifecycleError, .outOfMemory) }
        XCTAssertEqual(m.pointee.pages.freePages, free)
        XCTAssertEqual(state(2), .stopped)
    }

    func testOutOfMemoryForTheSysTablePageFreesTheRAM() throws {
        try boot(guest("a") + guest("b"), ram: 16 << 20)
        create(0)
        // Keep one 2 MiB aligned 4 MiB run free and nothing else: the RAM fits, the SysTable page does not.
        let ram = m.pointee.pages.allocate(pages: 1024, align: 2 << 20)!
        let hog = exhaustPool()
        m.pointee.pages.free(ram, pages: 1024)
        XCTAssertEqual(m.pointee.pages.freePages, 1024)
        XCTAssertThrowsError(try m.pointee.create(1)) { XCTAssertEqual($0 as? LifecycleError, .outOfMemory) }
        XCTAssertEqual(m.pointee.pages.freePages, 1024, "the reserved RAM was given back")
        XCTAssertEqual(m.pointee.guests[1].ramHost, 0)
        XCTAssertEqual(state(1), .stopped)
        release(hog)
    }

    func testStage2CreationFailureCrashesTheNewInstanceAndFreesIt() throws {
        try boot(guest("a"))
        H.failStage2Create = true
        XCTAssertThrowsError(try m.pointee.create(0)) { XCTAssertEqual($0 as? LifecycleError, .outOfMemory) }
        XCTAssertEqual(state(0), .crashed)
        XCTAssertEqual(m.pointee.guests[0].ramHost, 0)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testRestartThatRunsOutOfMemoryLeavesTheGuestCrashed() throws {
        try boot(guest("a"))
        create(0)
        H.now += 50_000
        H.failStage2Create = true
        H.handle(.fatal(.illegalInstruction, pc: 0, detail: 0), slot: slot(0))
        buildPending()
        XCTAssertEqual(state(0), .crashed)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testFaultOfAGuestThatIsNotRunningIsIgnored() throws {
        try boot(guest("a"))
        var r = FaultRecord()
        r.valid = true
        m.pointee.fault(0, r)
        XCTAssertEqual(state(0), .stopped)
        XCTAssertFalse(m.pointee.guests[0].lastFault.valid)
    }

    func testSettleWaitsForTheLastVCPUToLeave() throws {
        try boot(guest("a", "vcpus = 2"))
        create(0)
        m.pointee.vcpus[slot(0, 1)].runningOn = 1
        m.pointee.pending[0] = .stop
        XCTAssertFalse(m.pointee.settle(0))
        XCTAssertNotEqual(m.pointee.guests[0].ramHost, 0)
        m.pointee.vcpus[slot(0, 1)].runningOn = -1
        XCTAssertTrue(m.pointee.settle(0))
        XCTAssertEqual(state(0), .stopped)
        XCTAssertFalse(m.pointee.settle(0), "nothing pending")
    }

    func testRefusedImages() throws {
        let unsigned = FakeMachine.body(0)
        let stranger = try TestKeys.stranger.sign(FakeMachine.body(1), arch: H.nplArch, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        let wrongArch = try TestKeys.key.sign(FakeMachine.body(2), arch: UInt8(RUM_NPL_ARCH_ARM64), flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        let notGuest = try TestKeys.key.sign(FakeMachine.body(3), arch: H.nplArch, flags: 0)
        try boot(guest("u") + guest("s") + guest("w") + guest("n") + guest("ok"),
                 images: [0: unsigned, 1: stranger, 2: wrongArch, 3: notGuest])
        let expected: [ImageRefusal.Reason] = [.unsigned, .badSignature, .wrongArch, .notGuestImage]
        for g in 0..<4 {
            XCTAssertThrowsError(try m.pointee.create(g)) { XCTAssertEqual($0 as? LifecycleError, .refused) }
            XCTAssertEqual(state(g), .refused)
            XCTAssertEqual(m.pointee.guests[g].refusal?.reason, expected[g])
        }
        create(4)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages - (1024 + 1 + H.stage2RootPages))
    }

    func testNoTrustedKeysRefusesEveryImage() throws {
        try boot(guest("a"))
        TestKeys.install(count: 0)
        defer { TestKeys.install() }
        XCTAssertThrowsError(try m.pointee.create(0)) { XCTAssertEqual($0 as? LifecycleError, .refused) }
        XCTAssertEqual(m.pointee.guests[0].refusal?.reason, .noKeys)
    }

    func testImageIsVerifiedOncePerBoot() throws {
        try boot(guest("a"))
        create(0)
        // Break the image in the bundle: a restart copies the verified body without checking again.
        let image = UnsafeMutablePointer<UInt8>(bitPattern: UInt(m.pointee.guests[0].imageAddress))!
        image[10] ^= 0xFF
        H.handle(.reboot, slot: slot(0))
        buildPending()
        XCTAssertEqual(state(0), .running)
        image[10] ^= 0xFF
    }

    func testRefusalTextsAreDistinct() {
        let reasons: [ImageRefusal.Reason] = [.tooShort, .unsigned, .badVersion, .wrongArch, .badHeader, .badSize,
                                               .badSignature, .noKeys, .notGuestImage]
        let texts = Set(reasons.map { "\(ImageRefusal($0).text)" })
        XCTAssertEqual(texts.count, reasons.count)
        XCTAssertTrue(texts.allSatisfy { $0.hasPrefix("refused: ") })
    }

    func testImageCheckReasons() throws {
        let good = try TestKeys.key.sign(FakeMachine.body(0), arch: H.nplArch, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        func verify(_ d: Data) -> ImageRefusal.Reason? {
            d.withUnsafeBytes { raw in
                switch ImageCheck.verify(address: UInt64(UInt(bitPattern: raw.baseAddress!)), size: UInt64(raw.count), arch: H.nplArch) {
                case .success: nil
                case .failure(let r): r.reason
                }
            }
        }
        XCTAssertNil(verify(good))
        XCTAssertEqual(verify(good.prefix(64)), .tooShort)
        XCTAssertEqual(verify(good + Data([0])), .badSize)
        var version = good; version[4] ^= 0x7F
        XCTAssertEqual(verify(version), .badVersion)
        var body = good; body[body.count - 1] ^= 1
        XCTAssertEqual(verify(body), .badSignature)
        guard case .failure(let r) = ImageCheck.verify(address: 0, size: 0, arch: H.nplArch) else { return XCTFail() }
        XCTAssertEqual(r.reason, .tooShort)
    }
}
