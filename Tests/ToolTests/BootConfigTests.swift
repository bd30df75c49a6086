// BootConfigTests: a guest's boot protocol, RAM layout and virtual devices in
// the config, the bundle entry they become, and the device tree the tool
// generates for a boot = "linux" guest, read back with libfdt (and dtc).

import CLibFDT
import Foundation
import RumABI
@testable import RumkvBuild
import XCTest

final class BootConfigTests: XCTestCase {
    func linux(_ extra: String = "", memory: String = "\"64M\"") -> String {
        partitionHead + guest("u", "boot = \"linux\"" + (extra.isEmpty ? "" : "\n" + extra), memory: memory)
    }

    func testDefaultsFollowQEMUVirt() throws {
        let rumpk = try parseConfig(partitionHead + guest("r")).guests[0]
        XCTAssertEqual(rumpk.boot, .rumpk)
        XCTAssertEqual([rumpk.ramBase, rumpk.imageAddress], [0x8000_0000, 0x8000_0000])
        XCTAssertEqual(rumpk.devices, [])
        let u = try parseConfig(linux()).guests[0]
        XCTAssertEqual(u.boot, .linux)
        XCTAssertEqual([u.ramBase, u.imageAddress], [0x8000_0000, 0x8020_0000], "RAM at 0x80000000, the image at RAM + 2 MiB")
        XCTAssertEqual(u.devices, [.ns16550])
        XCTAssertEqual(u.bootargs, "")
        XCTAssertEqual(LinuxLayout.dtbAddress(ramBase: u.ramBase, memory: u.memory, dtbSize: 1100), 0x83E0_0000)
    }

    func testExplicitLayoutAndDevices() throws {
        let u = try parseConfig(linux("ram_base = 0x9000_0000\nload_address = 0x9040_0000\nvirtual_devices = []\nbootargs = \"console=ttyS0 quiet\"")).guests[0]
        XCTAssertEqual([u.ramBase, u.imageAddress], [0x9000_0000, 0x9040_0000])
        XCTAssertEqual(u.devices, [])
        XCTAssertEqual(u.bootargs, "console=ttyS0 quiet")
        XCTAssertEqual(u.memoryForImage, (64 << 20) - (4 << 20))
    }

    func testMistakesNameFileLineGuestAndField() {
        let cases: [(String, String)] = [
            (linux("boot2 = 1"), "p.toml:10: guest 'u': field 'boot2': unknown field"),
            (partitionHead + guest("u", "boot = \"uefi\""), "p.toml:9: guest 'u': field 'boot': 'uefi' is not one of rumpk, linux"),
            (partitionHead + guest("u", "ram_base = 0x90000000"), "p.toml:9: guest 'u': field 'ram_base': only a boot = \"linux\" guest has it (a Rumpk guest's layout is fixed by its ABI)"),
            (partitionHead + guest("u", "bootargs = \"x\""), "p.toml:9: guest 'u': field 'bootargs': only a boot = \"linux\" guest has it"),
            (linux("ram_base = 0x80100000"), "p.toml:10: guest 'u': field 'ram_base': 0x80100000 is not 2 MiB aligned"),
            (linux("ram_base = 0x40000000"), "p.toml:10: guest 'u': field 'ram_base': 0x40000000 is below 0x80000000 (the SysTable, channel and device windows lie there)"),
            (linux("ram_base = 0xFFFFE00000"), "p.toml:10: guest 'u': field 'ram_base': RAM from 0xffffe00000 would end above 0x10000000000, the top of guest-physical space"),
            (linux("ram_base = \"high\""), "p.toml:10: guest 'u': field 'ram_base': expected an address such as 0x80000000, found a string"),
            (linux("load_address = 0x80200100"), "p.toml:10: guest 'u': field 'load_address': 0x80200100 is not 4 KiB aligned"),
            (linux("load_address = 0x84000000"), "p.toml:10: guest 'u': field 'load_address': 0x84000000 is outside the guest's RAM (0x80000000..0x84000000)"),
            (linux("load_address = -4096"), "p.toml:10: guest 'u': field 'load_address': -4096 is negative"),
            (linux("virtual_devices = [\"pl011\"]"), "p.toml:10: guest 'u': field 'virtual_devices': 'pl011' is not one of ns16550"),
            (linux("virtual_devices = [\"ns16550\", \"ns16550\"]"), "p.toml:10: guest 'u': field 'virtual_devices': 'ns16550' is listed twice"),
            (linux("virtual_devices = \"ns16550\""), "p.toml:10: guest 'u': field 'virtual_devices': expected an array such as [\"ns16550\"] (or [] for none), found a string"),
            (linux("bootargs = \"café\""), "p.toml:10: guest 'u': field 'bootargs': only printable ASCII is allowed"),
            (linux("payloads = [\"hello\"]"), "p.toml:10: guest 'u': field 'payloads': a boot = \"linux\" guest has no Rumpk payload store or test payload"),
            (linux("test_payload = \"attacks\""), "p.toml:10: guest 'u': field 'test_payload': a boot = \"linux\" guest has no Rumpk payload store or test payload"),
            (linux().replacingOccurrences(of: "riscv64", with: "aarch64"), "p.toml:9: guest 'u': field 'boot': boot = \"linux\" is supported on riscv64 only so far (not aarch64)"),
        ]
        for (text, expected) in cases {
            let errors = configErrors(text)
            XCTAssertTrue(errors.contains { $0.hasPrefix(expected) }, "expected \(expected)\n got \(errors)")
        }
    }

    func testAnOwnedDeviceMayNotCoverTheGuestsUART() {
        let device = "[[device]]\nname = \"uart\"\nmmio = 0x10000000\nguest = \"u\"\n"
        let errors = configErrors(linux() + device)
        XCTAssertEqual(errors, ["p.toml:12: device 'uart': field 'mmio': 0x10000000..0x10001000 covers guest 'u''s emulated ns16550 at 0x10000000"])
        XCTAssertEqual(configErrors(linux("virtual_devices = []") + device), [], "without the emulated UART the window is free")
    }

    func testBundleEntryCarriesTheLayoutAndTheTree() throws {
        let config = try parseConfig(linux("bootargs = \"console=ttyS0\"") + guest("r"))
        let image = Data(repeating: 0x13, count: 8192)
        let trees = try config.guests.map { try BundleWriter.deviceTree($0, config, imageSize: image.count) }
        XCTAssertNil(trees[1], "a Rumpk guest gets no tree")
        let data = try BundleWriter.assemble(config.guests, [image, image], trees: trees)
        let c = try BundleWriter.read(data)
        let u = c.guests[0], r = c.guests[1]
        XCTAssertEqual([u.boot, u.vdevices, r.boot, r.vdevices], [RUM_BOOT_LINUX, RUM_VDEV_NS16550, RUM_BOOT_RUMPK, 0])
        XCTAssertEqual([u.ram_base, u.entry, u.dtb_gpa, u.uart_gpa], [0x8000_0000, 0x8020_0000, 0x83E0_0000, 0x1000_0000])
        XCTAssertEqual([r.ram_base, r.entry, r.dtb_gpa, r.uart_gpa], [0x8000_0000, 0x8000_0000, 0, 0])
        XCTAssertEqual(u.dtb_offset % 4096, 0)
        XCTAssertEqual(data[Int(u.dtb_offset)..<Int(u.dtb_offset + u.dtb_size)], trees[0]!)
        XCTAssertEqual(u.reserved, 0)
    }

    func testTreeThatWouldHitTheImageIsRefused() throws {
        let config = try parseConfig(linux(memory: "\"6M\""))     // the tree goes to 0x80400000
        XCTAssertNoThrow(try BundleWriter.deviceTree(config.guests[0], config, imageSize: 2 << 20))
        XCTAssertThrowsError(try BundleWriter.deviceTree(config.guests[0], config, imageSize: (2 << 20) + 4096)) {
            XCTAssertTrue("\($0)".contains("p.toml:9: guest 'u': field 'boot': no room for the"), "\($0)")
        }
    }

    /// The generated tree, read with libfdt: every node and property U-Boot and Linux use.
    func testDeviceTreeReadBackWithLibfdt() throws {
        let g = try parseConfig(linux("vcpus = 2\nbootargs = \"console=ttyS0 earlycon\"")).guests[0]
        let blob = [UInt8](try GuestDeviceTree.make(g, arch: .riscv64))
        try blob.withUnsafeBytes { raw in
            let fdt = raw.baseAddress!
            XCTAssertEqual(fdt_check_header(fdt), 0)
            func node(_ path: String) throws -> Int32 {
                let n = fdt_path_offset(fdt, path)
                XCTAssertGreaterThanOrEqual(n, 0, "node \(path)")
                if n < 0 { throw XCTSkip("no \(path)") }
                return n
            }
            func prop(_ path: String, _ name: String) throws -> [UInt8] {
                var len: Int32 = 0
                guard let p = fdt_getprop(fdt, try node(path), name, &len) else { XCTFail("\(path) \(name)"); return [] }
                return Array(UnsafeRawBufferPointer(start: p, count: Int(len)))
            }
            func string(_ path: String, _ name: String) throws -> String {
                String(decoding: try prop(path, name).dropLast(), as: UTF8.self)
            }
            func cells(_ path: String, _ name: String) throws -> [UInt32] {
                let b = try prop(path, name)
                return stride(from: 0, to: b.count, by: 4).map { UInt32(b[$0]) << 24 | UInt32(b[$0 + 1]) << 16 | UInt32(b[$0 + 2]) << 8 | UInt32(b[$0 + 3]) }
            }
            XCTAssertEqual(try string("/", "model"), "rumkv guest")
            XCTAssertEqual(try cells("/", "#address-cells"), [2])
            XCTAssertEqual(try string("/chosen", "stdout-path"), "/soc/serial@10000000")
            XCTAssertEqual(try string("/chosen", "bootargs"), "console=ttyS0 earlycon")
            XCTAssertEqual(try string("/aliases", "serial0"), "/soc/serial@10000000")
            XCTAssertEqual(try cells("/cpus", "timebase-frequency"), [10_000_000])
            for v in 0..<2 {
                XCTAssertEqual(try string("/cpus/cpu@\(v)", "riscv,isa"), "rv64imafdc_zicsr_zifencei_sstc", "F and D: each vCPU has its own FP state")
                XCTAssertEqual(try cells("/cpus/cpu@\(v)", "reg"), [UInt32(v)])
                XCTAssertEqual(try string("/cpus/cpu@\(v)", "device_type"), "cpu")
                XCTAssertEqual(try string("/cpus/cpu@\(v)/interrupt-controller", "compatible"), "riscv,cpu-intc")
            }
            XCTAssertLessThan(fdt_path_offset(fdt, "/cpus/cpu@2"), 0, "one node per vCPU")
            XCTAssertEqual(try string("/memory@80000000", "device_type"), "memory")
            XCTAssertEqual(try cells("/memory@80000000", "reg"), [0, 0x8000_0000, 0, 0x0400_0000])
            XCTAssertEqual(try string("/soc/serial@10000000", "compatible"), "ns16550a")
            XCTAssertEqual(try cells("/soc/serial@10000000", "reg"), [0, 0x1000_0000, 0, 0x100])
            XCTAssertEqual(try cells("/soc/serial@10000000", "clock-frequency"), [3_686_400])
            var len: Int32 = 0
            XCTAssertNil(fdt_getprop(fdt, try node("/soc/serial@10000000"), "interrupts", &len), "polled: no interrupt controller is offered")
            XCTAssertLessThan(fdt_path_offset(fdt, "/soc/plic@c000000"), 0)
        }
        // Without the UART the tree names none.
        let bare = try parseConfig(linux("virtual_devices = []")).guests[0]
        let text = try GuestDeviceTree.render(try GuestDeviceTree.make(bare, arch: .riscv64))
        XCTAssertFalse(text.contains("serial"), text)
        XCTAssertTrue(text.contains("riscv,isa = \"rv64imafdc_zicsr_zifencei_sstc\";"), text)
    }

    /// dtc, when installed (tools/setup.sh installs device-tree-compiler), decompiles the tree without complaint.
    func testDtcDecompilesTheTree() throws {
        guard let dtc = ["/usr/bin/dtc", "/usr/local/bin/dtc"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("dtc is not installed")
        }
        let g = try parseConfig(linux()).guests[0]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-guest-\(UUID().uuidString).dtb")
        defer { try? FileManager.default.removeItem(at: file) }
        try GuestDeviceTree.make(g, arch: .riscv64).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: dtc)
        p.arguments = ["-I", "dtb", "-O", "dts", file.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let dts = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let warnings = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, warnings)
        XCTAssertEqual(warnings, "", "dtc's checks pass")
        XCTAssertTrue(dts.contains("compatible = \"ns16550a\";"), dts)
        XCTAssertTrue(dts.contains("reg = <0x00 0x80000000 0x00 0x4000000>;"), dts)
    }

    /// The example config parses, and its U-Boot guest's tree holds what U-Boot needs.
    func testRepositoryExampleConfig() throws {
        let root = Builder.findRoot(from: URL(fileURLWithPath: #filePath))!
        let config = try PartitionConfig.load(root.appendingPathComponent("configs/qemu-riscv64-virt/u-boot.toml"))
        XCTAssertEqual(config.guests.map(\.name), ["uboot", "alpha", "beta"])
        XCTAssertEqual(config.guests.map(\.boot), [.linux, .rumpk, .rumpk])
        XCTAssertEqual(config.guests[0].imageAddress, 0x8020_0000, "where Debian's S-mode U-Boot is linked")
        let text = try GuestDeviceTree.render(try GuestDeviceTree.make(config.guests[0], arch: .riscv64))
        XCTAssertTrue(text.contains("stdout-path = \"/soc/serial@10000000\";"), text)
    }
}
