// DTBCommand: `rumkv dtb`, the device tree a Linux-style guest will be handed.
//
// Generates the tree exactly as `rumkv bundle` puts it into the bundle
// (GuestDeviceTree) and prints it decoded by libfdt, or writes the blob for
// dtc (`dtc -I dtb -O dts FILE`).

import ArgumentParser
import Foundation
import RumkvBuild

struct DTBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dtb",
        abstract: "Print (or write with -o) the device tree of a boot = \"linux\" guest of a partition config.")

    @Argument(help: "The partition config (see docs/config.md).")
    var config: String

    @Argument(help: "The guest's name.")
    var guest: String

    @Option(name: .shortAndLong, help: "Write the binary tree (DTB) to this file instead of printing it.")
    var output: String?

    func run() throws {
        let partition = try loadConfig(URL(fileURLWithPath: config))
        guard let g = partition.guests.first(where: { $0.name == guest }) else {
            throw ValidationError("no guest '\(guest)' in \(config) (guests: \(partition.guests.map(\.name).joined(separator: ", ")))")
        }
        guard g.boot == .linux else { throw ValidationError("guest '\(guest)' boots as \(g.boot.rawValue): it gets a SysTable, not a device tree") }
        let blob = try GuestDeviceTree.make(g, arch: partition.arch)
        if let output {
            try blob.write(to: URL(fileURLWithPath: output))
            print("\(output): \(blob.count) bytes")
        } else {
            print(try GuestDeviceTree.render(blob), terminator: "")
        }
    }
}
