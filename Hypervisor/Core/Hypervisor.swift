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
        banner(platform)
        Shell<A>.run(platform)
    }

    /// The boot banner: architecture, extension, CPUs, memory.
    public static func banner(_ platform: Platform) {
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

extension Hypervisor where A: GuestHosting {
    /// Boots with the guests of `bundle`: sets up the machine, starts the
    /// autostart guests and the other CPUs, then runs this CPU's scheduler.
    public static func startWithGuests(_ platform: Platform, bundle: BundleView, bootCPU: Int) -> Never {
        banner(platform)
        if let reason = Machine<A>.boot(platform, bundle: bundle, bootCPU: bootCPU) { refuse(reason) }
        let m = Machine<A>.shared
        m.pointee.cpuOnline[bootCPU] = true
        Out<A>.str("guests: "); Out<A>.dec(m.pointee.guestCount); Out<A>.line(" in the boot bundle")
        for g in 0..<m.pointee.guestCount where m.pointee.guests[g].flags.contains(.autostart) {
            BigLock<A>.acquire()
            do {
                try m.pointee.create(g)
                BigLock<A>.release()
                GuestCommands<A>.done(g, "started")
            } catch {
                BigLock<A>.release()
                if error == .refused { GuestCommands<A>.refusedLine(g) } else { GuestCommands<A>.fail(g, error.reason) }
            }
        }
        for i in 0..<min(platform.cpuCount, Platform.cpuIDCapacity, Machine<A>.maxCPUs) where i != bootCPU {
            let top = HostPhysicalAddress(m.pointee.cpuStacks[i]).adding(UInt64(Machine<A>.stackPages) * PageAllocator.pageSize)
            if !A.startSecondary(i, hardwareID: platform.cpuIDs[i], stack: top) {
                Out<A>.str("warning: cpu "); Out<A>.dec(i); Out<A>.line(" did not start; its guests share the others")
            }
        }
        Shell<A>.prompt()
        Scheduler<A>.runCPU(bootCPU)
    }

    /// Where a secondary CPU enters the core once its port set it up: it is
    /// marked online (after the port's per-CPU interrupt setup) and runs guests.
    public static func secondaryStarted(_ index: Int) -> Never {
        let m = Machine<A>.shared
        BigLock<A>.acquire()
        A.cpuReady(index)
        m.pointee.cpuOnline[index] = true
        BigLock<A>.release()
        Scheduler<A>.runCPU(index)
    }
}
