// PassthroughTests: Rumpk drives passed-through virtio devices and talks over channels.
//
// Under Rumkv on QEMU riscv64 with modern virtio-mmio devices from the
// configs (Tests/EmulatorTests/configs/passthrough-*.toml, channels-*.toml,
// and one written here around disk images this test makes): a virtio-blk
// guest prints the FNV-1a 64 checksum this test computed over the same
// sectors, reading them by polling and again by interrupt; a virtio-rng
// guest reads 64 bytes; a guest reading a device it does not own is stopped
// by a stage-2 fault; ping and pong exchange 1000 packets in order on two
// channels with opposite sides, and after `restart right` the other guest
// sees its peer go down and come back and completes another round. The
// `devices` and `channels` console commands show owners, interrupt and
// doorbell counts. The device and channel benchmarks are in BenchTests
// (`rumkv bench`, under -icount).

import Foundation
import XCTest
import RumkvBuild

final class PassthroughTests: XCTestCase {
    /// The guest's checksum is the one computed here over the image; both passes take their interrupts.
    func testBlockGuestReadsTheTestDiskByPollingAndByInterrupt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumpk-blk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let big = Self.pattern(sectors: 24, seed: 0x5EED), small = Self.pattern(sectors: 3, seed: 0xD15C)
        try big.write(to: dir.appendingPathComponent("big.img"))
        try small.write(to: dir.appendingPathComponent("small.img"))
        let config = dir.appendingPathComponent("passthrough-disks.toml")
        try """
            [partition]
            name = "passthrough-disks"
            arch = "riscv64"
            harts = 2

            [[guest]]
            name = "disk"
            image = "rumpk"
            memory = "4M"

            [[guest]]
            name = "small"
            image = "rumpk"
            memory = "4M"

            [[device]]
            name = "blk0"
            mmio = 0x10008000
            irq = 8
            guest = "disk"
            qemu = "virtio-blk"
            disk = "big.img"

            [[device]]
            name = "blk1"
            mmio = 0x10006000
            irq = 6
            guest = "small"
            qemu = "virtio-blk"
            disk = "small.img"
            """.write(to: config, atomically: true, encoding: .utf8)

        let s = try Self.boot(config)
        defer { s.terminate() }
        let expected = Self.hex(Self.fnv1a64(big.prefix(16 * 512)))
        _ = try waitForBacklog(s, "disk", containing: "virtio-blk: read")
        sleep(2)    // the interrupt pass follows; a missing interrupt is reported after a second
        let disk = try s.backlog("disk")
        XCTAssertTrue(disk.contains("rumpk[disk]: ready (riscv64, abi \(abi), restarts 0)\n"), disk)
        XCTAssertEqual(guestLines(disk), ["rumpk[disk]: ready (riscv64, abi \(abi), restarts 0)",
                                          "rumpk[disk]: virtio-blk: read 16 sectors, fnv1a64 \(expected)"],
                       "the first 16 of 24 sectors; nothing else (the interrupt pass agrees silently, and every interrupt came)")
        let tiny = try waitForBacklog(s, "small", containing: "virtio-blk: read")
        XCTAssertEqual(guestLines(tiny), ["rumpk[small]: ready (riscv64, abi \(abi), restarts 0)",
                                          "rumpk[small]: virtio-blk: read 3 sectors, fnv1a64 \(Self.hex(Self.fnv1a64(small)))"],
                       "a disk smaller than 16 sectors is read whole, by polling and by interrupt")
        let devices = try s.command("devices")
        let blk0 = try XCTUnwrap(Self.deviceRow(devices, "blk0"), devices)
        let blk1 = try XCTUnwrap(Self.deviceRow(devices, "blk1"), devices)
        XCTAssertEqual(Array(blk0.prefix(6)), ["blk0", "0x0010008000", "0x001000", "8", "disk", "16"],
                       "one interrupt per request of the interrupt pass, none while polling:\n\(devices)")
        XCTAssertEqual(Array(blk1.prefix(6)), ["blk1", "0x0010006000", "0x001000", "6", "small", "3"], devices)
        for row in [blk0, blk1] {
            // Every interrupt was claimed by its guest: a mean and a maximum delivery latency.
            let parts = row.count == 7 ? row[6].split(separator: "/").compactMap { UInt64($0) } : []
            XCTAssertEqual(parts.count, 2, "delivery mean/max in:\n\(devices)")
            if parts.count == 2 { XCTAssertTrue(parts[0] > 0 && parts[0] <= parts[1], "\(row)") }
        }
    }

    /// A device whose owner is pinned to hart 1 interrupts hart 1: its source is routed to the
    /// boot hart first (hart 1 is not up when autostart guests are created) and moves to hart 1
    /// when it comes up (OpenSBI clears hart 1's enables as it starts it). Every interrupt arrives.
    func testInterruptsFollowAnOwnerPinnedToTheSecondHart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumpk-pin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = Self.pattern(sectors: 16, seed: 0x1234)
        try disk.write(to: dir.appendingPathComponent("disk.img"))
        let config = dir.appendingPathComponent("pinned-disk.toml")
        try """
            [partition]
            name = "pinned-disk"
            arch = "riscv64"
            harts = 2

            [[guest]]
            name = "disk"
            image = "rumpk"
            memory = "4M"
            harts = [1]
            pinned = true

            [[guest]]
            name = "other"
            image = "rumpk"
            memory = "2M"
            harts = [0]

            [[device]]
            name = "blk0"
            mmio = 0x10008000
            irq = 8
            guest = "disk"
            qemu = "virtio-blk"
            disk = "disk.img"
            """.write(to: config, atomically: true, encoding: .utf8)
        let s = try Self.boot(config)
        defer { s.terminate() }
        _ = try waitForBacklog(s, "disk", containing: "virtio-blk: read")
        sleep(2)
        let log = try s.backlog("disk")
        XCTAssertEqual(guestLines(log), ["rumpk[disk]: ready (riscv64, abi \(abi), restarts 0)",
                                         "rumpk[disk]: virtio-blk: read 16 sectors, fnv1a64 \(Self.hex(Self.fnv1a64(disk)))"],
                       "both passes, every interrupt came")
        let devices = try s.command("devices")
        let row = try XCTUnwrap(Self.deviceRow(devices, "blk0"), devices)
        XCTAssertEqual(Array(row.prefix(6)), ["blk0", "0x0010008000", "0x001000", "8", "disk", "16"], devices)
    }

    /// rng works, and a guest reading the disk guest's device is stopped by a stage-2 fault.
    func testEntropyAndIsolationOfADeviceFromOtherGuests() throws {
        let (s, _) = try ConsoleSession.bootGuests("passthrough-isolation")
        defer { s.terminate() }
        let entropy = try waitForBacklog(s, "entropy", containing: "virtio-rng:")
        XCTAssertEqual(guestLines(entropy), ["rumpk[entropy]: ready (riscv64, abi \(abi), restarts 0)",
                                             "rumpk[entropy]: virtio-rng: 64 bytes, not all zero"])
        let intruder = try s.waitFor("intruder", timeout: 30) { $0.state == "crashed" }
        XCTAssertEqual(intruder.restarts, 0)
        let log = try s.backlog("intruder")
        XCTAssertTrue(log.contains("devprobe: reading the virtio magic at 0x10008000"), log)
        XCTAssertFalse(log.contains("NOT CONTAINED"), log)
        let info = try s.command("info intruder")
        XCTAssertTrue(info.contains("last fault: stage-2 fault (read)") && info.contains("gpa 0x0010008000"), info)

        let zeros = Self.hex(Self.fnv1a64(Data(count: 16 * 512)))
        let disk = try waitForBacklog(s, "disk", containing: "virtio-blk: read")
        XCTAssertTrue(disk.contains("rumpk[disk]: virtio-blk: read 16 sectors, fnv1a64 \(zeros)\n"), "a zeroed scratch disk:\n\(disk)")
        let devices = try s.command("devices")
        XCTAssertEqual(Self.deviceRow(devices, "blk0")?.prefix(5), ["blk0", "0x0010008000", "0x001000", "8", "disk"], devices)
        XCTAssertEqual(Self.deviceRow(devices, "rng0")?.prefix(5), ["rng0", "0x0010007000", "0x001000", "7", "entropy"], devices)
        XCTAssertEqual(try s.row("disk").state, "running", "the owner is unaffected")
        XCTAssertEqual(try s.row("entropy").state, "running")
    }

    /// 1000 packets each way in order on both channels; a restarted peer is followed and served again.
    func testPingPongInOrderAndAcrossAPeerRestart() throws { try pingPong(.riscv64) }

    /// The same on aarch64: doorbells are virtual SGI 1 taken by Rumpk's IRQ
    /// vector (with interrupts a channel fiber's fallback poll is 100 ms, so
    /// 2 x 1000 round trips within the timeouts need the doorbells).
    func testAArch64PingPongInOrderAndAcrossAPeerRestart() throws { try pingPong(.aarch64) }

    /// The same on x86_64 under Bochs: doorbells are vector 0x21, injected by
    /// VMX event injection (an interrupt window when the guest has IF = 0)
    /// and taken through Rumpk's IDT.
    /// Each guest reports the first doorbell vector it took (without it the
    /// ping-pong still completes on the 100 ms fallback polls).
    func testX86_64PingPongInOrderAndAcrossAPeerRestart() throws {
        try pingPong(.x86_64) { s in
            for g in ["left", "right"] {
                _ = try self.waitForBacklog(s, g, containing: "rumpk[\(g)]: x86: first doorbell interrupt taken (vector 0x21)\n")
            }
        }
    }

    func pingPong(_ arch: Arch, also extra: (ConsoleSession) throws -> Void = { _ in }) throws {
        let (s, _) = try ConsoleSession.bootGuests("channels-pingpong", arch: arch)
        defer { s.terminate() }
        let roundLeft = "rumpk[left]: channel 0 ping: sent 1000, received 1000 pongs, in order\n"
        let servedLeft = "rumpk[left]: channel 1 pong: answered 1000 pings\n"
        let left = try waitForBacklog(s, "left", containing: roundLeft) { $0.contains(servedLeft) }
        XCTAssertTrue(left.contains("rumpk[left]: channel 0: peer up (generation 1)\n"), left)
        XCTAssertTrue(left.contains("rumpk[left]: channel 1: peer up (generation 1)\n"), left)
        let right = try waitForBacklog(s, "right", containing: "rumpk[right]: channel 1 ping: sent 1000, received 1000 pongs, in order\n") {
            $0.contains("rumpk[right]: channel 0 pong: answered 1000 pings\n")
        }
        XCTAssertFalse(right.contains("peer down"), right)
        let before = try s.command("channels")
        let lr = try XCTUnwrap(Self.channelRow(before, "lr"), before)
        XCTAssertEqual(Array(lr.prefix(6)), ["lr", "left", "right", "16", "KiB", "up/up"], before)
        XCTAssertGreaterThan(Int(lr[6]) ?? 0, 0, "left rang right's doorbell:\n\(before)")
        XCTAssertGreaterThan(Int(lr[7]) ?? 0, 0, "right rang left's doorbell:\n\(before)")
        XCTAssertEqual(Self.channelRow(before, "rl")?.prefix(6), ["rl", "right", "left", "4", "KiB", "up/up"], before)

        XCTAssertEqual(try s.command("restart right"), "right: restarted")
        let again = try waitForBacklog(s, "left", containing: "rumpk[left]: channel 0: peer up (generation 2)\n") { log in
            Self.count(roundLeft, in: log) == 2 && Self.count(servedLeft, in: log) == 2
                && log.contains("rumpk[left]: channel 1: peer up (generation 2)\n")
        }
        for channel in ["0", "1"] {
            let down = again.range(of: "rumpk[left]: channel \(channel): peer down\n")
            let up = again.range(of: "rumpk[left]: channel \(channel): peer up (generation 2)\n")
            XCTAssertNotNil(down, again)
            if let down, let up { XCTAssertLessThan(down.lowerBound, up.lowerBound, "down, then up:\n\(again)") }
        }
        let renewed = try waitForBacklog(s, "right", containing: "rumpk[right]: ready (\(arch.rawValue), abi \(abi), restarts 1)") { log in
            let now = log.components(separatedBy: "[rumkv: new instance]").last ?? ""
            return now.contains("rumpk[right]: channel 1 ping: sent 1000, received 1000 pongs, in order\n")
                && now.contains("rumpk[right]: channel 0 pong: answered 1000 pings\n")
        }
        XCTAssertTrue(renewed.contains("rumpk[right]: channel 0: peer up (generation 1)"), "left never restarted:\n\(renewed)")
        let after = try s.command("channels")
        let lr2 = try XCTUnwrap(Self.channelRow(after, "lr"), after)
        XCTAssertEqual(lr2[5], "up/up", after)
        XCTAssertGreaterThan(Int(lr2[7]) ?? 0, Int(lr[7]) ?? 0, "the new instance rang again:\n\(after)")
        try extra(s)
    }

    // MARK: - Helpers

    /// Boots riscv64 with the guests and QEMU devices of the config at `url`.
    static func boot(_ url: URL) throws -> ConsoleSession {
        try requireEmulator(.riscv64)
        let images = try TestImages.images(.riscv64)
        let prepared = try Builder(root: TestImages.root).prepareBundle(config: url, images: images, arch: .riscv64)
        var o = EmulatorOptions()
        o.smp = 2
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments
        let s = try ConsoleSession.boot(.riscv64, images, options: o)
        _ = try s.expect("rumkv> ", timeout: 60)
        return s
    }

    /// Polls `guest`'s backlog until it contains `text` (and `also` holds), or fails after `timeout`.
    func waitForBacklog(_ s: ConsoleSession, _ guest: String, containing text: String, timeout: TimeInterval = 30,
                        also: (String) -> Bool = { _ in true }) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let log: String
            do { log = try s.backlog(guest).replacingOccurrences(of: "rumkv> ", with: "") } catch {
                // A console slowed down by busy guests may attach late: detach, try again.
                guard Date() < deadline else { throw error }
                s.send("\u{1D}")
                _ = try? s.expect("rumkv> ", timeout: 30)
                continue
            }
            if log.contains(text) && also(log) { return log }
            if Date() > deadline { throw BuildError("\(guest) never printed '\(text)'; backlog:\n\(log)") }
            usleep(500_000)
        }
    }

    /// The guest's own lines of a backlog: without the attach/detach markers and the console prompt.
    func guestLines(_ backlog: String) -> [String] {
        backlog.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("[") && !$0.hasPrefix("rumkv>") && !$0.isEmpty }
    }

    /// `sectors` * 512 bytes of a deterministic pattern (xorshift64).
    static func pattern(sectors: Int, seed: UInt64) -> Data {
        var x = seed, d = Data(capacity: sectors * 512)
        for _ in 0..<(sectors * 512) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            d.append(UInt8(truncatingIfNeeded: x >> 24))
        }
        return d
    }

    static func fnv1a64<D: DataProtocol>(_ bytes: D) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// "0x" and 16 lowercase hex digits, as the guest prints it.
    static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The fields of `devices`'s row for `name`.
    static func deviceRow(_ table: String, _ name: String) -> [String]? {
        row(table, name)
    }

    /// The fields of `channels`'s row for `name`: name, side A, side B, size, unit, state, doorbells A->B, B->A.
    static func channelRow(_ table: String, _ name: String) -> [String]? {
        row(table, name)
    }

    static func row(_ table: String, _ name: String) -> [String]? {
        table.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
            .first { $0.first == name }
    }
}
