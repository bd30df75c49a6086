// ImageTests: properties of the built hypervisor images that no boot shows.
//
// The hypervisor runs on 64 KiB stacks. A function whose frame holds a copy
// of the ~40 KiB `Machine` (a borrowing method called through
// `Machine.shared.pointee`) overflows one as soon as it nests, and the crash
// it causes lands far from the cause. The disassembly shows every frame size.

import Foundation
import XCTest
import RumkvBuild

final class ImageTests: XCTestCase {
    /// Frames bigger than this are a bug in hypervisor code (the largest legitimate ones are ~1 KiB).
    static let frameLimit = 4096

    func testNoHypervisorFunctionHasAHugeStackFrame() throws {
        for arch in [Arch.riscv64, .aarch64, .x86_64] {
            let images = try TestImages.images(arch)
            let frames = try StackFrames.largest(images.hypervisor, arch: arch)
            XCTAssertFalse(frames.isEmpty, "\(arch): the disassembly parser found no stack frame at all")
            let huge = frames.filter { $0.bytes > Self.frameLimit }
            XCTAssertTrue(huge.isEmpty, "\(arch): stack frames over \(Self.frameLimit) bytes:\n"
                + huge.map { "  \($0.bytes) bytes in \($0.function)" }.joined(separator: "\n"))
        }
    }
}

/// Stack-pointer adjustments in a disassembly, per function.
enum StackFrames {
    struct Frame { var function: String; var bytes: Int }

    static func largest(_ elf: URL, arch: Arch) throws -> [Frame] {
        let objdump = try Toolchain.locate().tool("llvm-objdump")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: objdump)
        p.arguments = ["-d", "--no-show-raw-insn", elf.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return parse(text, arch: arch)
    }

    /// One frame per function: the largest single stack adjustment in its body.
    static func parse(_ text: String, arch: Arch) -> [Frame] {
        var frames: [String: Int] = [:]
        var function = "?"
        var lastImmediate: [String: Int] = [:]      // riscv64: lui/addi building a large frame size
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix(">:"), let lt = line.firstIndex(of: "<") {
                function = String(line[line.index(after: lt)..<line.index(line.endIndex, offsetBy: -2)])
                lastImmediate = [:]
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let insn = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let parts = insn.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
            guard let op = parts.first else { continue }
            var size = 0
            switch arch {
            case .riscv64:
                if (op == "addi" || op == "c.addi16sp"), parts.count >= 4, parts[1] == "sp", parts[2] == "sp",
                   let v = number(parts[3]), v < 0 { size = -v }
                if op == "lui", parts.count >= 3, let v = number(parts[2]) { lastImmediate[parts[1]] = v << 12 }
                if (op == "addi" || op == "addiw"), parts.count >= 4, parts[1] == parts[2], let base = lastImmediate[parts[1]],
                   let v = number(parts[3]) { lastImmediate[parts[1]] = base + v }
                if op == "sub", parts.count >= 4, parts[1] == "sp", parts[2] == "sp", let v = lastImmediate[parts[3]] { size = v }
            case .aarch64:
                // sub sp, sp, #0x9, lsl #12   /   sub sp, sp, #0x1f0   /   stp x29, x30, [sp, #-0x60]!
                if op == "sub", parts.count >= 4, parts[1] == "sp", parts[2] == "sp", let v = number(parts[3]) {
                    size = parts.count >= 6 && parts[4] == "lsl" ? v << (number(parts[5]) ?? 0) : v
                }
            case .x86_64:
                // sub $0x9a70, %rsp
                if op == "subq" || op == "sub", parts.count >= 3, parts[2] == "%rsp", let v = number(parts[1]) { size = v }
            }
            if size > 0 { frames[function] = max(frames[function] ?? 0, size) }
        }
        return frames.map { Frame(function: $0.key, bytes: $0.value) }.sorted { $0.bytes > $1.bytes }
    }

    /// "-0x1f0", "#0x9", "$0x9a70", "12" as an integer.
    static func number(_ s: String) -> Int? {
        var t = Substring(s)
        while let c = t.first, c == "#" || c == "$" { t = t.dropFirst() }
        let negative = t.hasPrefix("-")
        if negative { t = t.dropFirst() }
        let v = t.hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16) : Int(t)
        return v.map { negative ? -$0 : $0 }
    }
}
