// CtlCommand: `rumkv ctl`, the console commands from scripts.

import ArgumentParser
import Foundation
import RumkvBuild

struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ctl",
        abstract: "Run one hypervisor console command over the console socket.",
        discussion: """
            Start the hypervisor with `rumkv run --console-socket PATH`, then e.g.
              rumkv ctl --socket PATH list --json
              rumkv ctl --socket PATH restart beta
            The exit status is 1 when the hypervisor answers with an error line.
            """)

    @Option(help: "The console socket given to `rumkv run --console-socket`.")
    var socket: String

    @Flag(help: "Print the reply as JSON.")
    var json = false

    @Option(help: "Seconds to wait for the reply.")
    var timeout: Double = 10

    @Argument(parsing: .captureForPassthrough, help: "The console command and its arguments.")
    var command: [String] = []

    func run() throws {
        var words = command
        var asJSON = json
        if let i = words.firstIndex(of: "--json") { words.remove(at: i); asJSON = true }
        guard !words.isEmpty else { throw ValidationError("name a console command, e.g. `list`") }
        let line = words.joined(separator: " ")
        let client = try ControlClient(socketPath: socket)
        let reply = try client.run(line, timeout: timeout)
        let err = ConsoleParser.error(reply)
        if asJSON {
            var obj: [String: Any] = ["command": line, "ok": err == nil, "output": reply]
            if let err { obj["error"] = err }
            if words.first == "list" {
                obj["guests"] = ConsoleParser.guests(reply).map {
                    ["id": $0.id, "name": $0.name, "state": $0.state, "vcpus": $0.vcpus, "cpus": $0.cpus,
                     "memory": $0.memory, "restarts": $0.restarts, "uptime": $0.uptime] as [String: Any]
                }
            }
            if words.first == "info" { obj["exits"] = ConsoleParser.exits(reply) }
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(reply)
        }
        if err != nil { throw ExitCode(1) }
    }
}
