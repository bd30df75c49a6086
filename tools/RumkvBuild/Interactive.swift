// Interactive: boots an image with the user's terminal attached to its console.
//
// QEMU runs with -nographic: the console and QEMU's monitor share the terminal
// (Ctrl-A x quits QEMU, Ctrl-A c toggles the monitor). Bochs has no such mode;
// its serial port is bridged to the terminal by BochsSession.

import Foundation

extension Emulator {
    /// Runs the emulator in the foreground until it exits; returns its status.
    public static func runInteractive(_ arch: Arch, _ images: Images, _ o: EmulatorOptions) throws -> Int32 {
        try validate(o)
        switch arch {
        case .riscv64, .aarch64:
            let path = try locate(arch)
            let args = qemuArguments(arch, images, o, interactive: true)
            if let sock = o.consoleSocket {
                FileHandle.standardError.write(Data("rumkv: booting \(arch.rawValue) under QEMU; console on \(sock) (use `rumkv ctl --socket \(sock) ...`)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("rumkv: booting \(arch.rawValue) under QEMU (Ctrl-A x quits QEMU; `shutdown` powers off)\n".utf8))
            }
            // QEMU replaces this process, so it owns the terminal (a child in
            // another process group would be stopped by SIGTTIN on its first read).
            let argv = ([path] + args).map { strdup($0) } + [nil]
            execv(path, argv)
            throw BuildError("cannot start \(path): \(String(cString: strerror(errno)))")
        case .x86_64:
            return try BochsSession.runInteractive(images, options: o)
        }
    }
}
