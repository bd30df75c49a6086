// State: the kernel's global state, set once at boot.
//
// Everything here is written by `Rumpk.main` before the first fiber runs
// and read by the fibers afterwards: the SysTable, the verbose and bench
// flags, the two ION rings between the shell and exec fibers, the payload
// store and window, the I/O page of the virtio drivers, whether interrupts
// are on, and the save area of the context switch. One hart runs Rumpk, so
// plain globals suffice (the interrupt handler has its own: Interrupts.swift).

import RumABI
import CRumpk

struct KernelState {
    var table: UnsafePointer<SysTable>? = nil
    var verbose = false
    /// Print the device and channel benchmarks (verbose, or the `bench` test payload).
    var bench = false
    /// The port took over device and doorbell interrupts (peace mode is possible).
    var interrupts = false
    /// 4 KiB for the virtio drivers' queue and buffers (Devices.swift), if the guest has devices.
    var ioPage: UnsafeMutableRawBufferPointer? = nil
    /// Saved stack pointers: one per fiber slot, then the scheduler loop's (arena memory: stable addresses).
    var savedSP = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    /// shell -> exec: RUM_CMD_SYS_EXEC packets.
    var requests: IONRing? = nil
    /// exec -> shell: RUM_CMD_SYS_EXIT / RUMPK_CMD_EXEC_REFUSED replies.
    var replies: IONRing? = nil
    var store: PayloadStore? = nil
    var services: UnsafeMutablePointer<rum_payload_services_t>? = nil
    var execFiber = -1
    var shellFiber = -1
    /// How often each payload id ran in this instance (the service table's `run`).
    var runs: InlineArray<16, RunCount> = .init(repeating: RunCount())
}

struct RunCount {
    var idLow: UInt64 = 0
    var idHigh: UInt64 = 0
    var count: UInt64 = 0
}

nonisolated(unsafe) var kernel = KernelState()
