// ConfigBoot: a guest's boot protocol, RAM layout and virtual devices.
//
// `boot = "rumpk"` (the default) is Rumpk's own protocol: the image at the
// RAM base (0x80000000), the SysTable in a1. `boot = "linux"` is the one
// Linux and U-Boot expect on QEMU's virt machine: RAM at 0x80000000 unless
// `ram_base` moves it, the image at RAM + 2 MiB unless `load_address` says
// otherwise, a0 = hart id and a1 = a device tree the tool generates
// (GuestDeviceTree) with `bootargs` in /chosen, and an emulated NS16550
// unless `virtual_devices` says otherwise. Field problems are reported while
// the guest is decoded; the rules that need the architecture (only riscv64
// boots Linux-style guests so far) once the partition is known.

import RumABI

extension ConfigDecoder {
    mutating func decodeBoot(_ f: [String: ConfigEntry], _ who: String, into g: inout GuestConfig) {
        if let v = value(f, "boot", who, { try FieldValue.choice($0, BootProtocol.self) }) { g.boot = v }
        let linuxOnly = "only a boot = \"linux\" guest has it (a Rumpk guest's layout is fixed by its ABI)"
        for key in ["ram_base", "load_address", "bootargs"] where f[key] != nil && g.boot != .linux {
            report(f[key]!.line, who, key, linuxOnly)
        }
        if g.boot == .linux {
            if let v = value(f, "ram_base", who, { try FieldValue.ramBase($0, memory: g.memory) }) { g.ramBase = v }
            if let v = value(f, "load_address", who, { try FieldValue.loadAddress($0, ramBase: g.ramBase, memory: g.memory) }) {
                g.loadAddress = v
            }
            if let v = value(f, "bootargs", who, FieldValue.bootargs) { g.bootargs = v }
            for key in ["payloads", "run", "test_payload"] where f[key] != nil {
                report(f[key]!.line, who, key, "a boot = \"linux\" guest has no Rumpk payload store or test payload")
            }
        }
        if let v = value(f, "virtual_devices", who, FieldValue.virtualDevices) { g.virtualDevices = v }
    }

    /// A device a guest owns is mapped at its own address in that guest: it may not sit on the
    /// guest's emulated UART.
    mutating func checkVirtualDeviceOverlap(_ guests: [GuestConfig], _ devices: [DeviceConfig]) {
        for d in devices {
            guard let owner = guests.first(where: { $0.name == d.guest }) else { continue }
            for v in owner.devices where d.mmio < v.base + v.size && v.base < d.mmio + d.size {
                report(d.line(of: "mmio"), "device '\(d.name)'", "mmio",
                       "\(FieldValue.hex(d.mmio))..\(FieldValue.hex(d.mmio + d.size)) covers guest '\(owner.name)''s emulated \(v.rawValue) at \(FieldValue.hex(v.base))")
            }
        }
    }

    /// Rules that depend on the partition's architecture.
    mutating func checkBoot(_ g: GuestConfig, arch: Arch) {
        let who = "guest '\(g.name)'"
        if g.boot == .linux && arch != .riscv64 {
            report(g.line(of: "boot"), who, "boot", "boot = \"linux\" is supported on riscv64 only so far (not \(arch.rawValue))")
        }
        if !g.devices.isEmpty && arch != .riscv64 {
            report(g.line(of: g.virtualDevices == nil ? "boot" : "virtual_devices"), who, "virtual_devices",
                   "the emulated ns16550 exists on riscv64 only so far (not \(arch.rawValue))")
        }
    }
}

extension FieldValue {
    /// A guest RAM base: 2 MiB aligned, at or above 0x80000000 (below lie the SysTable, channels and
    /// devices), and RAM ending at or below 2^40.
    static func ramBase(_ v: ConfigValue, memory: UInt64) throws -> UInt64 {
        let n = try address(v)
        guard n % (2 << 20) == 0 else { throw FieldProblem("\(hex(n)) is not 2 MiB aligned") }
        guard n >= RUM_GUEST_RAM_GPA else {
            throw FieldProblem("\(hex(n)) is below \(hex(RUM_GUEST_RAM_GPA)) (the SysTable, channel and device windows lie there)")
        }
        guard n <= RUM_GUEST_RAM_GPA_LIMIT, memory <= RUM_GUEST_RAM_GPA_LIMIT - n else {
            throw FieldProblem("RAM from \(hex(n)) would end above \(hex(RUM_GUEST_RAM_GPA_LIMIT)), the top of guest-physical space")
        }
        return n
    }

    /// The image's load address: 4 KiB aligned, inside the guest's RAM.
    static func loadAddress(_ v: ConfigValue, ramBase: UInt64, memory: UInt64) throws -> UInt64 {
        let n = try address(v)
        guard n % 4096 == 0 else { throw FieldProblem("\(hex(n)) is not 4 KiB aligned") }
        guard n >= ramBase, n - ramBase < memory else {
            throw FieldProblem("\(hex(n)) is outside the guest's RAM (\(hex(ramBase))..\(hex(ramBase &+ memory)))")
        }
        return n
    }

    static func bootargs(_ v: ConfigValue) throws -> String {
        let s = try string(v)
        guard s.utf8.count <= 1024 else { throw FieldProblem("\(s.utf8.count) bytes, at most 1024") }
        guard s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw FieldProblem("only printable ASCII is allowed") }
        return s
    }

    /// `virtual_devices`: distinct names of emulated devices, possibly none.
    static func virtualDevices(_ v: ConfigValue) throws -> [VirtualDevice] {
        guard case .array(let items) = v else {
            throw FieldProblem("expected an array such as [\"ns16550\"] (or [] for none), found \(v.kindName)")
        }
        var out: [VirtualDevice] = []
        for item in items {
            let d = try choice(item, VirtualDevice.self)
            guard !out.contains(d) else { throw FieldProblem("'\(d.rawValue)' is listed twice") }
            out.append(d)
        }
        return out
    }

    static func address(_ v: ConfigValue) throws -> UInt64 {
        guard case .int(let n) = v else { throw FieldProblem("expected an address such as 0x80000000, found \(v.kindName)") }
        guard n >= 0 else { throw FieldProblem("\(n) is negative") }
        return UInt64(n)
    }
}
