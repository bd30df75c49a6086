// Store: the payload store the hypervisor put at the top of guest RAM.
//
// SysTable.payload_base/payload_size describe a ustar archive of NPL images
// named NAME.npl plus an optional text member `autorun` listing payload
// names to execute at boot (docs/design/004-rumpk-payloads.md). Opening the
// store checks that it lies in guest RAM above the kernel and computes the
// payload window, RAM + 1 MiB up to RAM + 2 MiB or the store, whichever
// comes first. Members are looked up by SipHash id, never by trusting a
// name the command carries.

import RumABI
import RumCrypto
import RumLoader
import CRumpk

enum StoreProblem: Error {
    case outsideRAM, overlapsKernel, noWindow

    var reason: StaticString {
        switch self {
        case .outsideRAM: "not inside guest RAM"
        case .overlapsKernel: "overlaps the kernel image"
        case .noWindow: "leaves no room for the payload window"
        }
    }
}

struct PayloadStore {
    static let suffix: StaticString = ".npl"
    static let autorunName: StaticString = "autorun"

    let archive: TarArchive
    /// Guest-physical addresses payload segments may occupy.
    let window: Range<UInt64>
    let idKey: SipHashKey

    /// The guest's store, nil if it has none.
    static func open(_ t: UnsafePointer<SysTable>) throws(StoreProblem) -> PayloadStore? {
        let base = t.pointee.payload_base, size = t.pointee.payload_size
        guard base != 0 || size != 0 else { return nil }
        let ram = t.pointee.mem.0
        guard base >= ram.base, size <= ram.size, base - ram.base <= ram.size - size, size > 0 else { throw .outsideRAM }
        guard base >= rumpk_image_end() else { throw .overlapsKernel }
        let windowEnd = min(RUM_PAYLOAD_WINDOW_GPA + RUM_PAYLOAD_WINDOW_SIZE, base & ~0xFFF, ram.base + ram.size)
        guard windowEnd > RUM_PAYLOAD_WINDOW_GPA else { throw .noWindow }
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(base)), count: Int(size))
        return PayloadStore(archive: TarArchive(bytes), window: RUM_PAYLOAD_WINDOW_GPA ..< windowEnd,
                            idKey: PayloadID.key(sipLow: t.pointee.sip_id_lo, sipHigh: t.pointee.sip_id_hi))
    }

    /// The NAME.npl member whose NAME has SipHash id `id`: NAME's and the image's byte ranges.
    func find(id: (UInt64, UInt64)) throws(TarError) -> (name: Range<Int>, image: Range<Int>)? {
        var cursor = 0
        while let m = try archive.next(&cursor) {
            guard m.isFile, let stem = stem(m.name) else { continue }
            let h = PayloadID.of(archive.slice(stem), key: idKey)
            if h.low == id.0 && h.high == id.1 { return (stem, m.data) }
        }
        return nil
    }

    /// The data of the `autorun` member, if there is one.
    func autorun() throws(TarError) -> Range<Int>? {
        let name = Self.autorunName   // static text: its bytes live as long as the image
        return try archive.find(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))?.data
    }

    /// NAME of a member called NAME.npl (1...15 bytes), else nil.
    func stem(_ name: Range<Int>) -> Range<Int>? {
        let n = name.count - 4
        guard n >= 1, n < Int(RUM_PAYLOAD_NAME_MAX) else { return nil }
        let tail = archive.slice(name.lowerBound + n ..< name.upperBound)
        let ok = Self.suffix.withUTF8Buffer { s in tail[0] == s[0] && tail[1] == s[1] && tail[2] == s[2] && tail[3] == s[3] }
        return ok ? name.lowerBound ..< name.lowerBound + n : nil
    }
}
