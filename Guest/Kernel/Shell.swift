// Shell: the fiber that issues the boot-time exec commands.
//
// It reads the store's `autorun` member (payload names separated by white
// space, at most `maxCommands`), posts one RUM_CMD_SYS_EXEC packet per
// name on the request ring (id = the name's SipHash id, arg = its position
// in the list) and collects the replies, which come back in order because
// the exec fiber serves one request at a time. Waiting is cooperative: a
// full request ring makes the shell take replies and yield, an empty reply
// ring makes it park until exec unparks it.

import RumABI
import RumLoader
import CRumpk

enum Shell<P: GuestPort> {
    static var maxCommands: Int { 16 }

    static func run() {
        guard let store = kernel.store, let requests = kernel.requests, let replies = kernel.replies else { return }
        let list: Range<Int>?
        do { list = try store.autorun() } catch {
            Console<P>.say("rumpk: shell: payload store: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return
        }
        guard let list else { return }
        var names: InlineArray<16, Range<Int>> = .init(repeating: 0..<0)
        let count = words(store.archive, list, into: &names)
        var done = Tally()
        for i in 0..<count {
            let id = PayloadID.of(store.archive.slice(names[i]), key: store.idKey)
            let packet = CmdPacket(kind: RUM_CMD_SYS_EXEC, arg: UInt64(i), idLow: id.low, idHigh: id.high)
            while !requests.push(packet) {
                collect(replies, store, names, &done, wait: false)
                Scheduler<P>.yield()
            }
            Scheduler<P>.unpark(kernel.execFiber)
        }
        while done.count < count { collect(replies, store, names, &done, wait: true) }
        if Console<P>.verbose() {
            Console<P>.say("shell: "); Console<P>.dec(UInt64(count)); Console<P>.say(" commands, ")
            Console<P>.dec(done.ran); Console<P>.say(" ran, "); Console<P>.dec(done.refused); Console<P>.say(" refused; ")
            Console<P>.dec(fiberTable.switches); Console<P>.say(" fiber switches\n")
        }
    }

    struct Tally {
        var count = 0
        var ran: UInt64 = 0
        var refused: UInt64 = 0
    }

    /// Takes the replies that are there; with `wait`, parks first if there are none.
    static func collect(_ replies: IONRing, _ store: PayloadStore, _ names: InlineArray<16, Range<Int>>,
                        _ done: inout Tally, wait: Bool) {
        var got = false
        while true {
            let reply: CmdPacket?
            do { reply = try replies.pop() } catch {
                Console<P>.say("rumpk: shell: reply ring corrupt\n")
                Scheduler<P>.exit(1)
            }
            guard let reply else { break }
            got = true
            if reply.kind == RUM_CMD_SYS_EXIT { done.ran += 1 } else { done.refused += 1 }
            if Console<P>.verbose() {
                Console<P>.say("shell: '"); Console<P>.bytes(store.archive.slice(names[done.count]))
                if reply.kind == RUM_CMD_SYS_EXIT {
                    Console<P>.say("' exited "); Console<P>.signed(Int64(bitPattern: reply.arg))
                } else {
                    Console<P>.say("' refused (reason "); Console<P>.dec(reply.arg); Console<P>.say(")")
                }
                Console<P>.say(", id_lo "); Console<P>.hex(reply.id_lo); Console<P>.say("\n")
            }
            done.count += 1
        }
        if wait && !got { Scheduler<P>.park() }
    }

    /// Splits `range` of the archive at white space; returns how many words went into `names`.
    static func words(_ archive: TarArchive, _ range: Range<Int>, into names: inout InlineArray<16, Range<Int>>) -> Int {
        var n = 0, i = range.lowerBound
        while i < range.upperBound && n < maxCommands {
            while i < range.upperBound && isSpace(archive.bytes[i]) { i += 1 }
            let start = i
            while i < range.upperBound && !isSpace(archive.bytes[i]) { i += 1 }
            if i > start { names[n] = start ..< i; n += 1 }
        }
        return n
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
