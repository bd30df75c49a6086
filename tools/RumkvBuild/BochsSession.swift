// BochsSession: x86_64 console sessions under Bochs, whose VMX emulation QEMU lacks.
//
// Bochs has no -kernel and no serial-on-stdio: it boots the GRUB ISO from an
// emulated CD, and its COM1 connects as a TCP client to a loopback port this
// process listens on first (BochsBridge.swift). The link feeds the session's
// transcript (tests), the user's terminal or a console socket (`rumkv run`).
// Every line of `configuration` was needed (shared/docs/platforms.md): Debian's
// Bochs starts in its debugger (dbg.rc continues, then quits when the machine
// stops), has no headless display (SDL2 with the dummy video driver), aborts
// without a dummy sound driver, and resets on a triple fault unless told not
// to (a reset reboots into GRUB: a hang, never a false pass). Bochs's exit
// status is no verdict: "Shutdown" on port 0x8900 exits 1 after a clean
// power-off, so runs are judged by the transcript.

import Foundation

enum BochsSession {
    static let bios = "/usr/share/bochs/BIOS-bochs-latest"
    static let vgaBIOS = "/usr/share/vgabios/vgabios.bin"
    /// VMX with EPT and unrestricted guest.
    static let vmxModel = "corei7_skylake_x"
    /// A 64-bit CPU without VMX (AMD K8 "ClawHammer": no VMX, no SVM).
    static let plainModel = "athlon64_clawhammer"
    /// Instructions per emulated second. Low values make the BIOS's and GRUB's
    /// timed waits cheap (about 1 s to the prompt with one CPU, 2-3 s with
    /// two, against 4 s and more at 100 M); Rumkv measures its TSC against the
    /// PIT, so nothing in the hypervisor depends on the value.
    static let instructionsPerSecond = 10_000_000

    /// The bochsrc booting `iso` with COM1 connecting to `port`. Bochs allocates
    /// at most 2048 MiB of host memory (`megs` above that is refused); the
    /// guest size may be larger. The Bochs BIOS reports RAM below 3 GiB only.
    static func configuration(_ o: EmulatorOptions, iso: URL, port: UInt16, log: URL) -> String {
        """
        memory: guest=\(o.memoryMiB), host=\(min(o.memoryMiB, 2048))
        romimage: file=\(bios)
        vgaromimage: file=\(vgaBIOS)
        cpu: model=\(o.withoutVirtualization ? plainModel : vmxModel), count=\(o.smp), ips=\(instructionsPerSecond), reset_on_triple_fault=0
        ata0-master: type=cdrom, path="\(iso.path)", status=inserted
        boot: cdrom
        com1: enabled=1, mode=socket-client, dev=127.0.0.1:\(port)
        display_library: sdl2
        sound: driver=dummy
        speaker: enabled=0
        mouse: enabled=0
        log: \(log.path)

        """
    }

    /// Writes bochsrc and dbg.rc into a fresh temporary directory, listens for
    /// COM1 and runs Bochs on `process` (not yet started). With a boot bundle
    /// in `o`, a per-run ISO carries it as the module instead of Rumpk alone.
    /// Bochs's own output goes to bochs.out beside bochs.log there.
    static func start(_ images: Images, _ o: EmulatorOptions, on process: Process) throws -> (SerialLink, URL) {
        let bochs = try Emulator.locate(.x86_64)
        for f in [bios, vgaBIOS] where !FileManager.default.fileExists(atPath: f) {
            throw BuildError("\(f) is missing (install the Debian packages 'bochsbios' and 'vgabios')")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rumkv-bochs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let iso: URL
        if let bundle = o.bundle {
            iso = try PostLink.makeISO(hypervisor: images.hypervisor, module: bundle, output: dir.appendingPathComponent("rumkv.iso"))
        } else if let medium = images.bootMedium {
            iso = medium
        } else {
            throw BuildError("x86_64 boots from the GRUB ISO, which was not built")
        }
        let rc = dir.appendingPathComponent("bochsrc"), dbg = dir.appendingPathComponent("dbg.rc")
        let out = dir.appendingPathComponent("bochs.out")
        let link = try SerialLink.make()
        try Data(configuration(o, iso: iso, port: link.port, log: dir.appendingPathComponent("bochs.log")).utf8).write(to: rc)
        try Data("continue\nquit\n".utf8).write(to: dbg)
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        defer { try? outHandle.close() }

        process.executableURL = URL(fileURLWithPath: bochs)
        process.arguments = ["-q", "-f", rc.path, "-rc", dbg.path] + o.extra
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["SDL_VIDEODRIVER"] = "dummy"
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = outHandle
        do { try process.run() } catch {
            link.shutDown()
            throw BuildError("cannot start \(bochs): \(error.localizedDescription)")
        }
        return (link, dir)
    }

    /// RUMKV_KEEP_BOCHS=1 keeps the temporary directory (bochsrc, bochs.log, bochs.out).
    static var keepFiles: Bool { ProcessInfo.processInfo.environment["RUMKV_KEEP_BOCHS"] != nil }

    /// Boots under Bochs with the console bridged into a `ConsoleSession`.
    static func boot(_ images: Images, options: EmulatorOptions) throws -> ConsoleSession {
        let s = ConsoleSession(arch: .x86_64)
        let (link, dir) = try start(images, options, on: s.process)
        if !keepFiles { s.cleanup.append(dir) }
        s.socketWriter = { link.send($0) }
        let process = s.process
        Thread.detachNewThread { [weak s] in
            link.pump(while: { process.isRunning }) { s?.append($0) }
        }
        return s
    }
}

extension BochsSession {
    /// Boots under Bochs with the console on the user's terminal (raw mode;
    /// Ctrl-A x stops Bochs) or, with `consoleSocket`, on a Unix socket for
    /// `rumkv ctl`, until Bochs exits. Returns 0 after a clean `shutdown` or a
    /// user stop, 1 after a refusal or a fatal trap, else Bochs's status.
    static func runInteractive(_ images: Images, options: EmulatorOptions) throws -> Int32 {
        let p = Process()
        let (link, dir) = try start(images, options, on: p)
        defer { if !keepFiles { try? FileManager.default.removeItem(at: dir) } }
        let model = options.withoutVirtualization ? plainModel : vmxModel
        let tail = TailBuffer()
        var userStopped = false
        if let path = options.consoleSocket {
            let server = try ConsoleSocketServer(path: path)
            defer { server.close() }
            note("rumkv: booting x86_64 under Bochs (\(model)); console on \(path) (use `rumkv ctl --socket \(path) ...`)\n")
            Thread.detachNewThread {
                link.pump(while: { p.isRunning }) { tail.add($0); server.deliver($0) }
            }
            server.serve(while: { p.isRunning }) { link.send($0) }
        } else {
            note("rumkv: booting x86_64 under Bochs (\(model)); type `shutdown` at rumkv> or press Ctrl-A x to stop Bochs\n")
            Thread.detachNewThread {
                link.pump(while: { p.isRunning }) { tail.add($0); FileHandle.standardOutput.write($0) }
            }
            userStopped = Terminal.bridge(while: { p.isRunning }) { link.send($0) }
            if userStopped { p.terminate() }
            note("\n")
        }
        p.waitUntilExit()
        usleep(100_000)
        let text = tail.text
        if text.contains("cannot run:") || text.contains("system halted") { return 1 }
        if userStopped || text.contains("rumkv: powering off") { return 0 }
        return p.terminationStatus
    }

    static func note(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
