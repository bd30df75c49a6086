// GuestUART: a guest's emulated NS16550, wired to its virtual console.
//
// A Linux-style guest's UART (NS16550.swift) is reached two ways: from the
// exit path (`Exits.mmio`, lock held) and from the port's trap fast path
// (`fastAccess`), which answers a load or store to the UART window without
// going back to the scheduler loop: U-Boot polls LSR millions of times at
// its prompt. Both end here, under the lock: bytes the guest transmits go to
// its backlog and, when attached, to the console (ConsoleService.guestOutput);
// RBR and LSR.DR read the input typed at `console <guest>`.

import RumABI

public enum GuestUART<A: GuestHosting> {
    typealias M = Machine<A>

    /// Guest `g`'s answer to `a` if it falls in its UART window (0 for a store), else nil. Lock held.
    static func access(_ g: Int, _ a: MMIOAccess) -> UInt64? {
        let m = M.shared
        let base = m.pointee.guests[g].config.uart_gpa
        guard m.pointee.guests[g].config.vdevices & RUM_VDEV_NS16550 != 0,
              a.address.value >= base, a.address.value - base < RUM_VUART_SIZE else { return nil }
        let offset = a.address.value - base
        if a.write {
            var sent: UInt8? = nil
            m.pointee.uarts[g].write(offset, UInt8(truncatingIfNeeded: a.value)) { sent = $0 }
            if let b = sent { ConsoleService<A>.guestOutput(g, b) }
            return 0
        }
        return UInt64(m.pointee.uarts[g].read(offset, &m.pointee.consoles[g]))
    }

    /// The UART window of the guest owning vCPU registers `regs`, or nil. Called from a trap
    /// without the lock: it reads only what is fixed at boot (slot owner, bundle config).
    public static func window(of regs: UnsafeMutablePointer<A.VCPURegisters>) -> (slot: Int, base: UInt64)? {
        let m = M.shared
        let slot = regs - m.pointee.regs
        guard slot >= 0, slot < m.pointee.vcpuCount else { return nil }
        let g = m.pointee.vcpus[slot].guest
        guard m.pointee.guests[g].config.vdevices & RUM_VDEV_NS16550 != 0 else { return nil }
        return (slot, m.pointee.guests[g].config.uart_gpa)
    }

    /// The fast path's access: the value to load (0 for a store), or nil if `a` is not in the
    /// UART window of the guest of `slot` (the exit path then decides). Takes the lock.
    public static func fastAccess(slot: Int, _ a: MMIOAccess) -> UInt64? {
        let m = M.shared
        BigLock<A>.acquire()
        let g = m.pointee.vcpus[slot].guest
        let v = access(g, a)
        if v != nil {
            m.pointee.count(.mmio, guest: g, cpu: A.currentCPU())
            m.pointee.uarts[g].fastAccesses &+= 1
        }
        BigLock<A>.release()
        return v
    }
}
