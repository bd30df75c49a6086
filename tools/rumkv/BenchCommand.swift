// BenchCommand: `rumkv bench`, print the hypervisor's benchmark numbers.

import ArgumentParser
import Foundation
import RumkvBuild

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench",
        abstract: "Measure hypercall, timer, restart, device interrupt, channel and emulated UART costs under QEMU -icount (deterministic).")

    @Option(help: "Architecture: riscv64, aarch64 or x86_64 (Bochs: hypercall, timer, restart and image only).")
    var arch: String = "riscv64"

    func run() throws {
        guard let a = Arch.parse(arch) else { throw ValidationError("unknown architecture '\(arch)'") }
        let builder = try Builder(root: try repositoryRoot())
        let images = try builder.build(a, variant: .release)
        if a == .x86_64 {
            print("rumkv bench (x86_64, Bochs; counts are TSC ticks, which Bochs advances by emulated instructions)")
            print(try Bench.run(builder, a, images).report)
            print("device and channel benchmarks: not on x86_64 yet (no device passthrough there)")
            return
        }
        print("rumkv bench (\(a.rawValue), QEMU -icount shift=0)")
        print(try Bench.run(builder, a, images).report)
        print(try Bench.runIO(builder, a, images).report)
        if a == .riscv64 { print(try Bench.runUART(builder, a, images).report) }
    }
}
