// BochsSession: x86_64 console sessions under Bochs (filled in by the x86 port).
import Foundation

enum BochsSession {
    static func boot(_ images: Images, options: EmulatorOptions) throws -> ConsoleSession {
        throw BuildError("x86_64 under Bochs is not wired up yet")
    }
}
extension BochsSession {
    static func runInteractive(_ images: Images, options: EmulatorOptions) throws -> Int32 {
        throw BuildError("x86_64 under Bochs is not wired up yet")
    }
}
