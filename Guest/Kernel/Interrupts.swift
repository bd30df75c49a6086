// Interrupts: what the kernel does when the port's trap handler takes one.
//
// The handler runs on whatever stack it interrupted, between any two
// instructions of a fiber, so it only records: it posts `Event` bits that
// the scheduler turns into wake-ups between fibers (Scheduler.deliver).
// For an external interrupt it claims each pending source from the guest's
// virtual interrupt controller (through the port: a PLIC on riscv64, whose
// registers only the port knows), acknowledges the device that raised it so
// its level drops, stamps the time for the latency benchmark, and completes
// the source, which lets Rumkv unmask it (docs/design/005-interrupt-routing.md). A doorbell carries no data: the
// port clears the pending bit and posts `Event.doorbell`. What the handler
// reads is set up before the source is enabled and never changes after.

/// Bits of the event word the handler posts and the scheduler takes.
enum Event {
    /// A channel's peer rang (or a peer's state changed: the hypervisor rings then too).
    static let doorbell: UInt64 = 1 << 0
    static let timer: UInt64 = 1 << 1
    /// The device in slot `slot` of the device table interrupted.
    static func device(_ slot: Int) -> UInt64 { 1 << UInt64(8 + slot) }
}

/// When an interrupt reached the handler.
struct InterruptStamp {
    var ticks: UInt64 = 0
    var instructions: UInt64 = 0
}

/// What the handler needs per device slot: its source and the register to acknowledge.
struct InterruptLine {
    var irq: UInt32 = 0
    /// Interrupt-acknowledge register (virtio-mmio InterruptACK; the status is 4 bytes below), 0 if none.
    var ack: UInt64 = 0
    /// The latest interrupt of this slot.
    var stamp = InterruptStamp()
}

struct InterruptTable {
    var lines: InlineArray<8, InterruptLine> = .init(repeating: InterruptLine())
}

nonisolated(unsafe) var interruptTable = InterruptTable()

enum Interrupts<P: GuestPort> {
    /// Routes slot `slot`'s source to this vCPU. The handler will acknowledge
    /// through `ack` (0: nothing to acknowledge).
    static func route(slot: Int, irq: UInt32, ack: UInt64) {
        guard irq > 0, irq < 1024, slot < 8 else { return }
        interruptTable.lines[slot] = InterruptLine(irq: irq, ack: ack)
        P.interruptSource(irq, enabled: true)
    }

    /// Stops slot `slot`'s source from interrupting (its device is being reset).
    static func unroute(slot: Int) {
        let irq = interruptTable.lines[slot].irq
        guard irq > 0 else { return }
        P.interruptSource(irq, enabled: false)
        interruptTable.lines[slot] = InterruptLine()
    }

    /// An external interrupt: claim, acknowledge, stamp, post, complete, until nothing is pending.
    static func external(_ stamp: InterruptStamp) {
        while true {
            let irq = P.interruptClaim()
            if irq == 0 { return }
            for slot in 0..<8 where interruptTable.lines[slot].irq == irq {
                let ack = interruptTable.lines[slot].ack
                if ack != 0 { P.write32(ack, P.read32(ack - 4)) }
                interruptTable.lines[slot].stamp = stamp
                P.postEvents(Event.device(slot))
            }
            P.interruptComplete(irq)
        }
    }
}
