// Config: the partition config model, a human-written file validated once.
//
// A partition config (docs/config.md) says which guests one Rumkv partition
// runs: their images, memory, vCPUs, harts and policies, the devices they own
// and the channels between them (ConfigDevices). `PartitionConfig.load`
// reads the TOML subset (ConfigSyntax), gives the keys meaning (ConfigDecoder)
// and checks the rules that span guests (ConfigRules); every problem becomes a
// message naming the file, line, guest and field. What comes out is trusted by
// BundleWriter, which turns it into the binary boot bundle of rumabi.h.

import Foundation
import RumABI

/// Every problem found in a config, one `file:line: guest 'x': field 'y': problem` message each.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let messages: [String]
    public init(_ messages: [String]) { self.messages = messages }
    public var description: String { messages.joined(separator: "\n") }
}

/// Where a guest's kernel image comes from.
public enum GuestImage: Equatable, Sendable {
    /// The Rumpk guest built by `rumkv build` (written `image = "rumpk"`).
    case rumpk
    /// A file, as written: relative paths are relative to the config file.
    case file(String)
}

/// What the hypervisor does when a guest stops (RUM_RESTART_*).
public enum RestartPolicy: String, CaseIterable, Sendable {
    case never, onCrash = "on-crash", always

    public var abiValue: UInt32 {
        switch self {
        case .never: RUM_RESTART_NEVER
        case .onCrash: RUM_RESTART_ON_CRASH
        case .always: RUM_RESTART_ALWAYS
        }
    }
}

/// Hostile test payloads a test guest can run; `number` is the bundle's `payload` field.
public enum TestPayload: String, CaseIterable, Sendable {
    case none, readOtherGuest = "read-other-guest", writeHypervisor = "write-hypervisor",
         touchUnassignedMMIO = "touch-unassigned-mmio", badSBIPointer = "bad-sbi-pointer",
         unknownSBI = "unknown-sbi", spinForever = "spin-forever", wfiForever = "wfi-forever",
         illegalInstruction = "illegal-instruction", all, bench, attacks, fuzz, crashLoop = "crash-loop",
         noSyndromeAccess = "no-syndrome-access", el2Register = "el2-register"

    public var number: UInt32 { UInt32(Self.allCases.firstIndex(of: self)!) }
}

/// How a guest is entered (RUM_BOOT_*).
public enum BootProtocol: String, CaseIterable, Sendable {
    /// Rumpk's own protocol: image at the RAM base, a1 = the SysTable.
    case rumpk
    /// Linux and U-Boot's: image at RAM + 2 MiB, a0 = hart id, a1 = a device tree the tool generates.
    case linux

    public var abiValue: UInt32 { self == .rumpk ? RUM_BOOT_RUMPK : RUM_BOOT_LINUX }
}

/// Devices the hypervisor emulates for a guest (RUM_VDEV_*).
public enum VirtualDevice: String, CaseIterable, Sendable {
    /// An NS16550A UART at QEMU virt's address, wired to the guest's console.
    case ns16550

    public var abiBit: UInt32 { RUM_VDEV_NS16550 }
    /// Its guest-physical base (QEMU virt riscv64's UART, where software built for `virt` looks).
    public var base: UInt64 { 0x1000_0000 }
    public var size: UInt64 { RUM_VUART_SIZE }
}

/// The guest-physical layout of a `boot = "linux"` guest (QEMU virt's, unless the config moves it).
public enum LinuxLayout {
    /// The image loads at RAM + 2 MiB (the riscv64 Image's text_offset; U-Boot S-mode is linked there).
    public static let imageOffset: UInt64 = 2 << 20
    /// The device tree's address: QEMU's rule (riscv_compute_fdt_addr): the highest 2 MiB boundary
    /// below the end of RAM at which the whole tree fits.
    public static func dtbAddress(ramBase: UInt64, memory: UInt64, dtbSize: Int) -> UInt64 {
        (ramBase + memory - UInt64(dtbSize)) & ~UInt64((2 << 20) - 1)
    }
}

public struct GuestConfig: Equatable, Sendable {
    public var name: String
    public var image: GuestImage
    /// Guest RAM in bytes: a multiple of 2 MiB, 2 MiB...1 GiB.
    public var memory: UInt64
    public var vcpus: Int = 1
    /// Physical harts the vCPUs may run on, ascending; nil: any hart (the partition did not say how many).
    public var harts: [Int]? = nil
    public var pinned = false
    public var autostart = true
    public var restart: RestartPolicy = .onCrash
    public var verbose = false
    /// Set: the guest boots in test mode (RUM_GUEST_F_TEST) and runs this payload.
    public var testPayload: TestPayload? = nil
    /// Signed payloads put in the guest's payload store (Payloads.swift), in order.
    public var payloads: [PayloadRef] = []
    /// Payload names Rumpk executes at boot, in order; nil: each payload once.
    public var run: [String]? = nil
    /// How the guest is entered.
    public var boot: BootProtocol = .rumpk
    /// Guest-physical base of its RAM.
    public var ramBase: UInt64 = RUM_GUEST_RAM_GPA
    /// Where the image is loaded and entered; nil: the protocol's default (`imageAddress`).
    public var loadAddress: UInt64? = nil
    /// Emulated devices; nil: the protocol's default (`devices`).
    public var virtualDevices: [VirtualDevice]? = nil
    /// The kernel command line (`/chosen/bootargs`) of a `linux` guest.
    public var bootargs: String = ""
    /// Line of the guest's `[[guest]]` header, and of each field written in the file.
    public var line = 0
    public var fieldLines: [String: Int] = [:]

    public init(name: String, image: GuestImage, memory: UInt64) {
        self.name = name; self.image = image; self.memory = memory
    }

    /// The line to blame for `field`: where it was written, else the guest header.
    public func line(of field: String) -> Int { fieldLines[field] ?? line }

    /// What the store's `autorun` member lists: `run`, or every payload once.
    public var autorun: [String] { run ?? payloads.map(\.name) }

    /// The image's load address and entry point.
    public var imageAddress: UInt64 { loadAddress ?? (boot == .rumpk ? ramBase : ramBase + LinuxLayout.imageOffset) }

    /// The devices the hypervisor emulates for it: a Linux-style guest gets a UART by default.
    public var devices: [VirtualDevice] { virtualDevices ?? (boot == .linux ? [.ns16550] : []) }

    /// RAM from the load address up: what the image may occupy.
    public var memoryForImage: UInt64 { imageAddress >= ramBase && imageAddress - ramBase < memory ? memory - (imageAddress - ramBase) : 0 }

    /// `cpu_mask` of the bundle entry: bit n = hart n.
    public var hartMask: UInt64 {
        guard let harts else { return .max }
        return harts.reduce(0) { $0 | (1 << UInt64($1)) }
    }

    /// `flags` of the bundle entry (RUM_GUEST_F_*).
    public var flags: UInt32 {
        (autostart ? RUM_GUEST_F_AUTOSTART : 0) | (pinned ? RUM_GUEST_F_PINNED : 0)
            | (verbose ? RUM_GUEST_F_VERBOSE : 0) | (testPayload != nil ? RUM_GUEST_F_TEST : 0)
    }
}

public struct PartitionConfig: Equatable, Sendable {
    /// The config file as named to `load`/`parse`, used in messages.
    public var fileName: String
    public var name: String
    public var arch: Arch
    /// Physical harts the partition expects; nil: not stated.
    public var harts: Int?
    /// Upper bound on the guests' memory together; nil: none.
    public var memoryLimit: UInt64?
    public var guests: [GuestConfig]
    /// Platform devices and who owns them (`[[device]]`), in file order.
    public var devices: [DeviceConfig] = []
    /// Shared memory between two guests (`[[channel]]`), in file order.
    public var channels: [ChannelConfig] = []

    /// Reads and validates the config at `url`; throws ConfigError listing every problem found.
    public static func load(_ url: URL) throws -> PartitionConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError(["\(url.relativePath): cannot read the config: \(error.localizedDescription)"])
        }
        return try parse(data: data, fileName: url.relativePath)
    }

    /// Validates config bytes: they must be UTF-8 text (the first bad byte is named by line and column).
    public static func parse(data: Data, fileName: String) throws -> PartitionConfig {
        if let (line, column, byte) = firstInvalidUTF8(data) {
            throw ConfigError(["\(fileName):\(line): byte 0x\(String(byte, radix: 16, uppercase: true)) at column \(column) is not UTF-8 (a config is UTF-8 text)"])
        }
        return try parse(text: String(decoding: data, as: UTF8.self), fileName: fileName)
    }

    /// Line and column (1-based, in characters) and value of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int, byte: UInt8)? {
        var line = 1, column = 1, offset = 0
        var bytes = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let s):
                offset += s.count
                if s.count == 1, s.first == 0x0A { line += 1; column = 1 } else { column += 1 }
            case .error:
                return (line, column, data[data.startIndex + offset])
            case .emptyInput:
                return nil
            }
        }
    }

    /// Validates config `text`; `fileName` only names the file in messages.
    public static func parse(text: String, fileName: String) throws -> PartitionConfig {
        var decoder = ConfigDecoder(fileName: fileName)
        let config = decoder.decode(ConfigSyntax(text))
        if let config, decoder.errors.isEmpty { return config }
        throw ConfigError(decoder.errors.isEmpty ? ["\(fileName):1: the config is not valid"] : decoder.errors)
    }

    /// The file a guest's image is read from.
    public func imageURL(_ guest: GuestConfig, configDirectory: URL, rumpkImage: URL) -> URL {
        switch guest.image {
        case .rumpk: rumpkImage
        case .file(let path): path.hasPrefix("/") ? URL(fileURLWithPath: path)
                                                  : configDirectory.appendingPathComponent(path).standardizedFileURL
        }
    }

    /// One message per guest whose image file does not exist (the "rumpk" image is built, not checked here).
    public func missingImageFiles(configDirectory: URL) -> [String] {
        imageFileProblems(configDirectory: configDirectory, contents: false)
    }

    /// One message per guest whose image file is missing, unreadable or not a
    /// usable image (GuestImageCheck: the same verdict the bundle builder gives).
    public func imageFileProblems(configDirectory: URL, contents: Bool = true) -> [String] {
        guests.compactMap { g in
            guard case .file = g.image else { return nil }
            let url = imageURL(g, configDirectory: configDirectory, rumpkImage: configDirectory)
            let at = "\(fileName):\(g.line(of: "image")): guest '\(g.name)': field 'image': "
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return at + "no file at \(url.path)" }
            guard contents else { return nil }
            guard !isDirectory.boolValue else { return at + "\(url.path) is a directory, not an image file" }
            let bytes: Data
            do { bytes = try Data(contentsOf: url) } catch { return at + "cannot read \(url.path): \(error.localizedDescription)" }
            return GuestImageCheck.problem(bytes, arch: arch, memory: g.memoryForImage).map { at + "\(url.path) \($0)" }
        }
    }
}

/// One entry of a guest's `payloads`: the member NAME.npl of its store and where it comes from.
public struct PayloadRef: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// Guest/Payloads/NAME, built and signed for the partition's arch.
        case demo(String)
        /// A file relative to the config: NAME.elf (signed by the build) or NAME.npl (stored as is).
        case file(String)
    }
    public var name: String
    public var source: Source

    public init(name: String, source: Source) { self.name = name; self.source = source }
}

/// Limits the config rules and the bundle reader share (rumabi.h).
public enum ConfigLimits {
    public static let maxGuests = Int(RUM_BUNDLE_MAX_GUESTS)
    public static let maxNameLength = Int(RUM_GUEST_NAME_MAX) - 1
    public static let memoryStep: UInt64 = 2 << 20
    public static let memoryRange: ClosedRange<UInt64> = (2 << 20)...(1 << 30)
    public static let vcpus: ClosedRange<Int> = 1...8
    /// vCPUs of all guests together (the hypervisor's vCPU slots).
    public static let totalVCPUs = Int(RUM_BUNDLE_MAX_VCPUS)
    /// `cpu_mask` is 64 bits wide.
    public static let maxHarts = 64
    /// Payloads in one guest's store, and entries of its `run` list (Rumpk's shell takes 16).
    public static let maxPayloads = 16
    public static let maxRun = 16
    /// Guest RAM below the payload window (RAM + 1 MiB), which a payload store may not reach.
    public static let payloadWindowOffset: UInt64 = 1 << 20

    /// nil if `name` is 1...`max` characters of [a-z0-9_-] starting with a letter, else the problem.
    public static func nameProblem(_ name: String, max: Int = maxNameLength) -> String? {
        guard !name.isEmpty else { return "the name is empty" }
        guard name.utf8.count <= max else { return "'\(Quote.short(name))'\(name.count > 40 ? " (\(name.utf8.count) bytes)" : "") is longer than \(max) characters" }
        guard let f = name.utf8.first, f >= UInt8(ascii: "a"), f <= UInt8(ascii: "z") else {
            return "'\(name)' must start with a lowercase letter"
        }
        let ok = name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
        return ok ? nil : "'\(name)' may contain only a-z, 0-9, '_' and '-'"
    }
}
