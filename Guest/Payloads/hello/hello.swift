// hello: the demo payload, in Embedded Swift.
//
// Greets through the kernel's service table with its name and run number,
// yields once so the kernel's other fibers run in between, and ends: the
// first run returns 0 from payload_main, later runs call exit(0), so both
// ways back to the kernel are used. Built by tools/RumkvBuild/Payloads.swift
// with Guest/Payloads/payload.ld; the contract is Shared/include/rumpk.h.

import CRumpk

@_cdecl("payload_main")
public func payloadMain(_ services: UnsafePointer<rum_payload_services_t>) -> Int64 {
    let s = services.pointee
    guard s.magic == RUM_PAYLOAD_SERVICES_MAGIC, let write = s.write else { return 2 }
    s.yield?()
    say(write, "hello from payload '")
    withUnsafeBytes(of: s.name) { name in
        var n = 0
        while n < name.count && name[n] != 0 { n += 1 }
        _ = write(name.baseAddress, UInt64(n))
    }
    say(write, "' (run ")
    decimal(write, s.run)
    say(write, ")\n")
    if s.run > 1, let exit = s.exit { exit(0) }
    return 0
}

typealias Write = @convention(c) (UnsafeRawPointer?, UInt64) -> Int64

func say(_ write: Write, _ text: StaticString) {
    _ = write(UnsafeRawPointer(text.utf8Start), UInt64(text.utf8CodeUnitCount))
}

func decimal(_ write: Write, _ value: UInt64) {
    var digits: InlineArray<20, UInt8> = .init(repeating: 0)
    var n = 0, v = value
    repeat { digits[19 - n] = UInt8(v % 10) + 48; v /= 10; n += 1 } while v > 0
    digits.span.withUnsafeBufferPointer { _ = write(UnsafeRawPointer($0.baseAddress! + (20 - n)), UInt64(n)) }
}
