// ConfigParseTests: valid configs, the two shipped examples and the TOML subset's features.

import Foundation
import RumABI
import XCTest
@testable import RumkvBuild

final class ConfigParseTests: XCTestCase {
    func testThreeGuestsExample() throws {
        let url = repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/three-guests.toml")
        let c = try PartitionConfig.load(url)
        XCTAssertEqual(c.name, "three-guests")
        XCTAssertEqual(c.arch, .riscv64)
        XCTAssertEqual(c.harts, 2)
        XCTAssertEqual(c.guests.map(\.name), ["alpha", "beta", "gamma"])
        for g in c.guests {
            XCTAssertEqual(g.image, .rumpk)
            XCTAssertEqual(g.memory, 4 << 20)
            XCTAssertEqual(g.vcpus, 1)
            XCTAssertEqual(g.harts, [0, 1])
            XCTAssertEqual(g.hartMask, 0b11)
            XCTAssertFalse(g.pinned)
            XCTAssertEqual(g.restart, .onCrash)
            XCTAssertEqual(g.flags, RUM_GUEST_F_AUTOSTART)
        }
    }

    func testPinnedExample() throws {
        let c = try PartitionConfig.load(repoRoot.appendingPathComponent("configs/qemu-riscv64-virt/pinned.toml"))
        XCTAssertEqual(c.name, "pinned")
        XCTAssertEqual(c.guests.map(\.name), ["rt", "alpha", "beta"])
        XCTAssertEqual(c.guests.map(\.hartMask), [0b10, 0b01, 0b01])
        XCTAssertEqual(c.guests.map(\.pinned), [true, false, false])
        XCTAssertEqual(c.guests[0].flags, RUM_GUEST_F_AUTOSTART | RUM_GUEST_F_PINNED)
    }

    func testDefaults() throws {
        let c = try parseConfig(partitionHead + guest("a"))
        let g = c.guests[0]
        XCTAssertEqual(g.vcpus, 1)
        XCTAssertEqual(g.harts, [0, 1], "default: every hart of the partition")
        XCTAssertEqual(g.pinned, false)
        XCTAssertEqual(g.autostart, true)
        XCTAssertEqual(g.restart, .onCrash)
        XCTAssertEqual(g.verbose, false)
        XCTAssertNil(g.testPayload)
        XCTAssertNil(c.memoryLimit)
        XCTAssertEqual(g.line, 5)
        XCTAssertEqual(g.line(of: "memory"), 8)
    }

    func testNoPartitionHartsMeansAnyHart() throws {
        let c = try parseConfig("[partition]\nname = \"p\"\narch = \"aarch64\"\n" + guest("a"))
        XCTAssertNil(c.harts)
        XCTAssertNil(c.guests[0].harts)
        XCTAssertEqual(c.guests[0].hartMask, .max)
    }

    func testEveryFieldAndSyntax() throws {
        let c = try parseConfig("""
            # leading comment
            [partition]   # trailing comment
            name = "full_1"
            arch = "x86_64"
            harts = 0x4
            memory_limit = 1_073_741_824

            [[guest]]
            name = "g-2"
            image = "dir with \\"quotes\\" and \\\\.bin"
            memory = 16777216
            vcpus = 2
            harts = [
                3,   # comment inside an array
                1,
            ]
            pinned = true
            autostart = false
            restart = "always"
            verbose = true
            test_payload = "wfi-forever"
            """)
        XCTAssertEqual(c.arch, .x86_64)
        XCTAssertEqual(c.harts, 4)
        XCTAssertEqual(c.memoryLimit, 1 << 30)
        let g = c.guests[0]
        XCTAssertEqual(g.image, .file("dir with \"quotes\" and \\.bin"))
        XCTAssertEqual(g.memory, 16 << 20)
        XCTAssertEqual(g.harts, [1, 3])
        XCTAssertEqual(g.hartMask, 0b1010)
        XCTAssertEqual(g.restart, .always)
        XCTAssertEqual(g.testPayload, .wfiForever)
        XCTAssertEqual(g.flags, RUM_GUEST_F_PINNED | RUM_GUEST_F_VERBOSE | RUM_GUEST_F_TEST)
    }

    func testSizes() throws {
        for (text, bytes) in [("\"2M\"", UInt64(2 << 20)), ("\"1G\"", 1 << 30), ("\"6MiB\"", 6 << 20),
                              ("\"2048K\"", 2 << 20), ("0x200000", 2 << 20), ("4194304", 4 << 20)] {
            let c = try parseConfig(partitionHead + guest("a", memory: text))
            XCTAssertEqual(c.guests[0].memory, bytes, text)
        }
        XCTAssertEqual(ByteSize.format(3 << 20), "3 MiB")
        XCTAssertEqual(ByteSize.format(1 << 30), "1 GiB")
        XCTAssertEqual(ByteSize.format(1000), "1000 bytes")
        XCTAssertNil(ByteSize.parse("M"))
        XCTAssertNil(ByteSize.parse("-4M"))
        XCTAssertNil(ByteSize.parse("99999999999999999999G"))
    }

    func testTestPayloadNumbers() throws {
        XCTAssertEqual(TestPayload.allCases.map(\.rawValue), [
            "none", "read-other-guest", "write-hypervisor", "touch-unassigned-mmio", "bad-sbi-pointer",
            "unknown-sbi", "spin-forever", "wfi-forever", "illegal-instruction", "all", "bench", "attacks", "fuzz", "crash-loop",
            "no-syndrome-access", "el2-register"])
        XCTAssertEqual(TestPayload.allCases.map(\.number), Array(0...15))
        let c = try parseConfig(partitionHead + guest("a", "test_payload = \"none\""))
        XCTAssertEqual(c.guests[0].flags & RUM_GUEST_F_TEST, RUM_GUEST_F_TEST, "none still means test mode")
        XCTAssertEqual(RestartPolicy.allCases.map(\.abiValue), [RUM_RESTART_NEVER, RUM_RESTART_ON_CRASH, RUM_RESTART_ALWAYS])
    }

    func testEightGuestsAndMemoryLimitExactlyMet() throws {
        let guests = (1...8).map { guest("g\($0)") }.joined()
        let c = try parseConfig(partitionHead + "memory_limit = \"32M\"\n" + guests)
        XCTAssertEqual(c.guests.count, 8)
    }

    func testImageURLs() throws {
        let c = try parseConfig(partitionHead + guest("a") + "[[guest]]\nname = \"b\"\nimage = \"../img/b.bin\"\nmemory = \"2M\"\n"
                                + "[[guest]]\nname = \"c\"\nimage = \"/abs/c.bin\"\nmemory = \"2M\"\n")
        let dir = URL(fileURLWithPath: "/repo/configs/board")
        let rumpk = URL(fileURLWithPath: "/repo/rumpk.elf")
        XCTAssertEqual(c.imageURL(c.guests[0], configDirectory: dir, rumpkImage: rumpk).path, "/repo/rumpk.elf")
        XCTAssertEqual(c.imageURL(c.guests[1], configDirectory: dir, rumpkImage: rumpk).path, "/repo/configs/img/b.bin")
        XCTAssertEqual(c.imageURL(c.guests[2], configDirectory: dir, rumpkImage: rumpk).path, "/abs/c.bin")
        XCTAssertEqual(c.missingImageFiles(configDirectory: dir), [
            "p.toml:11: guest 'b': field 'image': no file at /repo/configs/img/b.bin",
            "p.toml:15: guest 'c': field 'image': no file at /abs/c.bin",
        ])
    }

    func testLoadNamesTheFileAsGiven() {
        let url = URL(fileURLWithPath: "no/such/config.toml")
        XCTAssertThrowsError(try PartitionConfig.load(url)) { e in
            XCTAssertTrue("\(e)".hasPrefix("no/such/config.toml: cannot read the config"), "\(e)")
        }
    }
}
