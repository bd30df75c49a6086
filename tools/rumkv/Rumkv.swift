// rumkv: the host command for building, running and managing Rumkv.
//
// Subcommands: build (bare-metal images), run (boot under the emulator and
// attach the terminal to the console), version, and the NPL tools.

import ArgumentParser
import Foundation
import RumkvBuild

@main
struct RumkvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rumkv",
        abstract: "Build, boot and manage the Rumkv hypervisor and its Rumpk guests.",
        subcommands: [BuildCommand.self, RunCommand.self, CtlCommand.self, BenchCommand.self, BundleCommand.self, CheckConfigCommand.self, SoakCommand.self,
                      DTBCommand.self, KeygenCommand.self, SignCommand.self, InspectCommand.self, VersionCommand.self])
}

/// Parses --arch values, naming the accepted ones on error.
struct ArchOption: ExpressibleByArgument {
    let arches: [Arch]
    init?(argument: String) {
        if argument == "all" { arches = Arch.allCases; return }
        guard let a = Arch.parse(argument) else { return nil }
        arches = [a]
    }
    static var allValueStrings: [String] { Arch.allCases.map(\.rawValue) + ["all"] }
}

func repositoryRoot() throws -> URL {
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    if let r = Builder.findRoot(from: cwd) { return r }
    if let r = Builder.findRoot(from: URL(fileURLWithPath: #filePath)) { return r }
    throw ValidationError("cannot find the Rumkv repository (run rumkv from inside it)")
}

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build",
        abstract: "Build the hypervisor and guest images for one architecture or all.")

    @Option(help: "Architecture: riscv64, aarch64, x86_64 or all.")
    var arch: ArchOption = ArchOption(argument: "all")!

    @Flag(help: "Build the test variant (adds test-only console commands).")
    var test = false

    @Flag(name: .shortAndLong, help: "Print every tool invocation.")
    var verbose = false

    func run() throws {
        let builder = try Builder(root: try repositoryRoot(), verbose: verbose)
        for a in arch.arches {
            let images = try builder.build(a, variant: test ? .test : .release)
            let size = (try? FileManager.default.attributesOfItem(atPath: images.hypervisor.path)[.size] as? Int) ?? 0
            print("\(a.rawValue): \(images.hypervisor.path) (\(size) bytes), \(images.guest.lastPathComponent)"
                  + (images.bootMedium.map { ", \($0.lastPathComponent)" } ?? ""))
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the rumkv version.")
    func run() { print("rumkv \(RumkvBuild.version)") }
}
