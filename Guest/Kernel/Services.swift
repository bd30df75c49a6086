// Services: what a payload can ask of the kernel (rum_payload_services_t).
//
// Each port points the table's C function pointers at thunks that call
// these (a C function pointer cannot carry the generic port). They run on
// the payload's fiber: write checks that the buffer lies in guest RAM and
// writes it to the console; exit ends the payload fiber with its code and
// never returns; yield and sleep go through the scheduler like any fiber's.

import RumABI
import CRumpk

enum Services<P: GuestPort> {
    static func write(_ buffer: UnsafeRawPointer?, _ length: UInt64) -> Int64 {
        guard let t = kernel.table, let buffer else { return Int64(RUM_HC_ERR_ADDRESS) }
        let ram = t.pointee.mem.0
        let start = UInt64(UInt(bitPattern: buffer))
        guard start >= ram.base, length <= ram.size, start - ram.base <= ram.size - length else {
            return Int64(RUM_HC_ERR_ADDRESS)
        }
        P.consoleWrite(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
        return Int64(length)
    }

    static func exit(_ code: Int64) -> Never { Scheduler<P>.exit(code) }

    static func yield() { Scheduler<P>.yield() }

    static func sleep(_ ticks: UInt64) {
        let now = P.counter()
        Scheduler<P>.sleep(until: ticks > UInt64.max - now ? UInt64.max : now + ticks)
    }

    /// The table's constant part; the exec fiber fills in run, arg, id and name per exec.
    static func prepare(_ table: UnsafeMutablePointer<rum_payload_services_t>, timebase: UInt64) {
        var s = rum_payload_services_t()
        s.magic = RUM_PAYLOAD_SERVICES_MAGIC
        s.revision = UInt16(RUM_ABI_REVISION)
        s.size = UInt16(MemoryLayout<rum_payload_services_t>.size)
        s.timebase_hz = timebase
        P.fillServices(&s)
        table.pointee = s
    }
}
