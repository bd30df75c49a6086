// GuestCommandsTests: the guest-management console commands, line by line.
//
// Each command line goes through Shell.execute with the guest commands as
// its extra handler, as ConsoleService feeds them; the fake console's bytes
// are compared whole (CR LF line ends).

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class GuestCommandsTests: MachineTestCase {
    /// web: 2 vCPUs on hart 0, owns d0, side A of c0; db: never restarted, side B of c0; pin: pinned to hart 1.
    override func setUpWithError() throws {
        try super.setUpWithError()
        try boot(guest("web", "vcpus = 2\nharts = [0]") + guest("db", "restart = \"never\"\nharts = [0]\nautostart = false")
                 + guest("pin", "pinned = true\nharts = [1]\nrestart = \"always\"")
                 + "[[device]]\nname = \"d0\"\nmmio = 0x10001000\nirq = 5\nguest = \"web\"\n"
                 + "[[device]]\nname = \"spare\"\nmmio = 0x10002000\nirq = 6\n"
                 + "[[channel]]\nname = \"c0\"\nbetween = [\"web\", \"db\"]\nsize = \"8K\"\n")
    }

    func testHelpListsTheGuestCommandsOnceGuestsExist() {
        let out = command("help")
        XCTAssertTrue(out.contains("  list                 guests: id, name, state, vCPUs, cpus, memory, restarts, uptime\r\n"), out)
        XCTAssertTrue(out.contains("  <guest> is a name or an id\r\n"), out)
    }

    func testList() {
        let head = "id  name             state     vcpus  cpus      memory   restarts  uptime"
        XCTAssertEqual(command("list"), lines(
            head,
            "0   web              stopped   2      0         4 MiB  0         -",
            "1   db               stopped   1      0         4 MiB  0         -",
            "2   pin              stopped   1      1*        4 MiB  0         -"))
        XCTAssertEqual(command("start web"), lines("web: started"))
        H.now += 3_500_000
        XCTAssertEqual(command("list"), lines(
            head,
            "0   web              running   2      0         4 MiB  0         3s",
            "1   db               stopped   1      0         4 MiB  0         -",
            "2   pin              stopped   1      1*        4 MiB  0         -"))
        XCTAssertEqual(command("pause web"), lines("web: paused"))
        XCTAssertTrue(command("list").contains("0   web              paused    2      0         4 MiB  0         3s\r\n"))
    }

    func testStartStopRestartPauseResume() {
        XCTAssertEqual(command("start 0"), lines("web: started"))
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(command("start web"), lines("error: guest 'web' is already running"))
        XCTAssertEqual(command("resume web"), lines("error: guest 'web' is not paused"))
        XCTAssertEqual(command("pause web"), lines("web: paused"))
        XCTAssertEqual(command("pause web"), lines("error: guest 'web' is not running"))
        XCTAssertEqual(command("start web"), lines("error: guest 'web' is paused (use resume)"))
        XCTAssertEqual(command("resume web"), lines("web: resumed"))
        XCTAssertEqual(state(0), .running)
        let ram = m.pointee.guests[0].ramHost
        XCTAssertEqual(command("restart web"), lines("web: restarted"))
        XCTAssertEqual(state(0), .starting, "the new instance is built by a hart's loop")
        XCTAssertEqual(m.pointee.guests[0].restarts, 1)
        XCTAssertEqual(command("start web"), lines("error: guest 'web' is starting"))
        buildPending()
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(m.pointee.guests[0].ramHost, ram)
        XCTAssertEqual(command("stop web"), lines("web: stopped"))
        XCTAssertEqual(state(0), .stopped)
        XCTAssertEqual(command("stop web"), lines("error: guest 'web' is already stopped"))
        XCTAssertEqual(command("pause web"), lines("error: guest 'web' is not running"))
        // restart of a stopped guest starts it.
        XCTAssertEqual(command("restart 0"), lines("web: started"))
        XCTAssertEqual(command("stop web"), lines("web: stopped"))
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testStopOfAStartingGuest() throws {
        _ = try m.pointee.reserve(0, builder: -1)
        // No CPU has claimed its build: nothing maps it yet, so the stop undoes it at once.
        XCTAssertEqual(command("stop web"), lines("web: stopped"))
        XCTAssertEqual(m.pointee.pending[0], .none)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
        XCTAssertEqual(state(0), .stopped)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
    }

    func testStopOrRestartOfARunningVCPUKicksItsHart() {
        command("start web")
        m.pointee.vcpus[slot(0)].runningOn = 1
        H.calls = []
        XCTAssertEqual(command("restart web"), lines("web: restart pending: a vCPU has not left its CPU yet (see 'list')"))
        XCTAssertEqual(H.kicks, [1])
        XCTAssertEqual(m.pointee.pending[0], .restart)
        m.pointee.vcpus[slot(0)].runningOn = -1
        XCTAssertTrue(m.pointee.settle(0))
        buildPending()
        XCTAssertEqual(state(0), .running)
        H.hart = 1
        m.pointee.vcpus[slot(0)].runningOn = 1
        H.calls = []
        command("pause web")
        XCTAssertEqual(H.kicks, [], "the hart running it is the caller's own")
    }

    func testRestartThatFailsForMemoryReportsIt() {
        command("start web")
        H.failStage2Create = true
        XCTAssertEqual(command("restart web"), lines("web: restarted"), "reserved; the failure comes when it is finished")
        buildPending()
        XCTAssertEqual(state(0), .crashed)
        H.failStage2Create = false
        // A crashed guest that owns nothing stops without a request.
        XCTAssertEqual(command("stop web"), lines("web: stopped"))
        XCTAssertEqual(state(0), .stopped)
        H.failStage2Create = true
        XCTAssertEqual(command("start web"), lines("error: guest 'web' cannot be created: not enough free memory"))
        XCTAssertEqual(state(0), .crashed)
        H.failStage2Create = false
        XCTAssertEqual(command("start web"), lines("web: started"), "a crashed guest may be started again")
    }

    func testRestartWithoutMemoryForTheNewInstance() {
        command("start web")
        let hog = exhaustPool()
        defer { release(hog) }
        // Stop frees web's memory and the reservation takes it again: still fits.
        XCTAssertEqual(command("restart web"), lines("web: restarted"))
        buildPending()
        XCTAssertEqual(state(0), .running)
        // Now steal the RAM right after a stop: start cannot reserve.
        XCTAssertEqual(command("stop web"), lines("web: stopped"))
        let more = exhaustPool()
        defer { release(more) }
        XCTAssertEqual(command("start web"), lines("error: guest 'web' cannot be created: not enough free memory"))
        XCTAssertEqual(command("restart web"), lines("error: guest 'web' cannot be created: not enough free memory"))
        XCTAssertEqual(state(0), .stopped)
    }

    func testCrashedGuestRestartsThroughTheConsole() {
        command("start db")
        H.handle(.fatal(.illegalInstruction, pc: 0x8000_0000, detail: 0), slot: slot(1))
        XCTAssertEqual(state(1), .crashed)
        XCTAssertEqual(command("restart db"), lines("db: started"))
        XCTAssertEqual(state(1), .running)
        XCTAssertTrue(backlog(1).hasSuffix("[rumkv: new instance]\n"))
    }

    func testRefusedImage() throws {
        try boot(guest("bad") + guest("good"), images: [0: FakeMachine.body(0)])
        XCTAssertEqual(command("start bad"), lines("error: guest 'bad' image refused: not a signed NPL image (bad magic)"))
        XCTAssertEqual(state(0), .refused)
        XCTAssertEqual(command("start bad"), lines("error: guest 'bad' image refused: not a signed NPL image (bad magic)"))
        // restart of a refused guest is refused too and leaks nothing (its message is wrong: see the report).
        XCTAssertTrue(command("restart 0").hasPrefix("error: guest 'bad' "))
        XCTAssertEqual(state(0), .refused)
        XCTAssertEqual(m.pointee.pages.freePages, m.pointee.bootFreePages)
        XCTAssertTrue(command("info bad").contains("  image refused: not a signed NPL image (bad magic)\r\n"))
    }

    func testArgumentErrors() {
        XCTAssertEqual(command("list web"), lines("error: 'list' takes no arguments"))
        XCTAssertEqual(command("stats 1 2"), lines("error: 'stats' takes no arguments"))
        XCTAssertEqual(command("devices x"), lines("error: 'devices' takes no arguments"))
        XCTAssertEqual(command("channels x"), lines("error: 'channels' takes no arguments"))
        for c in ["info", "start", "stop", "restart", "pause", "resume", "console"] {
            XCTAssertEqual(command(c), lines("error: '\(c)' needs one guest name or id"), c)
            XCTAssertEqual(command("\(c) web db"), lines("error: '\(c)' needs one guest name or id"), c)
        }
        XCTAssertEqual(state(0), .stopped)
    }

    func testUnknownGuests() {
        for c in ["info", "start", "stop", "restart", "pause", "resume", "console"] {
            XCTAssertEqual(command("\(c) nope"), lines("error: no guest 'nope' (see 'list')"), c)
        }
        XCTAssertEqual(command("start 3"), lines("error: no guest '3' (see 'list')"), "ids are 0..<3")
        XCTAssertEqual(command("start 0x1"), lines("db: started"), "hex ids work")
        XCTAssertEqual(command("start WEB"), lines("error: no guest 'WEB' (see 'list')"))
        XCTAssertEqual(command("start w\u{1B}b"), lines("error: no guest 'w?b' (see 'list')"))
        XCTAssertEqual(command("frob web"), lines("error: unknown command 'frob' (type 'help' for the list)"))
    }

    func testInfo() {
        XCTAssertEqual(command("info pin"), lines(
            "guest 2 'pin': stopped",
            "  vcpus 1  cpus 1*  restart policy always",
            "  memory  gpa 0x80000000 size 4 MiB",
            "  systable gpa 0x7ffff000 (read-only)",
            "  devices none, channels none",
            "  restarts 0",
            "  console 0 bytes written",
            "  exits hypercall=0 console=0 timer=0 tick=0 wfi=0 ipi/cpu=0 stage2=0 fault=0 other=0 mmio=0 irq=0",
            "  last fault: none"))
        command("start web")
        m.pointee.devices[0].interrupts = 6
        m.pointee.deliver(5)                    // taken at instruction `now`, claimed 40 later
        H.now += 40
        m.pointee.noteClaim(0, irq: 5)
        H.fastCalls[slot(0, 1)] = 5
        H.handle(.putchar(0x41), slot: slot(0))
        H.handle(.answeredByPort, slot: slot(0))
        let g = m.pointee.guests[0]
        let t = UnsafePointer<SysTable>(bitPattern: UInt(g.sysTableHost))!.pointee
        func hex(_ v: UInt64, _ d: Int) -> String {   // exactly d digits, as Out.hex prints
            let s = String(repeating: "0", count: 16) + String(v, radix: 16)
            return "0x" + s.suffix(d)
        }
        XCTAssertEqual(command("info web"), lines(
            "guest 0 'web': running",
            "  vcpus 2  cpus 0  restart policy on-crash",
            "  memory  gpa 0x80000000 size 4 MiB -> host \(hex(g.ramHost, 10))",
            "  systable gpa 0x7ffff000 (read-only)",
            "  id (SipHash-2-4) \(hex(t.sip_id_hi, 16)) \(hex(t.sip_id_lo, 16))",
            "  image signed NPL, verified, 600 bytes",
            "  device d0 mmio 0x10001000 irq 5 interrupts 7 delivery mean 40 max 40 instructions",
            "  channel c0 (side A) peer db",
            "  restarts 0",
            "  console 1 bytes written",
            "  exits hypercall=6 console=1 timer=0 tick=0 wfi=0 ipi/cpu=0 stage2=0 fault=0 other=0 mmio=0 irq=0",
            "  last fault: none"))
        // A fault and the restart after it.
        H.now += 20_000
        H.handle(.stage2Fault(gpa: 0x1234_5000, access: .write, pc: 0x8000_0ABC), slot: slot(0))
        buildPending()
        H.now += 1_500
        H.handle(.putchar(0x42), slot: slot(0))
        let out = command("info 0")
        XCTAssertTrue(out.contains("  restarts 1  last restart 1500 us to first output\r\n"), out)
        XCTAssertTrue(out.contains("  last fault: stage-2 fault (write) at pc 0x0080000abc gpa 0x0012345000\r\n"), out)
        H.handle(.fatal(.illegalInstruction, pc: 0x8000_0010, detail: 0x73), slot: slot(0))
        XCTAssertTrue(command("info 0").contains("  last fault: illegal instruction at pc 0x0080000010 detail 0x0000000073\r\n"))
        XCTAssertTrue(command("info db").contains("  channel c0 (side B) peer web\r\n  restarts 0\r\n"))
        XCTAssertTrue(command("info db").contains("restart policy never\r\n"))
    }

    func testInfoWithPayloadStoreAndAccessKinds() throws {
        try boot(guest("s"), stores: [0: Data(repeating: 7, count: 100)])
        command("start s")
        XCTAssertTrue(command("info s").contains("  image signed NPL, verified, 600 bytes; payload store 100 bytes\r\n"))
        H.now += 20_000
        H.handle(.stage2Fault(gpa: 0, access: .read, pc: 0), slot: 0)
        XCTAssertTrue(command("info s").contains("stage-2 fault (read)"))
        buildPending()
        H.now += 20_000
        H.handle(.stage2Fault(gpa: 0, access: .execute, pc: 0), slot: 0)
        XCTAssertTrue(command("info s").contains("stage-2 fault (fetch)"))
    }

    func testStats() {
        command("start web")
        H.handle(.putchar(0x41), slot: slot(0), hart: 0)
        H.handle(.tick, slot: slot(0), hart: 1)
        H.handle(.vcpuStatus(1), slot: slot(0), hart: 1)
        let labels = "guest           hypercall  console    timer      tick       wfi        ipi/cpu    stage2     fault      other      mmio       irq        "
        XCTAssertEqual(command("stats"), lines(
            labels,
            "web             0          1          0          1          0          1          0          0          0          0          0          ",
            "db              0          0          0          0          0          0          0          0          0          0          0          ",
            "pin             0          0          0          0          0          0          0          0          0          0          0          ",
            "cpu 0           0          1          0          0          0          0          0          0          0          0          0          ",
            "cpu 1           0          0          0          1          0          1          0          0          0          0          0          ",
            "free memory \(sizeText(m.pointee.pages.freePages)) (\(m.pointee.pages.freePages) pages; \(m.pointee.bootFreePages) at boot)"))
    }

    func sizeText(_ pages: Int) -> String {
        let b = UInt64(pages) * 4096
        return b % (1 << 20) == 0 ? "\(b >> 20) MiB" : "\(b >> 20).\(((b & 0xFFFFF) * 10) >> 20) MiB"
    }

    func testDevices() {
        XCTAssertEqual(command("devices"), lines(
            "device           mmio          size      irq  owner            interrupts  delivery (mean/max instructions)",
            "d0               0x0010001000  0x001000  5    web              0           -",
            "spare            0x0010002000  0x001000  6    hypervisor       0           -"))
        command("start web")
        for latency: UInt64 in [10, 30] {
            m.pointee.deliver(5)
            H.now += latency
            m.pointee.noteClaim(0, irq: 5)
        }
        m.pointee.devices[0].interrupts = 1
        XCTAssertTrue(command("devices").contains("d0               0x0010001000  0x001000  5    web              1           20/30\r\n"))
    }

    func testChannels() {
        let head = "channel          side A           side B           size    state  doorbells A->B B->A"
        XCTAssertEqual(command("channels"), lines(head, "c0               web              db               8 KiB  down/down  0 0"))
        command("start web")
        command("start db")
        H.handle(.doorbell(0), slot: slot(0))
        H.handle(.doorbell(0), slot: slot(0))
        H.handle(.doorbell(0), slot: slot(1))
        XCTAssertEqual(command("channels"), lines(head, "c0               web              db               8 KiB  up/up  2 1"))
        command("stop db")
        XCTAssertEqual(command("channels"), lines(head, "c0               web              db               8 KiB  up/down  2 1"))
    }

    func testNoDevicesOrChannels() throws {
        try boot(guest("x"))
        XCTAssertEqual(command("devices"), lines("no devices are assigned in this partition"))
        XCTAssertEqual(command("channels"), lines("no channels in this partition"))
    }

    func testConsoleAttachShowsTheBacklogThenGoesLive() {
        command("start web")
        H.handle(.putchar(0x68), slot: slot(0))
        H.handle(.putchar(0x0A), slot: slot(0))
        XCTAssertEqual(command("console web"), "[attached to web; Ctrl-] returns to rumkv>]\r\nh\r\n")
        XCTAssertEqual(m.pointee.attached, 0)
        // Typed bytes go to the guest; Ctrl-] detaches.
        H.consoleInput = Array("ls".utf8) + [ConsoleService<FakeGuestHost>.escapeByte]
        let out = H.capture { ConsoleService<FakeGuestHost>.poll() }
        XCTAssertEqual(out, "\r\n[detached]\r\nrumkv> ")
        XCTAssertEqual(m.pointee.attached, -1)
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 0x6C)
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 0x73)
        XCTAssertNil(m.pointee.consoles[0].popInput())
    }

    func testConsoleServiceRunsShellLinesWhileDetached() {
        H.consoleInput = Array("start db\r".utf8)
        let out = H.capture { ConsoleService<FakeGuestHost>.poll() }
        XCTAssertEqual(out, "start db\r\ndb: started\r\nrumkv> ")
        XCTAssertEqual(state(1), .running)
        // At most 16 bytes per poll.
        H.consoleInput = Array(repeating: 0x61, count: 20)
        _ = H.capture { ConsoleService<FakeGuestHost>.poll() }
        XCTAssertEqual(H.consoleInput.count, 4)
    }
}
