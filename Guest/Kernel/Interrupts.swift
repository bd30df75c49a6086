// Interrupts: what the kernel does when the port's trap handler takes one.
//
// The handler runs on whatever stack it interrupted, between any two
// instructions of a fiber, so it only records: it posts `Event` bits that
// the scheduler turns into wake-ups between fibers (Scheduler.deliver).
// For an external interrupt it claims each pending source from the virtual
// PLIC (context 0 = vCPU 0, the hart Rumpk runs on), acknowledges the device
// that raised it so its level drops, stamps the time for the latency
// benchmark, and completes the source, which lets Rumkv unmask it
// (docs/design/005-interrupt-routing.md). A doorbell carries no data: the
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

/// Register addresses of a virtual PLIC (SiFive layout; context n = vCPU n).
enum PLICRegister {
    static func priority(_ base: UInt64, _ irq: UInt32) -> UInt64 { base + 4 * UInt64(irq) }
    static func enable(_ base: UInt64, _ irq: UInt32) -> UInt64 { base + 0x2000 + UInt64(irq / 32) * 4 }
    static func threshold(_ base: UInt64) -> UInt64 { base + 0x20_0000 }
    static func claim(_ base: UInt64) -> UInt64 { base + 0x20_0004 }
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
    var plic: UInt64 = 0
    var lines: InlineArray<8, InterruptLine> = .init(repeating: InterruptLine())
}

nonisolated(unsafe) var interruptTable = InterruptTable()

enum Interrupts<P: GuestPort> {
    /// Routes slot `slot`'s source to this hart: priority 1, enabled for context 0,
    /// threshold 0. The handler will acknowledge through `ack` (0: nothing to acknowledge).
    static func route(slot: Int, irq: UInt32, ack: UInt64) {
        let plic = interruptTable.plic
        guard plic != 0, irq > 0, irq < 1024, slot < 8 else { return }
        interruptTable.lines[slot] = InterruptLine(irq: irq, ack: ack)
        P.write32(PLICRegister.priority(plic, irq), 1)
        P.write32(PLICRegister.threshold(plic), 0)
        let word = PLICRegister.enable(plic, irq)
        P.write32(word, P.read32(word) | UInt32(1) << (irq % 32))
    }

    /// Stops slot `slot`'s source from interrupting (its device is being reset).
    static func unroute(slot: Int) {
        let plic = interruptTable.plic, irq = interruptTable.lines[slot].irq
        guard plic != 0, irq > 0 else { return }
        let word = PLICRegister.enable(plic, irq)
        P.write32(word, P.read32(word) & ~(UInt32(1) << (irq % 32)))
        interruptTable.lines[slot] = InterruptLine()
    }

    /// An external interrupt: claim, acknowledge, stamp, post, complete, until nothing is pending.
    static func external(_ stamp: InterruptStamp) {
        let plic = interruptTable.plic
        guard plic != 0 else { return }
        while true {
            let irq = P.read32(PLICRegister.claim(plic))
            if irq == 0 { return }
            for slot in 0..<8 where interruptTable.lines[slot].irq == irq {
                let ack = interruptTable.lines[slot].ack
                if ack != 0 { P.write32(ack, P.read32(ack - 4)) }
                interruptTable.lines[slot].stamp = stamp
                P.postEvents(Event.device(slot))
            }
            P.write32(PLICRegister.claim(plic), irq)
        }
    }
}
