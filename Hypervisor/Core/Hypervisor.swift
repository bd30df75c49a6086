// Hypervisor: the portable core's entry, instantiated once per architecture.
//
// An architecture's boot code discovers the machine, checks its virtualization
// extension and then calls `Hypervisor<ThatArch>.start(platform)`. Missing
// prerequisites end in `refuse(_:)`: one line naming the reason, then power-off
// (never a silent hang). Fatal traps end in `fatal()` after the port printed
// its register dump.

public enum RumkvVersion {
    public static let string: StaticString = "0.1.0"
}

import RumABI

public enum Hypervisor<A: Architecture> {
    /// Prints the banner and runs the console. Never returns.
    public static func start(_ platform: Platform) -> Never {
        Out<A>.byte(10)
        Out<A>.str("Rumkv "); Out<A>.str(RumkvVersion.string); Out<A>.str(" (")
        Out<A>.str(A.name); Out<A>.line(") - Type-1 hypervisor")
        Out<A>.str("virtualization: "); Out<A>.str(platform.virtualization)
        Out<A>.str(" ("); Out<A>.str(platform.virtualizationDetail)
        if let v = platform.detailValue {
            Out<A>.str(", "); Out<A>.str(platform.detailLabel); Out<A>.str(" "); Out<A>.dec(v)
        }
        Out<A>.line(")")
        Out<A>.str("cpus: "); Out<A>.dec(platform.cpuCount)
        Out<A>.str("  memory: "); Out<A>.size(platform.memory.totalRAM)
        Out<A>.str("  free: "); Out<A>.size(platform.memory.totalFree)
        Out<A>.byte(10)
        Out<A>.line("type 'help' for commands")
        Shell<A>.run(platform)
    }

    public static func version() {
        Out<A>.str("Rumkv "); Out<A>.str(RumkvVersion.string)
        Out<A>.str(" arch "); Out<A>.str(A.name)
        Out<A>.str(" abi "); Out<A>.dec(UInt64(ABIRevision.current))
        #if RUMKV_TEST
        Out<A>.str(" (test build)")
        #endif
        Out<A>.byte(10)
    }

    /// Stops with a reason when the machine cannot host guests.
    public static func refuse(_ reason: StaticString) -> Never {
        Out<A>.byte(10)
        Out<A>.str("rumkv: cannot run: "); Out<A>.line(reason)
        Out<A>.line("rumkv: powering off")
        A.powerOff()
    }

    /// Ends the system after an unrecoverable hypervisor fault.
    public static func fatal() -> Never {
        Out<A>.line("rumkv: fatal trap in the hypervisor; system halted")
        A.powerOff()
    }
}
