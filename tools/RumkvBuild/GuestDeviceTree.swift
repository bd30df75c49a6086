// GuestDeviceTree: the device tree a `boot = "linux"` guest is handed in a1.
//
// Written at bundle time with libfdt's sequential-write API (fdt_create,
// fdt_begin_node, fdt_property, ...), the library the project already uses
// as its DTB reference (docs/design/008-guest-device-trees.md says why the
// tool, not the hypervisor, builds it). The tree describes only what Rumkv
// really gives the guest: its vCPUs with an ISA string limited to what the
// hypervisor offers (F/D: each vCPU has its own FP registers; Sstc: the
// guest owns vstimecmp; no V or H), the timebase, its RAM, /chosen (stdout-path,
// bootargs) and the emulated NS16550 (polled: no interrupt controller is
// described, so no interrupts property). The same bytes go into the bundle
// and come out of `rumkv dtb`.

import CLibFDT
import Foundation
import RumABI

public enum GuestDeviceTree {
    /// The ISA riscv64 guests are offered: RV64GC (IMAFDC, Zicsr, Zifencei) and Sstc. F and D are
    /// real: each vCPU has FP registers of its own (Hypervisor/riscv64/VCPU.swift, fpLoad/fpSave).
    /// No V, no H: the hypervisor offers neither.
    public static let riscvISA = "rv64imafdc_zicsr_zifencei_sstc"
    /// The `time` CSR's rate on QEMU virt (10 MHz), which guests read directly.
    public static let riscvTimebase: UInt32 = 10_000_000
    /// The UART input clock written into the tree (QEMU virt's value); the emulated
    /// UART ignores the divisor, so any baud rate the guest computes works.
    public static let uartClock: UInt32 = 3_686_400

    /// The tree for guest `g` of a `arch` partition (riscv64 only so far).
    public static func make(_ g: GuestConfig, arch: Arch) throws -> Data {
        guard arch == .riscv64 else { throw BundleError("guest '\(g.name)': device trees are generated for riscv64 guests only so far") }
        var w = try FDTWriter(capacity: Int(RUM_GUEST_DTB_MAX))
        try w.begin("")
        try w.u32("#address-cells", 2)
        try w.u32("#size-cells", 2)
        try w.string("compatible", "rumkv,guest")
        try w.string("model", "rumkv guest")
        let uart = g.devices.contains(.ns16550) ? VirtualDevice.ns16550 : nil
        let uartPath = uart.map { "/soc/serial@\(String($0.base, radix: 16))" }
        try w.begin("chosen")
        if let uartPath { try w.string("stdout-path", uartPath) }
        try w.string("bootargs", g.bootargs)
        try w.end()
        if let uartPath {
            try w.begin("aliases")
            try w.string("serial0", uartPath)
            try w.end()
        }
        try w.begin("cpus")
        try w.u32("#address-cells", 1)
        try w.u32("#size-cells", 0)
        try w.u32("timebase-frequency", riscvTimebase)
        for v in 0..<g.vcpus {
            try w.begin("cpu@\(v)")
            try w.string("device_type", "cpu")
            try w.u32("reg", UInt32(v))
            try w.string("status", "okay")
            try w.string("compatible", "riscv")
            try w.string("riscv,isa", riscvISA)
            try w.string("mmu-type", "riscv,sv39")
            try w.begin("interrupt-controller")
            try w.u32("#address-cells", 0)
            try w.u32("#interrupt-cells", 1)
            try w.empty("interrupt-controller")
            try w.string("compatible", "riscv,cpu-intc")
            try w.u32("phandle", UInt32(v + 1))
            try w.end()
            try w.end()
        }
        try w.end()
        try w.begin("memory@\(String(g.ramBase, radix: 16))")
        try w.string("device_type", "memory")
        try w.cells("reg", [g.ramBase, g.memory])
        try w.end()
        if let uart {
            try w.begin("soc")
            try w.u32("#address-cells", 2)
            try w.u32("#size-cells", 2)
            try w.string("compatible", "simple-bus")
            try w.empty("ranges")
            try w.begin("serial@\(String(uart.base, radix: 16))")
            try w.string("compatible", "ns16550a")
            try w.cells("reg", [uart.base, uart.size])
            try w.u32("clock-frequency", uartClock)
            try w.end()
            try w.end()
        }
        try w.end()
        return try w.finish()
    }
}

/// libfdt's sequential writer over a buffer of `capacity` bytes; every call's error is thrown.
struct FDTWriter {
    private var buffer: [UInt8]

    init(capacity: Int) throws {
        buffer = [UInt8](repeating: 0, count: capacity)
        try call("fdt_create") { fdt_create($0, Int32(capacity)) }
        try call("fdt_finish_reservemap") { fdt_finish_reservemap($0) }
    }

    private mutating func call(_ what: String, _ body: (UnsafeMutableRawPointer) -> Int32) throws {
        let r = buffer.withUnsafeMutableBytes { body($0.baseAddress!) }
        guard r == 0 else {
            let text = String(cString: fdt_strerror(r))
            throw BundleError("libfdt \(what) failed: \(text)\(r == -FDT_ERR_NOSPACE ? " (the tree outgrew \(buffer.count) bytes)" : "")")
        }
    }

    mutating func begin(_ name: String) throws { try call("fdt_begin_node(\(name))") { fdt_begin_node($0, name) } }
    mutating func end() throws { try call("fdt_end_node") { fdt_end_node($0) } }

    mutating func property(_ name: String, _ bytes: [UInt8]) throws {
        try call("fdt_property(\(name))") { fdt in bytes.withUnsafeBytes { fdt_property(fdt, name, $0.baseAddress, Int32($0.count)) } }
    }

    mutating func string(_ name: String, _ value: String) throws { try property(name, Array(value.utf8) + [0]) }
    mutating func empty(_ name: String) throws { try property(name, []) }
    mutating func u32(_ name: String, _ v: UInt32) throws { try property(name, Self.bigEndian(v)) }

    /// 64-bit values as two big-endian cells each (#address-cells = #size-cells = 2).
    mutating func cells(_ name: String, _ values: [UInt64]) throws {
        try property(name, values.flatMap { Self.bigEndian(UInt32($0 >> 32)) + Self.bigEndian(UInt32(truncatingIfNeeded: $0)) })
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// Ends the tree and returns exactly its bytes (totalsize).
    mutating func finish() throws -> Data {
        try call("fdt_finish") { fdt_finish($0) }
        let size = buffer.withUnsafeBytes { Int(UInt32(bigEndian: $0.load(fromByteOffset: 4, as: UInt32.self))) }
        return Data(buffer[..<size])
    }
}

extension GuestDeviceTree {
    /// `blob` as DTS-like text, walked with libfdt (fdt_check_header, fdt_next_node, the
    /// property iterators): strings quoted, other values as 32-bit cells. What `rumkv dtb` prints.
    public static func render(_ blob: Data) throws -> String {
        let bytes = [UInt8](blob)
        return try bytes.withUnsafeBytes { raw -> String in
            let fdt = raw.baseAddress!
            guard raw.count >= 40, fdt_check_header(fdt) == 0,
                  Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) <= raw.count else {
                throw BundleError("not a valid device tree (\(raw.count) bytes)")
            }
            var out = "/dts-v1/;\n"
            var depth: Int32 = 0
            var node: Int32 = 0
            var open = 0
            while node >= 0 && depth >= 0 {
                let d = Int(depth)
                while open > d { open -= 1; out += String(repeating: "\t", count: open) + "};\n" }
                let name = String(cString: fdt_get_name(fdt, node, nil))
                out += String(repeating: "\t", count: d) + (d == 0 ? "/" : name) + " {\n"
                open = d + 1
                var p = fdt_first_property_offset(fdt, node)
                while p >= 0 {
                    var nameP: UnsafePointer<CChar>? = nil
                    var len: Int32 = 0
                    if let v = fdt_getprop_by_offset(fdt, p, &nameP, &len), let nameP {
                        let value = UnsafeRawBufferPointer(start: v, count: Int(len))
                        out += String(repeating: "\t", count: d + 1) + String(cString: nameP) + Self.value(value) + ";\n"
                    }
                    p = fdt_next_property_offset(fdt, p)
                }
                node = fdt_next_node(fdt, node, &depth)
            }
            while open > 0 { open -= 1; out += String(repeating: "\t", count: open) + "};\n" }
            return out
        }
    }

    /// " = \"text\"" for NUL-terminated printable strings, " = <0x... 0x...>" for cells, "" if empty.
    static func value(_ v: UnsafeRawBufferPointer) -> String {
        guard !v.isEmpty else { return "" }
        if v.count == 1 && v[0] == 0 { return " = \"\"" }
        let printable = v.last == 0 && v.dropLast().allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0 } && v.first != 0
        if printable {
            let parts = v.dropLast().split(separator: 0, omittingEmptySubsequences: false).map { "\"\(String(decoding: $0, as: UTF8.self))\"" }
            return " = " + parts.joined(separator: ", ")
        }
        guard v.count % 4 == 0 else { return " = [" + v.map { String(format: "%02x", $0) }.joined(separator: " ") + "]" }
        let cells = stride(from: 0, to: v.count, by: 4).map { (i: Int) -> String in
            let cell = UInt32(bigEndian: v.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            return "0x" + String(cell, radix: 16)
        }
        return " = <" + cells.joined(separator: " ") + ">"
    }
}
