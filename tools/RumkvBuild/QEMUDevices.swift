// QEMUDevices: the emulator arguments that put a config's devices where it says.
//
// QEMU's riscv64 `virt` machine (hw/riscv/virt.c) creates 8 virtio-mmio
// transports: slot n at 0x10001000 + n * 0x1000, 4 KiB apart, raising PLIC
// source n + 1, on bus `virtio-mmio-bus.n`. Left to itself QEMU plugs the
// first `-device virtio-*-device` into the highest free slot (7, 0x10008000),
// the next into slot 6 and so on; every device here names its bus instead, so
// it lands on the slot its `mmio` names whatever else is on the command line
// (the arguments still come highest slot first, matching QEMU's own order).
// The transports are switched to virtio 1.x (MMIO version 2) with
// `-global virtio-mmio.force-legacy=false`.
//
// QEMU's aarch64 `virt` (hw/arm/virt.c) has 32 transports 512 bytes apart
// from 0x0a000000, transport n raising SPI 16 + n (GIC INTID 48 + n). A
// guest is given whole 4 KiB pages, so only the transport at the start of a
// page (0, 8, 16, 24) can be passed through, and its owner gets the page
// with the seven transports after it (AArch64VirtSlots).

import Foundation

public enum VirtSlots {
    public static let base: UInt64 = 0x1000_1000
    public static let stride: UInt64 = 0x1000
    public static let count = 8

    /// The slot whose window starts at `mmio`.
    public static func slot(at mmio: UInt64) -> Int? {
        guard mmio >= base, (mmio - base) % stride == 0, (mmio - base) / stride < UInt64(count) else { return nil }
        return Int((mmio - base) / stride)
    }

    public static func mmio(_ slot: Int) -> UInt64 { base + UInt64(slot) * stride }
    public static func irq(_ slot: Int) -> UInt32 { UInt32(slot + 1) }

    /// "0x10001000, 0x10002000, ..., 0x10008000" for messages.
    static var listing: String {
        "\(FieldValue.hex(mmio(0))), \(FieldValue.hex(mmio(1))), ..., \(FieldValue.hex(mmio(count - 1)))"
    }
}

/// The passthrough-capable virtio-mmio transports of QEMU's aarch64 `virt`.
public enum AArch64VirtSlots {
    public static let base: UInt64 = 0x0A00_0000
    public static let stride: UInt64 = 0x200
    public static let count = 32
    /// A guest gets the page, which holds this many transports.
    public static let perPage = 8

    /// The transport starting the page at `mmio`, if it is one.
    public static func slot(at mmio: UInt64) -> Int? {
        guard mmio >= base, (mmio - base) % 0x1000 == 0, (mmio - base) / stride < UInt64(count) else { return nil }
        return Int((mmio - base) / stride)
    }

    public static func mmio(_ slot: Int) -> UInt64 { base + UInt64(slot) * stride }
    /// The GIC INTID (SPI 16 + n).
    public static func irq(_ slot: Int) -> UInt32 { UInt32(48 + slot) }

    static var listing: String {
        "\(FieldValue.hex(mmio(0))), \(FieldValue.hex(mmio(8))), \(FieldValue.hex(mmio(16))), \(FieldValue.hex(mmio(24)))"
    }
}

extension PartitionConfig {
    /// The file a device's `disk` names: a path relative to the config file, or the scratch
    /// image `disk-<partition>-<device>.img` in `scratchDirectory`.
    public func diskURL(_ d: DeviceConfig, configDirectory: URL, scratchDirectory: URL?) -> URL? {
        switch d.disk {
        case nil: nil
        case .file(let path)?: path.hasPrefix("/") ? URL(fileURLWithPath: path)
                                                   : configDirectory.appendingPathComponent(path).standardizedFileURL
        case .scratch?: scratchDirectory?.appendingPathComponent("disk-\(name)-\(d.name).img")
        }
    }

    /// One message per `disk` file that does not exist (scratch disks are made, not checked).
    public func missingDiskFiles(configDirectory: URL) -> [String] {
        devices.compactMap { d in
            guard case .file = d.disk, let url = diskURL(d, configDirectory: configDirectory, scratchDirectory: nil) else {
                return nil
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { return nil }
            return "\(fileName):\(d.line(of: "disk")): device '\(d.name)': field 'disk': no file at \(url.path)"
        }
    }

    /// QEMU arguments creating the devices that have a `qemu` hint, each on the slot its `mmio` names.
    /// Disk files must exist (ConfigError otherwise; nothing is created for them); each scratch disk
    /// is (re)made zero-filled in `scratchDirectory`, which it needs.
    public func qemuDeviceArguments(configDirectory: URL, scratchDirectory: URL? = nil) throws -> [String] {
        let missing = missingDiskFiles(configDirectory: configDirectory)
        if !missing.isEmpty { throw ConfigError(missing) }
        let hinted = devices.filter { $0.qemu != nil }
            .map { (device: $0, slot: arch == .aarch64 ? AArch64VirtSlots.slot(at: $0.mmio) : VirtSlots.slot(at: $0.mmio)) }
            .sorted { ($0.slot ?? -1) > ($1.slot ?? -1) }
        guard !hinted.isEmpty else { return [] }
        var args = ["-global", "virtio-mmio.force-legacy=false"]
        for (d, slot) in hinted {
            guard let slot else { throw ConfigError(["\(fileName):\(d.line(of: "mmio")): device '\(d.name)': field 'mmio': not a virtio-mmio slot"]) }
            args += try arguments(d, bus: "virtio-mmio-bus.\(slot)", configDirectory: configDirectory,
                                  scratchDirectory: scratchDirectory)
        }
        return args
    }

    private func arguments(_ d: DeviceConfig, bus: String, configDirectory: URL, scratchDirectory: URL?) throws -> [String] {
        let id = "rumkv-\(d.name)"
        switch d.qemu {
        case .virtioBlk?:
            guard let url = diskURL(d, configDirectory: configDirectory, scratchDirectory: scratchDirectory) else {
                throw ConfigError(["\(fileName):\(d.line(of: "disk")): device '\(d.name)': field 'disk': a scratch disk needs a directory to be made in"])
            }
            if case .scratch(let bytes)? = d.disk { try makeScratchDisk(url, bytes: bytes, d) }
            // QEMU option values escape a comma by doubling it.
            let file = url.path.replacingOccurrences(of: ",", with: ",,")
            return ["-drive", "file=\(file),if=none,format=raw,id=\(id)",
                    "-device", "\(d.qemu!.driver),drive=\(id),bus=\(bus)"]
        case .virtioRng?:
            return ["-device", "\(d.qemu!.driver),bus=\(bus)"]
        case .virtioNet?:
            return ["-netdev", "user,id=\(id)", "-device", "\(d.qemu!.driver),netdev=\(id),bus=\(bus)"]
        case nil:
            return []
        }
    }

    private func makeScratchDisk(_ url: URL, bytes: UInt64, _ d: DeviceConfig) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: url)
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw BuildError("cannot create it") }
            let h = try FileHandle(forWritingTo: url)
            defer { try? h.close() }
            try h.truncate(atOffset: bytes)
        } catch {
            throw ConfigError(["\(fileName):\(d.line(of: "disk")): device '\(d.name)': field 'disk': cannot make the scratch disk \(url.path): \(error)"])
        }
    }
}
