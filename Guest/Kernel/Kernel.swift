// Kernel: Rumpk's portable entry, generic over the guest port.
//
// Rumpk is a single-address-space unikernel that runs as a Rumkv guest. This
// file holds what every port shares: the boot sequence after the port's
// assembly entry, and the ready line (the silence doctrine: a healthy guest
// prints one line and nothing more unless configured verbose).

import RumABI

/// What Rumpk needs from the machine it runs on (a guest port).
public protocol GuestPort {
    /// Architecture name for the ready line.
    static var name: StaticString { get }
    /// Writes bytes to the guest console (a hypercall on every port).
    static func consoleWrite(_ bytes: UnsafeRawBufferPointer)
    /// Stops this guest for good with an exit code.
    static func exit(_ code: UInt64) -> Never
}

public enum Rumpk<P: GuestPort> {
    /// Runs the kernel. `bootArgument` is the port's boot register (the
    /// SysTable address once the hypervisor provides one).
    public static func main(bootArgument: UInt64) -> Never {
        say("rumpk: ready (")
        say(P.name)
        say(", abi ")
        sayDigit(UInt8(truncatingIfNeeded: ABIRevision.current))
        say(")\n")
        P.exit(0)
    }

    static func say(_ s: StaticString) {
        s.withUTF8Buffer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }

    static func sayDigit(_ d: UInt8) {
        withUnsafeBytes(of: d + 48) { P.consoleWrite($0) }
    }
}
