// Bench: Rumkv's benchmark run (`rumkv bench`).
//
// Boots the hypervisor under QEMU with -icount shift=0, where the retired-
// instruction counter and guest time are deterministic, with the partition
// configs/bench/<arch>.toml: a guest that measures hypercall and timer costs
// from inside (Guest/Kernel/Bench.swift) and one that crashes in every
// instance so the hypervisor's restart latency can be read. Prints numbers;
// nothing here judges them.

import Foundation

public struct BenchResult: Sendable {
    public var nullCallInstructions: UInt64 = 0
    public var timerSetInstructions: UInt64 = 0
    public var timerWakeTicks: UInt64 = 0
    public var timebaseHz: UInt64 = 0
    public var restartMicros: UInt64 = 0
    public var imageLoadBytes: UInt64 = 0
    public var imageMemoryBytes: UInt64 = 0

    public var report: String {
        let wakeMicros = timebaseHz > 0 ? Double(timerWakeTicks) * 1e6 / Double(timebaseHz) : 0
        return """
            null SBI call round trip (VS -> HS -> VS):  \(nullCallInstructions) instructions
            timer re-arm (SBI set_timer):              \(timerSetInstructions) instructions
            timer wake-up past the deadline:           \(timerWakeTicks) ticks (\(String(format: "%.1f", wakeMicros)) us guest time)
            guest restart (fault -> first output):     \(restartMicros) us guest time
            hypervisor image (loaded bytes):           \(imageLoadBytes) bytes (\(imageLoadBytes / 1024) KiB)
            hypervisor memory incl. bss and stack:     \(imageMemoryBytes) bytes
            """
    }
}

public enum Bench {
    /// Runs the benchmark for `arch` with already built test-or-release images.
    public static func run(_ builder: Builder, _ arch: Arch, _ images: Images) throws -> BenchResult {
        guard arch == .riscv64 else { throw BuildError("benchmarks need guests, which run on riscv64 so far") }
        var o = EmulatorOptions()
        o.smp = 2
        o.icount = true
        o.bundle = try builder.bundle(config: builder.root.appendingPathComponent("configs/bench/\(arch.rawValue).toml"),
                                      images: images, arch: arch)
        let s = try ConsoleSession.boot(arch, images, options: o)
        defer { s.terminate() }
        try s.expect("rumkv> ", timeout: 120)
        var r = BenchResult()
        let deadline = Date().addingTimeInterval(120)
        var text = ""
        while !text.contains("BENCH done") {
            guard Date() < deadline else { throw BuildError("the bench guest did not finish:\n\(text)") }
            sleep(1)
            s.send("console bench\r")
            try s.expect("Ctrl-] returns to rumkv>]", timeout: 30)
            usleep(200_000)
            s.send("\u{1D}")
            text = try s.expect("[detached]", timeout: 30).replacingOccurrences(of: "\r", with: "")
            try s.expect("rumkv> ", timeout: 30)
        }
        func value(_ key: String) -> UInt64 {
            for line in text.components(separatedBy: "\n") where line.hasPrefix("BENCH \(key)=") {
                return UInt64(line.dropFirst("BENCH \(key)=".count)) ?? 0
            }
            return 0
        }
        r.nullCallInstructions = value("null_call_instructions")
        r.timerSetInstructions = value("timer_set_instructions")
        r.timerWakeTicks = value("timer_wake_ticks")
        r.timebaseHz = value("timebase_hz")
        let info = try s.command("info crasher", timeout: 30)
        if let range = info.range(of: "last restart ") {
            r.restartMicros = UInt64(info[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        (r.imageLoadBytes, r.imageMemoryBytes) = try loadSize(images.hypervisor)
        s.send("shutdown\r")
        return r
    }

    /// Bytes of the image's PT_LOAD segments in the file, and in memory (ELF64 little-endian).
    public static func loadSize(_ elf: URL) throws -> (UInt64, UInt64) {
        let d = try Data(contentsOf: elf)
        guard d.count > 64, d[0] == 0x7F, d[1] == 0x45, d[4] == 2 else { throw BuildError("\(elf.path) is not an ELF64 file") }
        func u(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(d[o + $1]) << (8 * UInt64($1)) } }
        let phoff = Int(u(0x20, 8)), phentsize = Int(u(0x36, 2)), phnum = Int(u(0x38, 2))
        var file: UInt64 = 0, mem: UInt64 = 0
        for i in 0..<phnum {
            let p = phoff + i * phentsize
            guard p + 56 <= d.count, u(p, 4) == 1 else { continue }
            file += u(p + 0x20, 8)
            mem += u(p + 0x28, 8)
        }
        return (file, mem)
    }
}
