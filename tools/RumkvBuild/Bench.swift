// Bench: Rumkv's benchmark run (`rumkv bench`).
//
// Boots the hypervisor under QEMU with -icount shift=0, where the retired-
// instruction counter and guest time are deterministic. Two partitions:
// configs/bench/<arch>.toml, a guest that measures hypercall and timer costs
// from inside (Guest/Kernel/Bench.swift) and one that crashes in every
// instance so the hypervisor's restart latency can be read; and
// configs/bench/<arch>-io.toml, the device and channel phases (virtio-blk
// interrupt delivery, then the doorbell round trip and channel throughput),
// run one after the other so no busy guest shares the machine with the one
// being measured. Prints numbers; nothing here judges them.

import Foundation

public struct BenchResult: Sendable {
    public var arch: Arch = .riscv64
    public var nullCallInstructions: UInt64 = 0
    public var timerSetInstructions: UInt64 = 0
    public var timerWakeTicks: UInt64 = 0
    public var timebaseHz: UInt64 = 0
    public var restartMicros: UInt64 = 0
    public var imageLoadBytes: UInt64 = 0
    public var imageMemoryBytes: UInt64 = 0

    public var report: String {
        let wakeMicros = timebaseHz > 0 ? Double(timerWakeTicks) * 1e6 / Double(timebaseHz) : 0
        let call = switch arch {
        case .aarch64: "null HVC round trip (EL1 -> EL2 -> EL1):   "
        case .x86_64: "null VMCALL round trip (non-root -> root): "
        case .riscv64: "null SBI call round trip (VS -> HS -> VS):  "
        }
        let timer = switch arch {
        case .aarch64: "timer re-arm (CNTV_CVAL/CTL, no exit):     "
        case .x86_64: "timer re-arm (RUM_HC_SET_TIMER VMCALL):    "
        case .riscv64: "timer re-arm (SBI set_timer):              "
        }
        let unit = arch == .x86_64 ? "TSC ticks (Bochs: emulated instructions)" : "instructions"
        return """
            \(call)\(nullCallInstructions) \(unit)
            \(timer)\(timerSetInstructions) \(unit)
            timer wake-up past the deadline:           \(timerWakeTicks) ticks (\(String(format: "%.1f", wakeMicros)) us guest time)
            guest restart (fault -> first output):     \(restartMicros > 0 ? "\(restartMicros) us guest time" : "not measured")
            hypervisor image (loaded bytes):           \(imageLoadBytes) bytes (\(imageLoadBytes / 1024) KiB)
            hypervisor memory incl. bss and stack:     \(imageMemoryBytes) bytes
            """
    }
}

/// The device and channel numbers (instructions are QEMU's global -icount, all harts).
public struct IOBenchResult: Sendable {
    /// Hypervisor taking the physical interrupt to the owner claiming it (`devices`).
    public var deliveryMeanInstructions: UInt64 = 0
    public var deliveryMaxInstructions: UInt64 = 0
    public var deliveries: UInt64 = 0
    /// The guest's view: its notify to its handler, median (includes QEMU's I/O).
    public var notifyToHandlerInstructions: UInt64 = 0
    /// Median of 64, in ticks of guest time (timebaseHz). (The guest's instret samples are
    /// printed too, but QEMU 7.2 sometimes returns the same instret across a round
    /// trip under -icount; guest time is the same clock, 1 instruction = 1 ns.)
    public var doorbellRoundTripTicks: UInt64 = 0
    /// The ping guest's timebase (10 MHz on riscv64 virt, 62.5 MHz on aarch64 virt).
    public var timebaseHz: UInt64 = 10_000_000
    /// The round trip in microseconds of guest time.
    public var doorbellRoundTripMicros: Double { Double(doorbellRoundTripTicks) * 1e6 / Double(max(timebaseHz, 1)) }
    public var packetsPerSecondPolling: UInt64 = 0
    /// Set when the first boot's channel phase stalled and this is the second boot's result.
    public var retriedAfter: String?
    public var packetsPerSecondDoorbell: UInt64 = 0
    public var doorbellsPer4096Doorbell: UInt64 = 0
    public var doorbellsPer4096Polling: UInt64 = 0
    /// ping's demo line: 1000 packets each way, in order.
    public var pingPongInOrder = false

    public var report: String {
        """
        device interrupt delivery (take -> claim):  \(deliveryMeanInstructions) instructions mean, \(deliveryMaxInstructions) max, \(deliveries) interrupts
        blk notify -> guest handler (median):      \(notifyToHandlerInstructions) instructions (includes QEMU's I/O)
        doorbell round trip (ping -> pong -> ping): \(String(format: "%.1f", doorbellRoundTripMicros)) us guest time (\(doorbellRoundTripTicks) ticks at \(timebaseHz) Hz; 1 instruction = 1 ns)
        channel throughput with doorbells:         \(packetsPerSecondDoorbell) packets/s guest time, \(doorbellsPer4096Doorbell) doorbells per 4096 packets
        channel throughput polling:                \(packetsPerSecondPolling) packets/s guest time, \(doorbellsPer4096Polling) doorbells per 4096 packets
        """ + (retriedAfter.map { "\n(second boot: the first one's channel phase stalled: \($0))" } ?? "")
    }
}

/// The emulated UART's cost per access (Guest/Payloads/uartbench).
public struct UARTBenchResult: Sendable {
    public var pollInstructions: UInt64 = 0
    public var putcInstructions: UInt64 = 0
    /// The characters written through THR reached the guest's console.
    public var lineSeen = false

    public var report: String {
        "NS16550 status poll (LSR read, fast path): \(pollInstructions) instructions\n"
            + "NS16550 character (THR write, fast path):  \(putcInstructions) instructions"
    }
}

public enum Bench {
    /// Architectures whose bench starts "crasher" to time a restart (both since the
    /// big lock sleeps in wfe when contended: before, a CPU spinning on it under
    /// -icount kept the crash-looping holder off QEMU's one thread and the
    /// aarch64 console stopped answering).
    static let restartMeasured: [Arch] = [.riscv64, .aarch64, .x86_64]

    /// Runs the benchmark for `arch` with already built test-or-release images.
    public static func run(_ builder: Builder, _ arch: Arch, _ images: Images) throws -> BenchResult {
        var o = EmulatorOptions()
        o.smp = 2
        o.icount = arch != .x86_64      // Bochs has no -icount; its TSC counts emulated instructions
        o.bundle = try builder.bundle(config: builder.root.appendingPathComponent("configs/bench/\(arch.rawValue).toml"),
                                      images: images, arch: arch)
        let s = try ConsoleSession.boot(arch, images, options: o)
        defer { s.terminate() }
        try s.expect("rumkv> ", timeout: 120)
        var r = BenchResult()
        r.arch = arch
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
        func value(_ key: String) -> UInt64 { Self.value(text, key) }
        r.nullCallInstructions = value("null_call_instructions")
        r.timerSetInstructions = value("timer_set_instructions")
        r.timerWakeTicks = value("timer_wake_ticks")
        r.timebaseHz = value("timebase_hz")
        // The restart phase comes after the timer phase: a crash loop on the
        // other hart would starve hart 0 under -icount (QEMU runs the harts
        // round robin in one thread), so the wake-up would measure QEMU's
        // scheduling, not Rumkv's. "crasher" is not autostarted.
        if restartMeasured.contains(arch) {
            _ = try s.command("start crasher", timeout: 30)
            let until = Date().addingTimeInterval(60)
            while Date() < until {
                let info = try s.command("info crasher", timeout: 30)
                if let range = info.range(of: "last restart ") {
                    r.restartMicros = UInt64(info[range.upperBound...].prefix { $0.isNumber }) ?? 0
                    break
                }
                usleep(300_000)
            }
        }
        (r.imageLoadBytes, r.imageMemoryBytes) = try loadSize(images.hypervisor)
        s.send("shutdown\r")
        return r
    }

    /// The device and channel phases, with the `<arch>-io` partition on three harts.
    public static func runIO(_ builder: Builder, _ arch: Arch, _ images: Images) throws -> IOBenchResult {
        // A channel phase that stalls (a known, intermittent stall of the polling
        // phase, roughly one run in six here) is run again once on a fresh boot;
        // the report says so. A second stall fails.
        do { return try runIOOnce(builder, arch, images) } catch let e as ChannelBenchIncomplete {
            var r = try runIOOnce(builder, arch, images)
            r.retriedAfter = e.console.components(separatedBy: "\n").first { $0.contains("channel bench:") } ?? "a stalled channel phase"
            return r
        }
    }

    struct ChannelBenchIncomplete: Error, CustomStringConvertible {
        var console: String
        var description: String { "the channel benchmark did not complete; ping's console:\n\(console)" }
    }

    static func runIOOnce(_ builder: Builder, _ arch: Arch, _ images: Images) throws -> IOBenchResult {
        guard arch != .x86_64 else { throw BuildError("device and channel benchmarks run on riscv64 and aarch64") }
        var o = EmulatorOptions()
        o.smp = 3
        o.icount = true
        // aarch64: the disk's owner sees its RAM at GPA == HPA for DMA, above its
        // guest RAM window at 0x80000000 (configs/qemu-aarch64-virt/passthrough.toml).
        if arch == .aarch64 { o.memoryMiB = 2048 }
        let prepared = try builder.prepareBundle(
            config: builder.root.appendingPathComponent("configs/bench/\(arch.rawValue)-io.toml"), images: images, arch: arch)
        o.bundle = prepared.url
        o.extra = prepared.emulatorArguments
        let s = try ConsoleSession.boot(arch, images, options: o)
        defer { s.terminate() }
        try s.expect("rumkv> ", timeout: 120)
        var r = IOBenchResult()
        // Phase 1: the disk guest alone.
        let disk = try backlog(s, "disk", until: "BENCH blk_interrupt_latency_ticks=", timeout: 180)
        r.notifyToHandlerInstructions = value(disk, "blk_interrupt_latency_instructions")
        let devices = try s.command("devices", timeout: 30).replacingOccurrences(of: "\r", with: "")
        if let row = devices.split(separator: "\n").map({ $0.split(separator: " ") }).first(where: { $0.first == "blk0" }),
           row.count >= 7 {
            r.deliveries = UInt64(row[5]) ?? 0
            let mm = row[6].split(separator: "/")
            if mm.count == 2 { r.deliveryMeanInstructions = UInt64(mm[0]) ?? 0; r.deliveryMaxInstructions = UInt64(mm[1]) ?? 0 }
        }
        // Phase 2: the channel, with the disk guest gone.
        for step in ["stop disk", "start pong", "start ping"] {
            let reply = try s.command(step, timeout: 60)
            guard !reply.contains("error") else { throw BuildError("`\(step)` failed: \(reply)") }
        }
        let ping = try backlog(s, "ping", until: "BENCH channel_done=", timeout: 300)
        guard value(ping, "channel_done") == 1 else {
            throw ChannelBenchIncomplete(console: ping)
        }
        r.pingPongInOrder = ping.contains("channel 0 ping: sent 1000, received 1000 pongs, in order")
        r.doorbellRoundTripTicks = value(ping, "doorbell_roundtrip_ticks")
        let hz = value(ping, "timebase_hz")
        if hz > 0 { r.timebaseHz = hz }
        r.packetsPerSecondPolling = value(ping, "channel_packets_per_second_polling")
        r.packetsPerSecondDoorbell = value(ping, "channel_packets_per_second_doorbell")
        r.doorbellsPer4096Doorbell = value(ping, "channel_doorbells_per_4096_packets_doorbell")
        r.doorbellsPer4096Polling = value(ping, "channel_doorbells_per_4096_packets_polling")
        s.send("shutdown\r")
        return r
    }

    /// The emulated NS16550's cost seen from inside a guest (riscv64): one LSR poll and one THR
    /// write, medians in instructions, round trip through the hypervisor's trap fast path.
    public static func runUART(_ builder: Builder, _ arch: Arch, _ images: Images) throws -> UARTBenchResult {
        guard arch == .riscv64 else { throw BuildError("the emulated NS16550 exists on riscv64 only so far") }
        var o = EmulatorOptions()
        o.smp = 2
        o.icount = true
        o.bundle = try builder.bundle(config: builder.root.appendingPathComponent("configs/bench/riscv64-uart.toml"),
                                      images: images, arch: arch)
        let s = try ConsoleSession.boot(arch, images, options: o)
        defer { s.terminate() }
        try s.expect("rumkv> ", timeout: 120)
        let text = try backlog(s, "uart", until: "BENCH uart_done", timeout: 120)
        var r = UARTBenchResult()
        r.pollInstructions = value(text, "uart_poll_instructions")
        r.putcInstructions = value(text, "uart_putc_instructions")
        r.lineSeen = text.contains("uartbench: 64 characters through THR")
        s.send("shutdown\r")
        return r
    }

    /// Attaches to `guest`'s console once and reads (backlog, then live output)
    /// through the line holding `marker`, then detaches. One attach: console
    /// traffic while a benchmark runs would land in its numbers.
    static func backlog(_ s: ConsoleSession, _ guest: String, until marker: String, timeout: TimeInterval) throws -> String {
        s.send("console \(guest)\r")
        try s.expect("Ctrl-] returns to rumkv>]", timeout: 30)
        var text = try s.expect(marker, timeout: timeout)
        text += try s.expect("\n", timeout: 30)
        s.send("\u{1D}")
        try s.expect("[detached]", timeout: 30)
        try s.expect("rumkv> ", timeout: 30)
        return text.replacingOccurrences(of: "\r", with: "")
    }

    /// The number of the guest's `BENCH key=N` line in `text` (0 if missing).
    static func value(_ text: String, _ key: String) -> UInt64 {
        for line in text.components(separatedBy: "\n") where line.hasPrefix("BENCH \(key)=") {
            return UInt64(line.dropFirst("BENCH \(key)=".count)) ?? 0
        }
        return 0
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
