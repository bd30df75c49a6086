// Addresses: one type per address space where addresses cross the seam.
//
// A guest-physical address (what a guest puts on its bus, translated by its
// stage-2) and a host-physical address (what the hypervisor, identity-mapped,
// dereferences) are different things that are both 64-bit numbers. Keeping
// them apart in the types means a port cannot map a guest address as if it
// were a host one; the only conversion is `GuestRecord.translate`, which
// checks the range against the guest's RAM.

public struct GuestPhysicalAddress: Equatable, Comparable {
    public var value: UInt64
    @inline(__always) public init(_ value: UInt64) { self.value = value }

    @inline(__always) public func adding(_ bytes: UInt64) -> GuestPhysicalAddress { .init(value &+ bytes) }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

public struct HostPhysicalAddress: Equatable, Comparable {
    public var value: UInt64
    @inline(__always) public init(_ value: UInt64) { self.value = value }

    @inline(__always) public func adding(_ bytes: UInt64) -> HostPhysicalAddress { .init(value &+ bytes) }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// The identity-mapped pointer to this address (hypervisor side only).
    @inline(__always) public func pointer<T>(to: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutablePointer<T>(bitPattern: UInt(value)).unsafelyUnwrapped
    }
}
