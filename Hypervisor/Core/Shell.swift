// Shell: the hypervisor's own console, `rumkv>`.
//
// Reads lines from the console UART through `LineEditor`, splits them into
// `Words` and runs one command per line. Every mistake (unknown command, wrong
// number of arguments, bad value) prints exactly one `error:` line and the
// prompt comes back. The command set grows with later subsystems; each command
// is a function here or in the subsystem that owns it.

public enum Shell<A: Architecture> {
    public enum Echo: EchoSink {
        public static func echo(_ byte: UInt8) { A.consoleWrite(byte) }
    }

    public static func prompt() { Out<A>.str("rumkv> ") }

    /// Runs the console loop forever (ports that do not host guests yet).
    public static func run(_ platform: Platform) -> Never {
        var editor = LineEditor<Echo>()
        prompt()
        while true {
            guard let b = A.consoleRead() else { A.relax(); continue }
            feed(b, &editor, platform) { _ in false }
        }
    }

    /// Feeds one typed byte; runs a completed line. `extra` gets the words of
    /// lines the base shell does not know and returns true if it ran them.
    /// `promptAfter` says whether the shell still owns the console afterwards
    /// (not after `console <guest>` attached it to a guest).
    public static func feed(_ b: UInt8, _ editor: inout LineEditor<Echo>, _ platform: Platform,
                            extra: (Words) -> Bool, promptAfter: () -> Bool = { true }) {
        switch editor.feed(b) {
        case .pending:
            return
        case .line:
            editor.withLine { execute($0, platform, extra: extra) }
        case .overflow:
            Out<A>.str("error: line too long (at most ")
            Out<A>.dec(LineEditor<Echo>.capacity)
            Out<A>.line(" characters); line discarded")
        case .cancelled:
            break
        }
        if promptAfter() { prompt() }
    }

    /// Runs one command line.
    public static func execute(_ line: UnsafeBufferPointer<UInt8>, _ platform: Platform,
                               extra: (Words) -> Bool = { _ in false }) {
        let w = Words(line)
        if w.count == 0 { return }
        if w.word(0, is: "help") { if noArgs(w) { help() } }
        else if w.word(0, is: "version") { if noArgs(w) { Hypervisor<A>.version() } }
        else if w.word(0, is: "cpus") { if noArgs(w) { cpus(platform) } }
        else if w.word(0, is: "mem") { if noArgs(w) { mem(platform) } }
        else if w.word(0, is: "shutdown") { if noArgs(w) { shutdown() } }
        else if testCommand(w) { }
        else if extra(w) { }
        else {
            Out<A>.str("error: unknown command '")
            Out<A>.printable(w[0])
            Out<A>.line("' (type 'help' for the list)")
        }
    }

    static func noArgs(_ w: Words) -> Bool {
        guard w.count > 1 else { return true }
        Out<A>.str("error: '")
        Out<A>.printable(w[0])
        Out<A>.line("' takes no arguments")
        return false
    }

    static func help() {
        Out<A>.line("commands:")
        Out<A>.line("  help       this list")
        Out<A>.line("  version    hypervisor version, architecture and ABI revision")
        Out<A>.line("  cpus       CPUs found and the boot CPU")
        Out<A>.line("  mem        memory map: RAM, hypervisor image, reserved, free")
        Out<A>.line("  shutdown   power the machine off")
        GuestHelp<A>.print()
        #if RUMKV_TEST
        Out<A>.line("  trap       (test build) raise an unexpected exception")
        #endif
        Out<A>.line("keys: Backspace erases, Ctrl-U clears the line, Ctrl-C cancels it")
    }

    static func cpus(_ p: Platform) {
        Out<A>.str("cpus: "); Out<A>.dec(p.cpuCount)
        Out<A>.str(" (boot cpu "); Out<A>.dec(p.bootCPU); Out<A>.line(")")
        for i in 0..<min(p.cpuCount, Platform.cpuIDCapacity) {
            Out<A>.str("  cpu "); Out<A>.dec(i)
            Out<A>.str("  id "); Out<A>.hex(p.cpuIDs[i], digits: 8)
            if p.cpuIDs[i] == p.bootCPU { Out<A>.str("  boot") }
            Out<A>.byte(10)
        }
        if p.cpuCount > Platform.cpuIDCapacity {
            Out<A>.str("  ... and "); Out<A>.dec(p.cpuCount - Platform.cpuIDCapacity); Out<A>.line(" more")
        }
    }

    static func mem(_ p: Platform) {
        let m = p.memory
        Out<A>.str("ram:      "); Out<A>.size(m.totalRAM); Out<A>.str(" in ")
        Out<A>.dec(m.ramCount); Out<A>.line(m.ramCount == 1 ? " range" : " ranges")
        for i in 0..<m.ramCount { range(m.ramRange(i), "ram") }
        for i in 0..<m.reservedCount {
            let (r, kind) = m.reservedRange(i)
            range(r, kind.label)
        }
        m.forEachFree { range($0, "free") }
        Out<A>.str("free:     "); Out<A>.size(m.totalFree); Out<A>.byte(10)
        if m.dropped > 0 {
            Out<A>.str("warning: "); Out<A>.dec(m.dropped); Out<A>.line(" firmware ranges did not fit the table")
        }
    }

    static func range(_ r: PhysicalRange, _ label: StaticString) {
        Out<A>.str("  "); Out<A>.hex(r.base, digits: 12); Out<A>.str("-"); Out<A>.hex(r.end, digits: 12)
        Out<A>.str("  "); Out<A>.str(label)
        Out<A>.pad(label.utf8CodeUnitCount, to: 12)
        Out<A>.size(r.size); Out<A>.byte(10)
    }

    static func shutdown() {
        Out<A>.line("rumkv: powering off")
        A.powerOff()
    }

    /// Commands that exist only in test builds (`rumkv build --test`).
    static func testCommand(_ w: Words) -> Bool {
        #if RUMKV_TEST
        if w.word(0, is: "trap") {
            if noArgs(w) {
                Out<A>.line("rumkv: raising a test exception")
                A.provokeTrap()
                Out<A>.line("error: the test exception did not trap")
            }
            return true
        }
        #endif
        return false
    }
}
