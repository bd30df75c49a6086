// Console: the kernel's few output primitives, over the port's console write.
//
// No formatting machinery: static strings, decimal and hex numbers, raw
// bytes and the "rumpk[name]: " prefix. Every line a healthy guest prints
// without the verbose flag is either its ready line or a payload's own
// output (the silence doctrine); diagnostics go through `verbose`.

import RumABI

enum Console<P: GuestPort> {
    static func say(_ s: StaticString) {
        s.withUTF8Buffer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }

    static func bytes(_ b: UnsafeRawBufferPointer) { P.consoleWrite(b) }

    static func dec(_ v: UInt64) {
        var buf: InlineArray<20, UInt8> = .init(repeating: 0)
        var n = 0, x = v
        repeat { buf[19 - n] = UInt8(x % 10) + 48; x /= 10; n += 1 } while x > 0
        buf.span.withUnsafeBufferPointer { P.consoleWrite(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0[(20 - n)...]))) }
    }

    static func signed(_ v: Int64) {
        if v < 0 { say("-"); dec(v == Int64.min ? UInt64(1) << 63 : UInt64(-v)) } else { dec(UInt64(v)) }
    }

    static func hex(_ v: UInt64) {
        var buf: InlineArray<18, UInt8> = .init(repeating: 0)
        buf[0] = 48; buf[1] = 120
        for i in 0..<16 {
            let d = UInt8((v >> UInt64(60 - 4 * i)) & 0xF)
            buf[2 + i] = d < 10 ? d + 48 : d + 87
        }
        buf.span.withUnsafeBufferPointer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }

    /// Two hex digits.
    static func hexByte(_ v: UInt8) {
        var buf: InlineArray<2, UInt8> = .init(repeating: 0)
        for i in 0..<2 {
            let d = i == 0 ? v >> 4 : v & 0xF
            buf[i] = d < 10 ? d + 48 : d + 87
        }
        buf.span.withUnsafeBufferPointer { P.consoleWrite(UnsafeRawBufferPointer($0)) }
    }

    /// "BENCH name=value" (docs/design/006-virtio-and-channels.md lists the names).
    static func bench(_ name: StaticString, _ value: UInt64) {
        say("BENCH "); say(name); say("="); dec(value); say("\n")
    }

    /// Starts one of the guest's own output lines (a result of its function, printed
    /// even when quiet): "rumpk[<guest name>]: ". Write the rest without yielding.
    static func begin() {
        if let t = kernel.table { prefix(t) }
    }

    /// "rumpk[<guest name>]: ".
    static func prefix(_ t: UnsafePointer<SysTable>) {
        say("rumpk[")
        withUnsafeBytes(of: t.pointee.name) { n in
            var len = 0
            while len < n.count && n[len] != 0 && n[len] >= 0x20 && n[len] < 0x7F { len += 1 }
            P.consoleWrite(UnsafeRawBufferPointer(rebasing: n[0..<len]))
        }
        say("]: ")
    }

    /// True if this guest may print diagnostics; then the line prefix is already out.
    static func verbose() -> Bool {
        guard kernel.verbose, let t = kernel.table else { return false }
        prefix(t)
        return true
    }
}
