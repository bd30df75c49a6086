// GuestReports: what the guest commands print about the machine.
//
// list, info, stats, devices and channels: read-only views of the guest
// table, the devices and channels. They read without the lock, so a slow
// console never stalls the other CPUs: each value read is one word, and a
// report may mix two moments (a counter one exit apart), never fault.

import RumABI

extension GuestCommands {
    static func list() {
        let m = M.shared
        O.line("id  name             state     vcpus  cpus      memory   restarts  uptime")
        for g in 0..<m.pointee.guestCount {
            let r = m.pointee.guests[g]
            O.dec(g); O.pad(digits(UInt64(g)), to: 4)
            r.withName { column($0, 17) }
            O.str(r.state.label); O.pad(r.state.label.utf8CodeUnitCount, to: 10)
            O.dec(r.vcpuCount); O.pad(digits(UInt64(r.vcpuCount)), to: 7)
            let hl = cpus(m.pointee.vcpus[m.pointee.firstSlot(g)].cpuMask, pinned: r.flags.contains(.pinned))
            O.pad(hl, to: 10)
            O.size(r.ramSize); O.str("  ")
            O.dec(UInt64(r.restarts)); O.pad(digits(UInt64(r.restarts)), to: 10)
            if r.state == .running || r.state == .paused {
                O.dec((A.counter() &- r.startedAt) / A.counterFrequency); O.str("s")
            } else { O.str("-") }
            O.byte(10)
        }
    }

    /// Prints a CPU mask as "0,1" (with '*' if pinned); returns characters written.
    static func cpus(_ mask: UInt64, pinned: Bool) -> Int {
        var n = 0
        for h in 0..<64 where mask & (1 << UInt64(h)) != 0 {
            if n > 0 { O.str(","); n += 1 }
            O.dec(h); n += digits(UInt64(h))
        }
        if pinned { O.str("*"); n += 1 }
        return n
    }

    static func digits(_ v: UInt64) -> Int {
        var n = 1, x = v
        while x >= 10 { x /= 10; n += 1 }
        return n
    }

    static func info(_ g: Int) {
        let m = M.shared
        let r = m.pointee.guests[g]
        O.str("guest "); O.dec(g); O.str(" '"); _ = r.withName { O.printable($0) }; O.str("': ")
        O.line(r.state.label)
        O.str("  vcpus "); O.dec(r.vcpuCount); O.str("  cpus ")
        _ = cpus(m.pointee.vcpus[m.pointee.firstSlot(g)].cpuMask, pinned: r.flags.contains(.pinned))
        O.str("  restart policy ")
        switch r.config.restart_policy {
        case RUM_RESTART_NEVER: O.line("never")
        case RUM_RESTART_ALWAYS: O.line("always")
        default: O.line("on-crash")
        }
        O.str("  memory  gpa "); O.hex(r.ramBase, digits: 8); O.str(" size "); O.size(r.ramSize)
        if r.ramHost != 0 { O.str(" -> host "); O.hex(r.ramHost, digits: 10) }
        O.byte(10)
        O.str("  systable gpa "); O.hex(RUM_GUEST_SYSTABLE_GPA, digits: 8); O.line(" (read-only)")
        if r.bootsLinux {
            O.str("  boot linux: entry "); O.hex(r.config.entry, digits: 8); O.str(", a1 = device tree at ")
            O.hex(r.config.dtb_gpa, digits: 8); O.str(" ("); O.dec(UInt64(r.config.dtb_size)); O.line(" bytes)")
        }
        if r.config.vdevices & RUM_VDEV_NS16550 != 0 {
            O.str("  ns16550 gpa "); O.hex(r.config.uart_gpa, digits: 8); O.str(" (reads "); O.dec(m.pointee.uarts[g].reads)
            O.str(", writes "); O.dec(m.pointee.uarts[g].writes); O.str(", fast path "); O.dec(m.pointee.uarts[g].fastAccesses); O.line(")")
        }
        if r.ramHost != 0 {
            let t = UnsafePointer<SysTable>(bitPattern: UInt(r.sysTableHost))!.pointee
            O.str("  id (SipHash-2-4) "); O.hex(t.sip_id_hi); O.str(" "); O.hex(t.sip_id_lo); O.byte(10)
        }
        if let refusal = r.refusal {
            O.str("  image "); O.line(refusal.text)
        } else if r.bodySize > 0 {
            O.str("  image signed NPL, verified, "); O.dec(r.bodySize); O.str(" bytes")
            if r.config.store_size > 0 { O.str("; payload store "); O.dec(UInt64(r.config.store_size)); O.str(" bytes") }
            O.byte(10)
        }
        var any = false
        for i in 0..<m.pointee.deviceCount where m.pointee.devices[i].config.owner == UInt32(g) {
            let d = m.pointee.devices[i]
            O.str("  device "); _ = d.withName { O.printable($0) }
            O.str(" mmio "); O.hex(d.config.mmio_base, digits: 8); O.str(" irq "); O.dec(UInt64(d.config.irq))
            O.str(" interrupts "); O.dec(d.interrupts)
            if d.delivery.count > 0 {
                O.str(" delivery mean "); O.dec(d.delivery.mean); O.str(" max "); O.dec(d.delivery.max); O.str(" instructions")
            }
            O.byte(10)
            any = true
        }
        for i in 0..<m.pointee.channelCount {
            guard let side = m.pointee.channels[i].side(g) else { continue }
            O.str("  channel "); _ = m.pointee.channels[i].withName { O.printable($0) }
            O.str(side == 0 ? " (side A) peer " : " (side B) peer ")
            let peer = Int(side == 0 ? m.pointee.channels[i].config.guest_b : m.pointee.channels[i].config.guest_a)
            _ = m.pointee.guests[peer].withName { O.printable($0) }
            O.byte(10)
            any = true
        }
        if !any { O.line("  devices none, channels none") }
        O.str("  restarts "); O.dec(UInt64(r.restarts))
        if r.lastRestartLatency > 0 {
            O.str("  last restart "); O.dec(r.lastRestartLatency * 1_000_000 / A.counterFrequency); O.str(" us to first output")
        }
        O.byte(10)
        O.str("  console "); O.dec(m.pointee.consoles[g].written); O.line(" bytes written")
        O.str("  exits")
        for i in 0..<ExitReason.count {
            O.str(" "); O.str(ExitReason(rawValue: i)!.label); O.str("="); O.dec(exitCount(g, i))
        }
        O.byte(10)
        let f = r.lastFault
        if f.valid {
            O.str("  last fault: "); O.str(f.kind.label)
            if f.kind == .stage2Fault {
                O.str(f.access == .write ? " (write)" : f.access == .execute ? " (fetch)" : " (read)")
            }
            O.str(" at pc "); O.hex(f.pc, digits: 10)
            O.str(f.kind == .stage2Fault ? " gpa " : " detail "); O.hex(f.address, digits: 10); O.byte(10)
        } else {
            O.line("  last fault: none")
        }
    }

    /// Exits of guest `g` for reason `i`, fast-path calls included in hypercalls.
    static func exitCount(_ g: Int, _ i: Int) -> UInt64 {
        let m = M.shared
        var v = m.pointee.guests[g].exits[i]
        if i == ExitReason.hypercall.rawValue {
            for k in 0..<m.pointee.vcpuCount where m.pointee.vcpus[k].guest == g {
                v &+= A.vcpuFastCalls(m.pointee.regsOf(k))
            }
        }
        return v
    }

    /// Prints a name and pads it to a column of `width` characters.
    static func column(_ name: UnsafeBufferPointer<UInt8>, _ width: Int) {
        O.printable(name)
        O.pad(name.count, to: width)
    }

    static func listDevices() {
        let m = M.shared
        guard m.pointee.deviceCount > 0 else { O.line("no devices are assigned in this partition"); return }
        O.line("device           mmio          size      irq  owner            interrupts  delivery (mean/max instructions)")
        for i in 0..<m.pointee.deviceCount {
            let d = m.pointee.devices[i]
            d.withName { column($0, 17) }
            O.hex(d.config.mmio_base, digits: 10); O.str("  ")
            O.hex(d.config.mmio_size, digits: 6); O.str("  ")
            O.dec(UInt64(d.config.irq)); O.pad(digits(UInt64(d.config.irq)), to: 5)
            if d.owned { m.pointee.guests[Int(d.config.owner)].withName { column($0, 17) } }
            else { O.str("hypervisor"); O.pad(10, to: 17) }
            O.dec(d.interrupts); O.pad(digits(d.interrupts), to: 12)
            if d.delivery.count == 0 { O.byte(UInt8(ascii: "-")) } else {
                O.dec(d.delivery.mean); O.byte(UInt8(ascii: "/")); O.dec(d.delivery.max)
            }
            O.byte(10)
        }
    }

    static func listChannels() {
        let m = M.shared
        guard m.pointee.channelCount > 0 else { O.line("no channels in this partition"); return }
        O.line("channel          side A           side B           size    state  doorbells A->B B->A")
        for i in 0..<m.pointee.channelCount {
            let c = m.pointee.channels[i]
            c.withName { column($0, 17) }
            m.pointee.guests[Int(c.config.guest_a)].withName { column($0, 17) }
            m.pointee.guests[Int(c.config.guest_b)].withName { column($0, 17) }
            O.size(UInt64(c.config.size)); O.str("  ")
            let st = c.header.pointee.state
            O.str(st.0 == 1 ? "up" : "down"); O.str("/"); O.str(st.1 == 1 ? "up" : "down"); O.str("  ")
            O.dec(c.rung.0); O.str(" "); O.dec(c.rung.1); O.byte(10)
        }
    }

    static func stats() {
        let m = M.shared
        O.str("guest           ")
        for i in 0..<ExitReason.count {
            let l = ExitReason(rawValue: i)!.label
            O.str(l); O.pad(l.utf8CodeUnitCount, to: 11)
        }
        O.byte(10)
        for g in 0..<m.pointee.guestCount {
            m.pointee.guests[g].withName { column($0, 16) }
            for i in 0..<ExitReason.count {
                let v = exitCount(g, i)
                O.dec(v); O.pad(digits(v), to: 11)
            }
            O.byte(10)
        }
        for c in 0..<min(m.pointee.platform.cpuCount, M.maxCPUs) {
            O.str("cpu "); O.dec(c); O.pad(4 + digits(UInt64(c)), to: 16)
            for i in 0..<ExitReason.count {
                let v = m.pointee.cpuExits[c * ExitReason.count + i]
                O.dec(v); O.pad(digits(v), to: 11)
            }
            O.byte(10)
        }
        O.str("free memory "); O.size(m.pointee.pages.freePages > 0 ? UInt64(m.pointee.pages.freePages) * 4096 : 0)
        O.str(" ("); O.dec(m.pointee.pages.freePages); O.str(" pages; "); O.dec(m.pointee.bootFreePages); O.line(" at boot)")
    }
}
