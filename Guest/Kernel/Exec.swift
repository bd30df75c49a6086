// Exec: the fiber that turns RUM_CMD_SYS_EXEC packets into payload runs.
//
// It pops requests from the shell's ION ring and, for each: finds the
// NAME.npl member whose SipHash id is the packet's id, verifies the NPL
// image against the trusted keys linked into this image (arch = this port,
// flag ELF), loads the ELF body into the payload window (RumLoader: every
// segment checked before anything is written, window zeroed, BSS zero),
// runs the entry on a fresh `batch` fiber with the service table and joins
// it. The reply (RUM_CMD_SYS_EXIT with the exit code, or
// RUMPK_CMD_EXEC_REFUSED with a reason code) goes back on the reply ring.
// A refusal is printed as "rumpk: exec 'NAME': REASON" even without the
// verbose flag: it is the payload's only output.

import RumABI
import RumNPL
import RumLoader
import CRumpk

/// Reason codes of RUMPK_CMD_EXEC_REFUSED replies.
enum Refusal: UInt64 {
    case badCommand = 1, notFound, badStore, badImage, notELF, badELF, noFiber, tooManyPayloads
}

/// Why an image failed verification: the NPL check, or a verified image without the ELF flag.
struct VerifyError: Error, Equatable {
    var npl: NPLError = .badSignature
    var flags = false
    static let flags = VerifyError(flags: true)
}

enum Exec<P: GuestPort> {
    static func run() {
        guard let requests = kernel.requests, let replies = kernel.replies else { return }
        while true {
            let packet: CmdPacket?
            do { packet = try requests.pop() } catch {
                Console<P>.say("rumpk: exec: request ring corrupt\n")
                return
            }
            guard let packet else { Scheduler<P>.park(); continue }
            let reply = handle(packet)
            while !replies.push(reply) { Scheduler<P>.yield() }
            Scheduler<P>.unpark(kernel.shellFiber)
        }
    }

    static func handle(_ p: CmdPacket) -> CmdPacket {
        let id = (p.id_lo, p.id_hi)
        guard p.kind == RUM_CMD_SYS_EXEC, let store = kernel.store else { return refused(.badCommand, p) }
        let found: (name: Range<Int>, image: Range<Int>)?
        do { found = try store.find(id: id) } catch {
            Console<P>.say("rumpk: exec: payload store: "); Console<P>.say(error.reason); Console<P>.say("\n")
            return refused(.badStore, p)
        }
        guard let found else {
            Console<P>.say("rumpk: exec id "); Console<P>.hex(id.0); Console<P>.say(": no such payload\n")
            return refused(.notFound, p)
        }
        let name = store.archive.slice(found.name)
        let image = store.archive.slice(found.image)
        let body: UnsafeRawBufferPointer
        do { body = try verify(image) } catch {
            refuse(name, error == .flags ? "not an ELF payload" : npl(error.npl))
            return refused(error == .flags ? .notELF : .badImage, p)
        }
        let window = store.window
        let memory = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: UInt(window.lowerBound)),
                                                   count: Int(window.upperBound - window.lowerBound))
        let elf: ELFImage
        do { elf = try ELF.load(body, machine: ELF.machine(nplArch: P.nplArch), into: memory, at: window.lowerBound) } catch {
            refuse(name, error.reason)
            return refused(.badELF, p)
        }
        rumpk_sync_icache(window.lowerBound, window.upperBound - window.lowerBound)
        guard let run = countRun(id) else { refuse(name, "too many payloads"); return refused(.tooManyPayloads, p) }
        describe(name, id: id, run: run, arg: p.arg)
        guard let child = Scheduler<P>.spawn(.payload, "payload", .batch, arg: elf.entry, joiner: Scheduler<P>.current) else {
            refuse(name, "no free fiber")
            return refused(.noFiber, p)
        }
        let code = Scheduler<P>.join(child)
        if Console<P>.verbose() {
            Console<P>.say("exec '"); Console<P>.bytes(name); Console<P>.say("' run "); Console<P>.dec(run)
            Console<P>.say(" exited "); Console<P>.signed(code); Console<P>.say(" (entry "); Console<P>.hex(elf.entry)
            Console<P>.say(", stack "); Console<P>.dec(Scheduler<P>.stackUsed(child)); Console<P>.say(" bytes)\n")
        }
        return CmdPacket(kind: RUM_CMD_SYS_EXIT, arg: UInt64(bitPattern: code), idLow: id.0, idHigh: id.1)
    }

    /// The ELF body of a signed NPL image for this architecture.
    static func verify(_ image: UnsafeRawBufferPointer) throws(VerifyError) -> UnsafeRawBufferPointer {
        let keyBytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(rum_trusted_keys_base()),
                                              count: Int(rum_trusted_keys_count()) * NPLTrustedKeys.keySize)
        guard let keys = NPLTrustedKeys(concatenated: keyBytes) else { throw VerifyError(npl: .badSignature) }
        let v: NPLVerifiedImage
        do { v = try NPL.verify(image: image, expectedArch: P.nplArch, trustedKeys: keys) } catch {
            throw VerifyError(npl: error)
        }
        guard v.flags & NPL.flagELF != 0 else { throw .flags }
        return UnsafeRawBufferPointer(rebasing: image[v.body])
    }

    static func npl(_ e: NPLError) -> StaticString {
        switch e {
        case .tooShort, .bodySizeOverflow, .truncated, .trailingBytes: "bad image size"
        case .badMagic: "not a signed NPL image"
        case .badVersion: "unknown NPL version"
        case .wrongArch: "built for another architecture"
        case .unknownFlags, .reservedNotZero: "bad NPL header"
        case .badSignature: "bad signature"
        }
    }

    static func refuse(_ name: UnsafeRawBufferPointer, _ reason: StaticString) {
        Console<P>.say("rumpk: exec '"); Console<P>.bytes(name); Console<P>.say("': "); Console<P>.say(reason); Console<P>.say("\n")
    }

    static func refused(_ r: Refusal, _ p: CmdPacket) -> CmdPacket {
        CmdPacket(kind: RUMPK_CMD_EXEC_REFUSED, arg: r.rawValue, idLow: p.id_lo, idHigh: p.id_hi)
    }

    /// This exec's run number for `id` (1 the first time), nil if the table is full.
    static func countRun(_ id: (UInt64, UInt64)) -> UInt64? {
        for i in 0..<16 {
            var r = kernel.runs[i]
            guard r.count == 0 || (r.idLow == id.0 && r.idHigh == id.1) else { continue }
            r.idLow = id.0; r.idHigh = id.1; r.count += 1
            kernel.runs[i] = r
            return r.count
        }
        return nil
    }

    /// Fills the per-exec fields of the service table.
    static func describe(_ name: UnsafeRawBufferPointer, id: (UInt64, UInt64), run: UInt64, arg: UInt64) {
        guard let s = kernel.services else { return }
        s.pointee.run = run
        s.pointee.arg = arg
        s.pointee.id_lo = id.0
        s.pointee.id_hi = id.1
        withUnsafeMutableBytes(of: &s.pointee.name) { n in
            for i in 0..<n.count { n[i] = i < name.count ? name[i] : 0 }
        }
    }
}
