// FirmwareEdits: QEMU trees changed the way firmware changes them, via libfdt.
//
// OpenSBI and TF-A add /reserved-memory children and memory-reservation
// entries before the hypervisor sees the tree; these helpers do the same with
// libfdt's read-write API so discovery is tested on realistic variants.

import CLibFDT

/// A writable copy of a tree with room to grow; `finish()` packs it.
final class TreeEdit {
    private let work: Blob

    init(_ source: Blob, room: Int = 8192) throws {
        work = Blob(count: source.count + room)
        try check(fdt_open_into(source.pointer, work.pointer, Int32(work.count)), "fdt_open_into")
    }

    func addReservation(_ base: UInt64, _ size: UInt64) throws {
        try check(fdt_add_mem_rsv(work.pointer, base, size), "fdt_add_mem_rsv")
    }

    /// Offset of the node at `path`.
    func node(_ path: String) throws -> Int32 {
        let off = fdt_path_offset(work.pointer, path)
        try check(off, "fdt_path_offset \(path)")
        return off
    }

    @discardableResult
    func addNode(_ parentPath: String, _ name: String) throws -> Int32 {
        let off = fdt_add_subnode(work.pointer, try node(parentPath), name)
        try check(off, "fdt_add_subnode \(name)")
        return off
    }

    func set(_ path: String, _ name: String, cells: [UInt32]) throws {
        let bytes = cells.flatMap { c in (0..<4).map { UInt8(truncatingIfNeeded: c >> (24 - 8 * UInt32($0))) } }
        try set(path, name, bytes: bytes)
    }

    func set(_ path: String, _ name: String, string: String) throws {
        try set(path, name, bytes: Array(string.utf8) + [0])
    }

    func set(_ path: String, _ name: String, bytes: [UInt8]) throws {
        let off = try node(path)
        try check(bytes.withUnsafeBytes { fdt_setprop(work.pointer, off, name, $0.baseAddress, Int32($0.count)) },
                  "fdt_setprop \(name)")
    }

    func finish() throws -> Blob {
        try check(fdt_pack(work.pointer), "fdt_pack")
        return work.copy(prefix: Int(work.be32(FDTHeader.totalSize)))
    }

    private func check(_ r: Int32, _ what: String) throws {
        if r < 0 { throw FixtureError(message: "libfdt \(what): \(String(cString: fdt_strerror(r)))") }
    }
}

/// A test fixture (an emulator dump, a libfdt edit) could not be made.
struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
