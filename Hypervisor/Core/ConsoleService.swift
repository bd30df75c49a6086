// ConsoleService: the hypervisor console shared by the shell and guests.
//
// Hart 0 polls the UART between guest exits. Detached, typed bytes go to the
// `rumkv>` shell; attached (`console <guest>`), they go to that guest's input
// ring and its output is echoed live, until the escape byte Ctrl-] (0x1D)
// returns to the shell. Guest output is always kept in the guest's backlog;
// while detached it is never printed, so it cannot tear the prompt line.

import RumABI

public enum ConsoleService<A: GuestHosting> {
    typealias M = Machine<A>
    /// Ctrl-], as in telnet and virsh console.
    public static var escapeByte: UInt8 { 0x1D }

    /// Handles every byte waiting on the UART. Inside a guest's slice
    /// (`inSlice`, CPU 0 between exits with a vCPU loaded) a line end for the
    /// shell is not handled but kept, and true is returned: the command may
    /// wait for the guest's vCPUs to leave their CPUs, this one included, so
    /// the caller ends the slice and the scheduler loop runs it.
    @discardableResult
    static func poll(inSlice: Bool = false) -> Bool {
        let m = M.shared
        var budget = 16
        if !inSlice && m.pointee.heldLineEnd != 0 {
            let b = UInt8(truncatingIfNeeded: m.pointee.heldLineEnd)
            m.pointee.heldLineEnd = 0
            if m.pointee.attached < 0 {
                Shell<A>.feed(b, &m.pointee.editor, m.pointee.platform, extra: { GuestCommands<A>.run($0) },
                              promptAfter: { M.shared.pointee.attached < 0 })
            }
        }
        while budget > 0, let b = A.consoleRead() {
            budget -= 1
            if inSlice && m.pointee.attached < 0 && (b == 13 || b == 10) {
                m.pointee.heldLineEnd = 0x100 | UInt16(b)
                return true
            }
            if m.pointee.attached >= 0 {
                if b == escapeByte {
                    m.pointee.attached = -1
                    Out<A>.line("\n[detached]")
                    Shell<A>.prompt()
                } else {
                    BigLock<A>.acquire()
                    m.pointee.consoles[m.pointee.attached].pushInput(b)
                    BigLock<A>.release()
                }
                continue
            }
            Shell<A>.feed(b, &m.pointee.editor, m.pointee.platform, extra: { GuestCommands<A>.run($0) },
                          promptAfter: { M.shared.pointee.attached < 0 })
        }
        return false
    }

    /// A byte of guest output. Caller holds the lock.
    static func guestOutput(_ g: Int, _ b: UInt8) {
        let m = M.shared
        m.pointee.consoles[g].put(b)
        if m.pointee.guests[g].awaitingFirstOutput {
            m.pointee.guests[g].awaitingFirstOutput = false
            m.pointee.guests[g].lastRestartLatency = A.counter() &- m.pointee.guests[g].lastFault.at
        }
        if m.pointee.attached == g { Out<A>.byte(b) }
    }

    /// Attaches the console to guest `g`: prints the backlog, then goes live.
    static func attach(_ g: Int) {
        let m = M.shared
        Out<A>.str("[attached to ")
        m.pointee.guests[g].withName { Out<A>.printable($0) }
        Out<A>.line("; Ctrl-] returns to rumkv>]")
        BigLock<A>.acquire()
        m.pointee.consoles[g].forEachBacklog { Out<A>.byte($0) }
        m.pointee.attached = g
        BigLock<A>.release()
    }
}
