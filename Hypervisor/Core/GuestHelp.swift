// GuestHelp: the guest-management lines of `help`, shown once guests exist.

/// Set when the machine hosts guests (the port conforms to GuestHosting and a bundle was loaded).
nonisolated(unsafe) public var guestCommandsEnabled = false

public enum GuestHelp<A: Architecture> {
    static func print() {
        guard guestCommandsEnabled else { return }
        Out<A>.line("  list                 guests: id, name, state, vCPUs, cpus, memory, restarts, uptime")
        Out<A>.line("  info <guest>         memory, exits by reason, restart policy, last fault")
        Out<A>.line("  start <guest>        create and boot a stopped guest")
        Out<A>.line("  stop <guest>         stop a guest and free its memory")
        Out<A>.line("  restart <guest>      stop and start again from the pristine image")
        Out<A>.line("  pause <guest>        stop scheduling a guest's vCPUs")
        Out<A>.line("  resume <guest>       schedule a paused guest again")
        Out<A>.line("  console <guest>      attach to a guest's console (Ctrl-] returns)")
        Out<A>.line("  stats                exits by reason per guest and per cpu")
        Out<A>.line("  devices              passed-through devices and their owners")
        Out<A>.line("  channels             inter-guest channels: state and doorbells")
        Out<A>.line("  <guest> is a name or an id")
    }
}
