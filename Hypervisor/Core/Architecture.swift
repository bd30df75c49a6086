// Architecture: the contract between the portable core and an architecture port.
//
// The core is generic over one `Architecture` type and never names an
// architecture itself. Each port (Hypervisor/riscv64, aarch64, x86_64) provides
// a caseless enum conforming to this protocol and instantiates
// `Hypervisor<ThatArch>` from its entry point. Everything is static: Embedded
// Swift has no existentials, and static dispatch lets the optimiser inline a
// port's one-instruction shims straight into the core.
//
// Contract for implementers:
// - Every function may be called with interrupts masked, from the boot CPU,
//   before any allocator exists. None may allocate.
// - `consoleWrite` blocks until the byte is accepted by the UART; it must not
//   drop bytes. `consoleRead` never blocks.
// - `powerOff` and `halt` never return, whatever the firmware does: a port
//   falls back to a halt loop if its power-off request is ignored.
// - `counter` is monotonic; `counterFrequency` is its rate in Hz.

/// What the core needs from an architecture port. See the file comment.
public protocol Architecture {
    /// Architecture name printed in banners and `version`: "riscv64".
    static var name: StaticString { get }

    /// Writes one byte to the hypervisor console, waiting for room.
    static func consoleWrite(_ byte: UInt8)

    /// Returns the next byte typed on the hypervisor console, if any.
    static func consoleRead() -> UInt8?

    /// Spin-wait hint (pause / yield / nop) used in polling loops.
    static func relax()

    /// A free-running monotonic counter.
    static func counter() -> UInt64

    /// Frequency of `counter()` in Hz.
    static var counterFrequency: UInt64 { get }

    /// Powers the machine off through the platform's firmware interface.
    static func powerOff() -> Never

    /// Stops the calling CPU for good (used after a fatal error).
    static func halt() -> Never

    /// Executes an instruction that the hypervisor does not expect to trap
    /// on, so that test builds can exercise the fatal-trap path.
    static func provokeTrap()
}
