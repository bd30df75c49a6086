// DeviceConfigErrorTests: every [[device]] and [[channel]] mistake, with the exact message.
//
// Tables follow `threeGuests` (guests a, b, c on lines 1...17), so the first
// one starts on line 18 and its extra fields on line 21 (DeviceSupport).

import XCTest
@testable import RumkvBuild

final class DeviceConfigErrorTests: XCTestCase {
    func testDeviceFields() {
        let cases: [(String, String)] = [
            ("size = \"6K\"", "field 'size': 6K is not a multiple of 4 KiB"),
            ("size = \"2G\"", "field 'size': 2G is more than the maximum of 1 GiB"),
            ("size = 0", "field 'size': 0 is not a size (it must be positive)"),
            ("irq = 64", "field 'irq': 64 is out of range 0...63"),
            ("irq = -1", "field 'irq': -1 is out of range 0...63"),
            ("irq = \"8\"", "field 'irq': expected an integer, found a string"),
            ("dma = 1", "field 'dma': expected true or false, found an integer"),
            ("guest = 3", "field 'guest': expected a string, found an integer"),
            ("qemu = \"virtio-gpu\"", "field 'qemu': 'virtio-gpu' is not one of virtio-blk, virtio-rng, virtio-net"),
            ("disk = \"x.img\"", "field 'disk': only a virtio-blk device has a disk (this device has no 'qemu')"),
            ("owner = \"a\"", "field 'owner': unknown field (expected one of name, mmio, size, irq, guest, dma, qemu, disk)"),
            ("mmio = 0x3000", "field 'mmio': set twice (first on line 20)"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(configErrors(threeGuests + device("d", line)), ["p.toml:21: device 'd': " + expected], line)
        }
    }

    func testDeviceAddress() {
        let cases: [(String, String)] = [
            ("0x10004800", "0x10004800 is not 4 KiB aligned"),
            ("-4096", "-4096 is not an address (it must not be negative)"),
            ("\"0x1000\"", "expected an address such as 0x10008000, found a string"),
            ("[4096]", "expected an address such as 0x10008000, found an array"),
        ]
        for (mmio, expected) in cases {
            XCTAssertEqual(configErrors(threeGuests + device("d", mmio: mmio)), ["p.toml:20: device 'd': field 'mmio': " + expected], mmio)
        }
    }

    func testDeviceRequiredFieldsAndNames() {
        XCTAssertEqual(configErrors(threeGuests + "[[device]]\nirq = 1\n"), [
            "p.toml:18: device #1: field 'name': missing (this field is required)",
            "p.toml:18: device #1: field 'mmio': missing (this field is required)",
        ])
        XCTAssertEqual(configErrors(threeGuests + device("D1")),
                       ["p.toml:19: device 'D1': field 'name': 'D1' must start with a lowercase letter"])
        XCTAssertEqual(configErrors(threeGuests + device("abcdefghijklmnop")),
                       ["p.toml:19: device 'abcdefghijklmnop': field 'name': 'abcdefghijklmnop' is longer than 15 characters"])
        XCTAssertEqual(configErrors(threeGuests + "[device]\nname = \"d\"\nmmio = 0x20000000\n"),
                       ["p.toml:18: write [[device]], not [device]: each device is one entry of the device array"])
        XCTAssertEqual(configErrors(threeGuests + "[[device]]\nname = \"d\"\nmmio = 0x2000_0000 0\n"),
                       ["p.toml:20: device 'd': field 'mmio': unexpected '0' after the value (one statement per line)"])
    }

    func testDisks() {
        let blk = { (disk: String) in device("b", mmio: "0x10008000", "irq = 8\nqemu = \"virtio-blk\"" + (disk.isEmpty ? "" : "\ndisk = \(disk)")) }
        XCTAssertEqual(configErrors(threeGuests + blk("")),
                       ["p.toml:18: device 'b': field 'disk': missing (a virtio-blk device needs a disk: a file or \"@scratch:SIZE\")"])
        let cases: [(String, String)] = [
            ("\"@scratch:1000\"", "'@scratch:1000': a disk is a multiple of 512 bytes"),
            ("\"@scratch:2G\"", "'@scratch:2G' is more than the maximum of 1 GiB"),
            ("\"@scratch:0\"", "'@scratch:0' is not a disk (write a file path or \"@scratch:SIZE\", e.g. \"@scratch:1M\")"),
            ("\"@tmp\"", "'@tmp' is not a disk (write a file path or \"@scratch:SIZE\", e.g. \"@scratch:1M\")"),
            ("\"\"", "the path is empty (write a file path or \"@scratch:SIZE\", e.g. \"@scratch:1M\")"),
            ("1", "expected a string, found an integer"),
        ]
        for (disk, expected) in cases {
            XCTAssertEqual(configErrors(threeGuests + blk(disk)), ["p.toml:23: device 'b': field 'disk': " + expected], disk)
        }
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10008000", "irq = 8\nqemu = \"virtio-rng\"\ndisk = \"a.img\"")),
                       ["p.toml:23: device 'r': field 'disk': only a virtio-blk device has a disk (this device is qemu = \"virtio-rng\")"])
        XCTAssertEqual(configErrors(threeGuests + device("r", "qemu = \"virtio-xyz\"\ndisk = \"a.img\"")),
                       ["p.toml:21: device 'r': field 'qemu': 'virtio-xyz' is not one of virtio-blk, virtio-rng, virtio-net"],
                       "a broken qemu hint does not also blame the disk")
    }

    func testDevicesTogether() {
        XCTAssertEqual(configErrors(threeGuests + device("d") + device("d", mmio: "0x30000000")),
                       ["p.toml:22: device 'd': field 'name': another device (line 18) has the same name"])
        XCTAssertEqual(configErrors(threeGuests + device("d", "guest = \"zed\"")),
                       ["p.toml:21: device 'd': field 'guest': 'zed' is not a guest of this partition (guests: a, b, c)"])
        XCTAssertEqual(configErrors(threeGuests + device("d", "size = \"8K\"") + device("e", mmio: "0x20001000")),
                       ["p.toml:24: device 'e': field 'mmio': 0x20001000..0x20002000 overlaps device 'd' (line 18, 0x20000000..0x20002000)"])
        XCTAssertEqual(configErrors(threeGuests + device("d", mmio: "0x20001000") + device("e", "size = \"1G\"")),
                       ["p.toml:23: device 'e': field 'mmio': 0x20000000..0x60000000 overlaps device 'd' (line 18, 0x20001000..0x20002000)"])
        XCTAssertEqual(configErrors(threeGuests + device("d", "irq = 5") + device("e", mmio: "0x30000000", "irq = 5")),
                       ["p.toml:25: device 'e': field 'irq': irq 5 is already used by device 'd' (line 18)"])
        XCTAssertEqual(configErrors(threeGuests + device("d") + device("e", mmio: "0x30000000")), [], "irq 0 (none) may repeat")
        let nine = (0..<9).map { device("d\($0)", mmio: "0x2\($0)000000") }.joined()
        XCTAssertEqual(configErrors(threeGuests + nine), ["p.toml:42: too many devices: 9 [[device]] tables, at most 8"])
    }

    func testGuestWindows() {
        XCTAssertEqual(configErrors(threeGuests + device("d", mmio: "0x80000000")), [
            "p.toml:20: device 'd': field 'mmio': 0x80000000..0x80001000 overlaps the guest-physical window of channels, SysTable and RAM (0x7f000000..0xc0000000)",
        ])
        XCTAssertEqual(configErrors(threeGuests + device("d", mmio: "0x7e000000", "size = \"32M\"")), [
            "p.toml:20: device 'd': field 'mmio': 0x7e000000..0x80000000 overlaps the guest-physical window of channels, SysTable and RAM (0x7f000000..0xc0000000)",
        ])
        XCTAssertEqual(configErrors(threeGuests + device("plic", mmio: "0x0c000000", "size = \"4M\"")), [
            "p.toml:20: device 'plic': field 'mmio': 0xc000000..0xc400000 overlaps the guests' virtual PLIC (0xc000000..0xc600000)",
        ])
        XCTAssertEqual(configErrors(threeGuests + device("d", mmio: "0xc0000000")), [], "above 1 GiB of guest RAM is free")
    }

    func testQEMUSlots() {
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10009000", "irq = 9\nqemu = \"virtio-rng\"")), [
            "p.toml:20: device 'r': field 'mmio': 0x10009000 is not a virtio-mmio slot of QEMU's riscv64 virt machine (0x10001000, 0x10002000, ..., 0x10008000)",
        ])
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10004000", "irq = 7\nqemu = \"virtio-rng\"")),
                       ["p.toml:21: device 'r': field 'irq': virtio-mmio slot 3 (0x10004000) raises irq 4, not 7"])
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10004000", "qemu = \"virtio-rng\"")),
                       ["p.toml:18: device 'r': field 'irq': virtio-mmio slot 3 (0x10004000) raises irq 4, not 0"])
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10004000", "size = \"8K\"\nirq = 4\nqemu = \"virtio-rng\"")),
                       ["p.toml:21: device 'r': field 'size': a virtio-mmio slot is 4 KiB, not 8 KiB"])
        let arm = "[partition]\nname = \"p\"\narch = \"aarch64\"\n" + guest("a")
        XCTAssertEqual(configErrors(arm + device("r", mmio: "0x0a001000", "irq = 56\nqemu = \"virtio-rng\"")), [],
                       "aarch64: transport 8 starts a page, INTID 48 + 8")
        XCTAssertEqual(configErrors(arm + device("r", mmio: "0x0a004000", "irq = 48\nqemu = \"virtio-rng\"")),
                       ["p.toml:10: device 'r': field 'mmio': 0xa004000 is not a page-aligned virtio-mmio transport of QEMU's aarch64 virt machine (0xa000000, 0xa001000, 0xa002000, 0xa003000)"])
        XCTAssertEqual(configErrors(arm + device("r", mmio: "0x0a001000", "irq = 48\nqemu = \"virtio-rng\"")),
                       ["p.toml:11: device 'r': field 'irq': virtio-mmio transport 8 (0xa001000) raises INTID 56, not 48"])
        XCTAssertEqual(configErrors("[partition]\nname = \"p\"\narch = \"x86_64\"\n" + guest("a")
                                    + device("r", mmio: "0x0a000000", "qemu = \"virtio-rng\"")),
                       ["p.toml:11: device 'r': field 'qemu': QEMU device hints are supported on riscv64 and aarch64 only (the virt machines' virtio-mmio slots)"])
        XCTAssertEqual(configErrors(threeGuests + device("r", mmio: "0x10004000", "irq = 4\nqemu = \"virtio-rng\"")
                                    + device("s", mmio: "0x10004000", "irq = 4\nqemu = \"virtio-net\"")), [
            "p.toml:25: device 's': field 'mmio': 0x10004000..0x10005000 overlaps device 'r' (line 18, 0x10004000..0x10005000)",
            "p.toml:26: device 's': field 'irq': irq 4 is already used by device 'r' (line 18)",
        ], "two devices cannot share a slot")
    }

    func testAProblemInATableKeepsItOutOfTheRules() {
        XCTAssertEqual(configErrors(threeGuests + device("d", "irq = 99\nguest = \"zed\"")),
                       ["p.toml:21: device 'd': field 'irq': 99 is out of range 0...63"])
        XCTAssertEqual(configErrors(partitionHead + guest("a", memory: "\"3M\"") + device("d", mmio: "0x20000000", "guest = \"a\"")),
                       ["p.toml:8: guest 'a': field 'memory': 3M is not a multiple of 2 MiB"],
                       "a guest with a problem is still a known owner")
        XCTAssertEqual(configErrors("[partition]\n" + device("d", mmio: "1")), [
            "p.toml:1: partition: field 'name': missing (this field is required)",
            "p.toml:1: partition: field 'arch': missing (this field is required)",
            "p.toml:1: no [[guest]] tables (a partition runs at least one guest)",
            "p.toml:4: device 'd': field 'mmio': 0x1 is not 4 KiB aligned",
        ])
    }

    func testChannelFields() {
        let cases: [(String, String)] = [
            ("\"a\"", "expected the two guests it joins, such as [\"alpha\", \"beta\"], found a string"),
            ("[\"a\"]", "a channel joins exactly two guests, found 1"),
            ("[\"a\", \"b\", \"c\"]", "a channel joins exactly two guests, found 3"),
            ("[\"a\", 1]", "expected guest names, found an integer"),
            ("[\"a\", \"a\"]", "a channel joins two different guests, not 'a' with itself"),
            ("[\"a\", \"zed\"]", "'zed' is not a guest of this partition (guests: a, b, c)"),
        ]
        for (between, expected) in cases {
            XCTAssertEqual(configErrors(threeGuests + channel("ch", between)), ["p.toml:20: channel 'ch': field 'between': " + expected], between)
        }
        let sizes: [(String, String)] = [
            ("\"2K\"", "2K is out of range 4 KiB...64 KiB"),
            ("\"128K\"", "128K is out of range 4 KiB...64 KiB"),
            ("\"6K\"", "6K is not a multiple of 4 KiB"),
            ("true", "expected a size such as \"4M\" or a number of bytes, found a boolean"),
        ]
        for (size, expected) in sizes {
            XCTAssertEqual(configErrors(threeGuests + channel("ch", "[\"a\", \"b\"]", "size = \(size)")),
                           ["p.toml:21: channel 'ch': field 'size': " + expected], size)
        }
        XCTAssertEqual(configErrors(threeGuests + channel("ch", "[\"a\", \"b\"]", "doorbell = 1")),
                       ["p.toml:21: channel 'ch': field 'doorbell': unknown field (expected one of name, between, size)"])
        XCTAssertEqual(configErrors(threeGuests + "[[channel]]\nsize = \"4K\"\n"), [
            "p.toml:18: channel #1: field 'name': missing (this field is required)",
            "p.toml:18: channel #1: field 'between': missing (this field is required)",
        ])
        XCTAssertEqual(configErrors(threeGuests + "[channel]\nname = \"c\"\nbetween = [\"a\", \"b\"]\n"),
                       ["p.toml:18: write [[channel]], not [channel]: each channel is one entry of the channel array"])
    }

    func testChannelsTogether() {
        XCTAssertEqual(configErrors(threeGuests + channel("x") + channel("x", "[\"b\", \"c\"]")),
                       ["p.toml:22: channel 'x': field 'name': another channel (line 18) has the same name"])
        XCTAssertEqual(configErrors(threeGuests + channel("x") + channel("y", "[\"a\", \"c\"]") + channel("z", "[\"c\", \"a\"]")), [
            "p.toml:26: channel 'z': field 'between': guest 'a' is already in 2 channels ('x' on line 18, 'y' on line 21); a guest has 2 channel slots",
        ])
        XCTAssertEqual(configErrors(threeGuests + channel("x") + channel("y") + channel("z")), [
            "p.toml:26: channel 'z': field 'between': guest 'a' is already in 2 channels ('x' on line 18, 'y' on line 21); a guest has 2 channel slots",
            "p.toml:26: channel 'z': field 'between': guest 'b' is already in 2 channels ('x' on line 18, 'y' on line 21); a guest has 2 channel slots",
        ])
        let guests = (0..<8).map { guest("g\($0)") }.joined()
        let nine = (0..<9).map { channel("c\($0)", "[\"g\($0 % 8)\", \"g\(($0 + 1) % 8)\"]") }.joined()
        XCTAssertTrue(configErrors(partitionHead + guests + nine).contains("p.toml:61: too many channels: 9 [[channel]] tables, at most 8"),
                      "\(configErrors(partitionHead + guests + nine))")
    }
}
