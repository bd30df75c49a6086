// Toolchain: locating swiftc, clang, ld.lld and running them.
//
// Uses the Swift toolchain's own clang and lld (shared/docs/embedded-swift.md:
// GNU ld cannot link Embedded Swift objects). Each tool run is logged in
// verbose mode and a failure carries the command and its output.

import Foundation

public struct BuildError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct Toolchain: Sendable {
    public let bin: URL

    /// Finds the toolchain: $RUMKV_TOOLCHAIN, then the directory of `swiftc` on PATH, then /opt/swift.
    public static func locate() throws -> Toolchain {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["RUMKV_TOOLCHAIN"] { candidates.append(env) }
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            for dir in path.split(separator: ":") { candidates.append(String(dir)) }
        }
        candidates.append("/opt/swift/usr/bin")
        for dir in candidates {
            let d = URL(fileURLWithPath: dir)
            let fm = FileManager.default
            if fm.isExecutableFile(atPath: d.appendingPathComponent("swiftc").path),
               fm.isExecutableFile(atPath: d.appendingPathComponent("ld.lld").path),
               fm.isExecutableFile(atPath: d.appendingPathComponent("clang").path) {
                return Toolchain(bin: d)
            }
        }
        throw BuildError("no Swift toolchain with swiftc, clang and ld.lld found (set RUMKV_TOOLCHAIN to its bin directory)")
    }

    public func tool(_ name: String) -> String { bin.appendingPathComponent(name).path }
}

/// Runs a program to completion, returning its combined output; throws on a non-zero exit.
@discardableResult
public func run(_ program: String, _ args: [String], cwd: URL? = nil, verbose: Bool = false) throws -> String {
    if verbose { FileHandle.standardError.write(("+ " + ([program] + args).joined(separator: " ") + "\n").data(using: .utf8)!) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { throw BuildError("cannot start \(program): \(error.localizedDescription)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let out = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else {
        throw BuildError("\((program as NSString).lastPathComponent) failed (exit \(p.terminationStatus)):\n" +
                         ([program] + args).joined(separator: " ") + "\n" + out)
    }
    return out
}

/// Finds an executable on PATH.
public func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
