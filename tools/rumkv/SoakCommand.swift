// SoakCommand: `rumkv soak fuzz` and `rumkv soak restart` (RumkvBuild/Soak.swift).

import ArgumentParser
import Foundation
import RumkvBuild

struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "soak",
        abstract: "Long hostile runs: a hypercall fuzzer or a crash-restart loop beside two guests; fails on any defect.",
        subcommands: [Fuzz.self, Restart.self])

    struct Fuzz: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Random hypercalls from a seeded generator (configs/soak/<arch>-fuzz.toml); fails if the hypervisor traps, another guest stalls or the console stops answering.")
        @Option(help: "Architecture: riscv64 or aarch64.") var arch: String = "riscv64"
        @Option(help: "Calls to make (rounded up to the fuzzer's rounds of 10,000).") var calls: Int = 1_000_000

        func run() throws {
            guard let a = Arch.parse(arch) else { throw ValidationError("unknown architecture '\(arch)'") }
            guard calls > 0 else { throw ValidationError("--calls must be positive") }
            let builder = try Builder(root: try repositoryRoot())
            let r = try Soak.fuzz(builder, a, try builder.build(a, variant: .release), calls: calls)
            print(r.report)
            if !r.passed { throw ExitCode.failure }
        }
    }

    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Crash-restart cycles of one guest (configs/soak/<arch>-restart.toml); fails if memory does not come back, restarts stall or another guest suffers.")
        @Option(help: "Architecture: riscv64 or aarch64.") var arch: String = "riscv64"
        @Option(help: "Crash-restart cycles.") var cycles: Int = 1000

        func run() throws {
            guard let a = Arch.parse(arch) else { throw ValidationError("unknown architecture '\(arch)'") }
            guard cycles > 0 else { throw ValidationError("--cycles must be positive") }
            let builder = try Builder(root: try repositoryRoot())
            let r = try Soak.restart(builder, a, try builder.build(a, variant: .release), cycles: cycles)
            print(r.report)
            if !r.passed { throw ExitCode.failure }
        }
    }
}
