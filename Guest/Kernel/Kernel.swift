// Kernel: Rumpk's portable entry, generic over the guest port.
//
// Rumpk is a single-address-space unikernel that runs as a Rumkv guest. The
// port's assembly entry calls `Rumpk<Port>.main` with the SysTable address
// the hypervisor passed. The kernel checks the SysTable (magic, revision,
// size) and refuses to run on a mismatch, prints its one ready line (the
// silence doctrine), runs a hostile test payload if the SysTable asks for
// one, and then becomes the fiber scheduler (Boot.swift): a heartbeat fiber
// (a line every half second of guest time when verbose), when the
// hypervisor provided a payload store the shell and exec fibers that run
// signed payloads, and for passed-through devices and channels the virtio
// drivers and one ping/pong fiber per channel.

import RumABI
import CRumpk

/// What Rumpk needs from the machine it runs on (a guest port).
public protocol GuestPort {
    /// Architecture name for the ready line.
    static var name: StaticString { get }
    /// The NPL arch byte of this architecture (payloads must carry it).
    static var nplArch: UInt8 { get }
    /// Writes bytes to the guest console (a hypercall on every port).
    static func consoleWrite(_ bytes: UnsafeRawBufferPointer)
    /// Stops this guest for good: code 0 is a clean shutdown, others a crash.
    static func exit(_ code: UInt64) -> Never
    /// The guest's time counter.
    static func counter() -> UInt64
    /// Sleeps until the counter reaches `deadline` (timer + wait for interrupt).
    static func sleep(until deadline: UInt64)
    /// Arms the guest timer for `deadline` (UInt64.max disarms).
    static func setTimer(_ deadline: UInt64)
    /// Installs the guest's own trap handler (faults are reported, then exit).
    static func installTrapHandler()
    /// Points the payload service table's functions at this port's thunks for
    /// `Services<Self>` (a C function pointer cannot be formed in generic code).
    static func fillServices(_ table: inout rum_payload_services_t)
    /// Retired-instruction counter (deterministic under QEMU -icount; 0 where not readable).
    static func instructionsRetired() -> UInt64

    // Devices and channels (docs/design/006-virtio-and-channels.md).

    /// A 32-bit device register (virtio-mmio).
    static func read32(_ address: UInt64) -> UInt32
    static func write32(_ address: UInt64, _ value: UInt32)
    /// Orders memory and device accesses: descriptors before a notify, a used index before its entries.
    static func ioBarrier()
    /// RUM_HC_DOORBELL(n): interrupts the peer of this guest's channel n. Returns the hypercall's error.
    static func doorbell(_ n: UInt64) -> Int64
    /// Turns on the interrupts the kernel handles: device (external) and/or
    /// doorbell (software) interrupts. False if the port has no interrupt
    /// path; the kernel then polls (war mode only).
    static func enableInterrupts(devices: Bool, doorbells: Bool) -> Bool
    /// Sets up the driver of the guest's interrupt controller as the device
    /// table describes it; false if this port does not drive that kind.
    static func interruptControllerStart(_ chip: IRQChip) -> Bool
    /// Enables or disables source `irq` for this vCPU (priority and enable bits).
    static func interruptSource(_ irq: UInt32, enabled: Bool)
    /// Claims the highest-priority pending source; 0 if none.
    static func interruptClaim() -> UInt32
    /// Completes a claimed source (the hypervisor may then unmask it).
    static func interruptComplete(_ irq: UInt32)
    /// Records events from the interrupt handler (`Event` bits).
    static func postEvents(_ bits: UInt64)
    /// Takes and clears the events posted since the last call.
    static func takeEvents() -> UInt64
    /// Waits until the counter reaches `deadline` or an event is posted, whichever comes first.
    static func idle(until deadline: UInt64)
}

public enum Rumpk<P: GuestPort & HostilePort> {
    public static func main(sysTable address: UInt64) -> Never {
        P.installTrapHandler()
        guard let t = validSysTable(address) else {
            say("rumpk: no valid SysTable at "); hex(address); say(": refusing to run\n")
            P.exit(1)
        }
        let table = t.pointee
        Console<P>.prefix(t); say("ready ("); say(P.name); say(", abi "); dec(UInt64(table.revision))
        say(", restarts "); dec(UInt64(table.restart_count)); say(")\n")
        if table.test_payload != 0 { Hostile<P>.run(UInt64(table.test_payload), t) }
        Boot<P>.start(t)
    }

    /// Where every fiber starts (the port's `rumpk_fiber_entry` calls it): runs the fiber's body, then exits it.
    public static func fiberMain() -> Never {
        let fiber = fiberTable.fibers[Scheduler<P>.current]
        switch fiber.body {
        case .heartbeat: Boot<P>.heartbeat()
        case .shell: Shell<P>.run(); kernel.shellFiber = -1     // its slot may be reused: nobody unparks it by index
        case .exec: Exec<P>.run(); kernel.execFiber = -1
        case .payload: Scheduler<P>.exit(rumpk_payload_call(fiber.arg, kernel.services))
        case .devices: Devices<P>.run()
        case .channel: Channels<P>.run(Int(fiber.arg))
        }
        Scheduler<P>.exit(0)
    }

    /// The SysTable, if the address holds one this kernel understands.
    static func validSysTable(_ address: UInt64) -> UnsafePointer<SysTable>? {
        guard address != 0, address & 7 == 0,
              let p = UnsafePointer<SysTable>(bitPattern: UInt(address)) else { return nil }
        guard p.pointee.magic == RUM_SYSTABLE_MAGIC,
              UInt32(p.pointee.revision) == RUM_ABI_REVISION,
              Int(p.pointee.size) == MemoryLayout<SysTable>.size else { return nil }
        return p
    }

    public static func say(_ s: StaticString) { Console<P>.say(s) }
    public static func dec(_ v: UInt64) { Console<P>.dec(v) }
    public static func hex(_ v: UInt64) { Console<P>.hex(v) }
}
