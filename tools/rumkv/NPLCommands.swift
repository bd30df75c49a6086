// NPLCommands: `rumkv keygen`, `rumkv sign` and `rumkv inspect` for NPL images.
//
// Keys are libsodium Ed25519 keys stored as lowercase hex text with a final
// newline: NAME.key holds the 64-byte secret key (seed || public key, 128 hex
// digits, mode 0600) and NAME.pub the 32-byte public key (64 hex digits).
// Readers also accept the raw binary form of exactly 64 or 32 bytes. Signing
// uses libsodium; every image `sign` writes is re-checked, and `inspect`
// checks images, with the same Swift verifier the hypervisor runs (RumNPL).

import ArgumentParser
import CRumABI
import CSodium
import Foundation
import RumNPL

/// A failure that names the file it concerns.
struct NPLToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keygen",
        abstract: "Create an Ed25519 key pair for signing NPL images.",
        discussion: "Writes PREFIX.key (secret, hex, mode 0600) and PREFIX.pub (public, hex).")

    @Option(name: .long, help: ArgumentHelp("Output path prefix, e.g. keys/release.", valueName: "DIR/NAME"))
    var out: String

    @Flag(help: "Replace existing key files.")
    var force = false

    func run() throws {
        try NPLKeyFiles.initializeSodium()
        let secretPath = out + ".key", publicPath = out + ".pub"
        if !force {
            for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
                throw NPLToolError("\(path) already exists (use --force to replace it)")
            }
        }
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_keypair(&pk, &sk) == 0 else { throw NPLToolError("libsodium could not create a key pair") }
        try NPLKeyFiles.write(NPLKeyFiles.hex(sk) + "\n", to: secretPath, permissions: 0o600)
        try NPLKeyFiles.write(NPLKeyFiles.hex(pk) + "\n", to: publicPath, permissions: 0o644)
        sodium_memzero(&sk, sk.count)
        print("secret key: \(secretPath)")
        print("public key: \(publicPath) \(NPLKeyFiles.hex(pk))")
    }
}

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sign",
        abstract: "Wrap a file into a signed NPL image.",
        discussion: """
            The image is the 128-byte NPL header followed by the input bytes. The Ed25519 \
            signature covers the header with its signature field zeroed, then the body.
            """)

    @Option(help: ArgumentHelp("Secret key file written by `rumkv keygen`.", valueName: "FILE"))
    var key: String

    @Option(help: "Target architecture: riscv64, aarch64 (or arm64) or x86_64.")
    var arch: String

    @Option(help: "Body kind flags, comma separated: elf, guest (default: none).")
    var flags: String = ""

    @Argument(help: "The body to wrap.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The NPL image to write.", valueName: "FILE"))
    var output: String

    func validate() throws {
        guard NPLToolArch.parse(arch) != nil else {
            throw ValidationError("unknown architecture '\(arch)' (expected riscv64, aarch64 or x86_64)")
        }
        guard NPLToolFlags.parse(flags) != nil else {
            throw ValidationError("unknown flags '\(flags)' (expected a comma-separated list of elf, guest)")
        }
    }

    func run() throws {
        try NPLKeyFiles.initializeSodium()
        let archByte = NPLToolArch.parse(arch)!.rawValue
        let flagBits = NPLToolFlags.parse(flags)!
        var secretKey = try NPLKeyFiles.readSecretKey(key)
        defer { sodium_memzero(&secretKey, secretKey.count) }
        let body = try NPLKeyFiles.read(input, what: "input")

        var header = NPL.makeHeader(arch: archByte, flags: flagBits, bodySize: UInt64(body.count))
        var message = withUnsafeBytes(of: header) { Data($0) }
        message.append(body)
        var signature = [UInt8](repeating: 0, count: 64)
        let status = message.withUnsafeBytes { m in
            crypto_sign_detached(&signature, nil, m.bindMemory(to: UInt8.self).baseAddress, UInt64(m.count), secretKey)
        }
        guard status == 0 else { throw NPLToolError("libsodium could not sign \(input)") }
        signature.withUnsafeBytes { NPL.setSignature($0, in: &header) }
        var image = withUnsafeBytes(of: header) { Data($0) }
        image.append(body)

        // The hypervisor's verifier must accept what we write.
        let publicKey = Array(secretKey[32..<64])
        if case .failure(let error) = NPLInspection.verify(image, arch: archByte, publicKey: publicKey) {
            throw NPLToolError("internal error: the signed image does not verify (\(NPLInspection.describe(error)))")
        }
        do {
            try image.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw NPLToolError("cannot write \(output): \(error.localizedDescription)")
        }
        print("\(output): \(image.count) bytes, arch \(NPLToolArch.name(archByte)), "
              + "flags \(NPLToolFlags.describe(flagBits)), body \(body.count) bytes, key \(NPLKeyFiles.hex(publicKey))")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
        abstract: "Print an NPL image's header and, with --pub, check its signature.",
        discussion: "Exits non-zero when the header is malformed or the signature does not verify.")

    @Argument(help: "The NPL image.")
    var file: String

    @Option(help: ArgumentHelp("Public key file to verify the signature with.", valueName: "FILE"))
    var pub: String?

    func run() throws {
        let image = try NPLKeyFiles.read(file, what: "image")
        let publicKey = try pub.map { try NPLKeyFiles.readPublicKey($0) }
        print("file:      \(file) (\(image.count) bytes)")
        let read = image.withUnsafeBytes { raw in
            Result { () throws(NPLError) in try NPL.header(of: raw) }
        }
        guard case .success(let header) = read else {
            if case .failure(let error) = read { print("header:    \(NPLInspection.describe(error))") }
            throw ExitCode.failure
        }
        let magic = UInt32(littleEndian: header.magic)
        print("magic:     " + (0..<4).map { String(format: "%02x", (magic >> (8 * $0)) & 0xFF) }.joined(separator: " ")
              + (magic == NPL.magic ? " (\\x7fNPL)" : " (not NPL)"))
        print("version:   \(header.version)")
        print("arch:      0x" + String(format: "%02x", header.arch) + " (\(NPLToolArch.name(header.arch)))")
        let flags = UInt16(littleEndian: header.flags)
        print("flags:     0x" + String(format: "%04x", flags) + " (\(NPLToolFlags.describe(flags)))")
        print("body_size: \(UInt64(littleEndian: header.body_size))")
        let reservedZero = withUnsafeBytes(of: header.reserved) { $0.allSatisfy { $0 == 0 } }
        print("reserved:  " + (reservedZero ? "zero" : "NOT ZERO"))
        print("signature: " + withUnsafeBytes(of: header.signature) { NPLKeyFiles.hex(Array($0)) })

        // Structure is checked against the image's own arch byte; a loader
        // additionally requires that byte to be its own architecture.
        let structure = image.withUnsafeBytes { raw in
            Result { () throws(NPLError) in try NPL.check(image: raw, expectedArch: header.arch) }
        }
        switch structure {
        case .success(let layout):
            print("structure: ok, body at \(layout.body.lowerBound)..<\(layout.body.upperBound)")
        case .failure(let error):
            print("structure: \(NPLInspection.describe(error))")
            throw ExitCode.failure
        }
        guard let publicKey, let pub else { return }
        switch NPLInspection.verify(image, arch: header.arch, publicKey: publicKey) {
        case .success:
            print("verified:  yes, with \(pub)")
        case .failure(let error):
            print("verified:  NO, \(NPLInspection.describe(error)) (key \(pub))")
            throw ExitCode.failure
        }
    }
}

/// --arch names and the NPL arch byte.
enum NPLToolArch {
    static func parse(_ name: String) -> NPLArch? {
        switch name.lowercased() {
        case "riscv64", "riscv", "rv64": return .riscv64
        case "aarch64", "arm64": return .arm64
        case "x86_64", "x86-64", "amd64": return .x86_64
        default: return nil
        }
    }

    static func name(_ byte: UInt8) -> String {
        switch NPLArch(rawValue: byte) {
        case .riscv64: return "riscv64"
        case .arm64: return "aarch64"
        case .x86_64: return "x86_64"
        case nil: return "unknown"
        }
    }
}

/// --flags words and the NPL flag bits.
enum NPLToolFlags {
    static func parse(_ list: String) -> UInt16? {
        var bits: UInt16 = 0
        for word in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch word {
            case "elf": bits |= NPL.flagELF
            case "guest": bits |= NPL.flagGuestImage
            case "", "none": break
            default: return nil
            }
        }
        return bits
    }

    static func describe(_ bits: UInt16) -> String {
        var words: [String] = []
        if bits & NPL.flagELF != 0 { words.append("elf") }
        if bits & NPL.flagGuestImage != 0 { words.append("guest") }
        if bits & ~NPL.knownFlags != 0 { words.append("unknown bits 0x" + String(format: "%04x", bits & ~NPL.knownFlags)) }
        return words.isEmpty ? "none" : words.joined(separator: ", ")
    }
}

/// Running the Swift verifier and wording its errors.
enum NPLInspection {
    static func verify(_ image: Data, arch: UInt8, publicKey: [UInt8]) -> Result<NPLVerifiedImage, NPLError> {
        image.withUnsafeBytes { raw in
            publicKey.withUnsafeBytes { key in
                Result { () throws(NPLError) in
                    try NPL.verify(image: raw, expectedArch: arch, trustedKeys: NPLTrustedKeys(concatenated: key)!)
                }
            }
        }
    }

    static func describe(_ error: NPLError) -> String {
        switch error {
        case .tooShort(let count): return "too short: \(count) bytes, the header alone is \(NPL.headerSize)"
        case .badMagic(let found): return "bad magic 0x" + String(format: "%08x", found) + " (expected \\x7fNPL)"
        case .badVersion(let found): return "unsupported version \(found) (expected \(NPL.version))"
        case .wrongArch(let found): return "wrong architecture 0x" + String(format: "%02x", found)
        case .unknownFlags(let found): return "unknown flag bits in 0x" + String(format: "%04x", found)
        case .reservedNotZero: return "reserved bytes 0x50..<0x80 are not zero"
        case .bodySizeOverflow(let size): return "body_size \(size) overflows"
        case .truncated(let expected, let found): return "truncated: header says \(expected) bytes, file has \(found)"
        case .trailingBytes(let expected, let found): return "trailing bytes: header says \(expected) bytes, file has \(found)"
        case .badSignature: return "signature does not verify"
        }
    }
}

/// Reading and writing key and image files, with errors that name the file.
enum NPLKeyFiles {
    static func initializeSodium() throws {
        guard sodium_init() >= 0 else { throw NPLToolError("libsodium failed to initialise") }
    }

    static func read(_ path: String, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw NPLToolError("\(what) file \(path) does not exist") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NPLToolError("cannot read \(what) file \(path): \(error.localizedDescription)")
        }
    }

    static func write(_ text: String, to path: String, permissions: Int) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        } catch {
            throw NPLToolError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Hex text (surrounding whitespace ignored) or raw bytes of exactly `count`.
    static func readKey(_ path: String, count: Int, what: String) throws -> [UInt8] {
        let data = try read(path, what: what)
        if data.count == count, String(data: data, encoding: .utf8).flatMap({ bytes(hex: $0) }) == nil {
            return Array(data)
        }
        guard let text = String(data: data, encoding: .utf8),
              let key = bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NPLToolError("\(what) file \(path) is neither hex text nor \(count) raw bytes")
        }
        guard key.count == count else {
            throw NPLToolError("\(what) file \(path) holds \(key.count) bytes, expected \(count)")
        }
        return key
    }

    static func readPublicKey(_ path: String) throws -> [UInt8] {
        try readKey(path, count: 32, what: "public key")
    }

    /// A 64-byte secret key whose second half is the public key of its seed.
    static func readSecretKey(_ path: String) throws -> [UInt8] {
        var sk = try readKey(path, count: 64, what: "secret key")
        var pk = [UInt8](repeating: 0, count: 32), check = [UInt8](repeating: 0, count: 64)
        defer { sodium_memzero(&check, check.count) }
        guard crypto_sign_seed_keypair(&pk, &check, Array(sk[0..<32])) == 0, pk == Array(sk[32..<64]) else {
            sodium_memzero(&sk, sk.count)
            throw NPLToolError("secret key file \(path) is inconsistent (its public half does not match its seed)")
        }
        return sk
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
