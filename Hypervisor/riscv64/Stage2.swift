// Stage2 (riscv64): Sv39x4 guest-physical translation (hgatp).
//
// RISC-V Privileged Spec v1.12, 8.5: the root table is 16 KiB (2048 entries,
// 16 KiB aligned) for a 41-bit guest-physical space; lower levels are normal
// 4 KiB Sv39 tables. Guest RAM is mapped with 2 MiB leaves (RAM is allocated
// 2 MiB aligned), the SysTable page read-only with a 4 KiB leaf. All leaves
// carry U (required for G-stage) and A/D preset so no A/D fault can occur.
// Every table page used is remembered so that destroy frees exactly them.

import ArchShims
import RumkvCore
import RumABI

public struct RVStage2 {
    public var hgatp: UInt64 = 0
    var tables: InlineArray<24, UInt64> = .init(repeating: 0)
    var tableCount = 0
    var rootAddress: UInt64 = 0

    static let valid = Sv39x4.valid, read = Sv39x4.read, write = Sv39x4.write, exec = Sv39x4.exec
    static let user = Sv39x4.user, accessed = Sv39x4.accessed, dirty = Sv39x4.dirty

    static func pte(_ pa: UInt64, _ flags: UInt64) -> UInt64 { Sv39x4.pte(pa, flags) }
    static func target(_ pte: UInt64) -> UInt64 { Sv39x4.target(pte) }

    /// Next-level table for `index` of `table`, created on demand.
    mutating func child(_ table: UInt64, _ index: UInt64, _ pages: inout PageAllocator) -> UInt64? {
        let slot = UnsafeMutablePointer<UInt64>(bitPattern: UInt(table + index * 8))!
        if slot.pointee & RVStage2.valid != 0 { return RVStage2.target(slot.pointee) }
        guard tableCount < 24, let t = pages.allocateZeroed(pages: 1) else { return nil }
        tables[tableCount] = t
        tableCount += 1
        slot.pointee = RVStage2.pte(t, RVStage2.valid)
        return t
    }

    /// Maps one 2 MiB (level 1) or 4 KiB (level 0) leaf.
    mutating func map(gpa: UInt64, hpa: UInt64, megapage: Bool, flags: UInt64, _ pages: inout PageAllocator) -> Bool {
        let index = Sv39x4.indices(gpa)
        guard let l1 = child(rootAddress, index.root, &pages) else { return false }
        if megapage {
            UnsafeMutablePointer<UInt64>(bitPattern: UInt(l1 + index.level1 * 8))!.pointee = RVStage2.pte(hpa, flags)
            return true
        }
        guard let l0 = child(l1, index.level1, &pages) else { return false }
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(l0 + index.level0 * 8))!.pointee = RVStage2.pte(hpa, flags)
        return true
    }

    /// Maps a range with 2 MiB leaves where both sides are aligned, 4 KiB leaves
    /// otherwise. Devices get no execute permission. Existing leaves are replaced.
    mutating func mapRange(gpa: UInt64, hpa: UInt64, size: UInt64, device: Bool, _ pages: inout PageAllocator) -> Bool {
        let flags = RVStage2.valid | RVStage2.read | RVStage2.write | RVStage2.user | RVStage2.accessed | RVStage2.dirty
            | (device ? 0 : RVStage2.exec)
        var off: UInt64 = 0
        while off < size {
            let mega = (gpa + off) & 0x1F_FFFF == 0 && (hpa + off) & 0x1F_FFFF == 0 && size - off >= 2 << 20
            guard map(gpa: gpa + off, hpa: hpa + off, megapage: mega, flags: flags, &pages) else { return false }
            off += mega ? 2 << 20 : 4096
        }
        rv_hfence_gvma_all()
        return true
    }

    /// Tables mapping guest RAM (2 MiB leaves) and the read-only SysTable page.
    static func create(_ layout: GuestLayout, vmid: UInt16, _ pages: inout PageAllocator) -> RVStage2? {
        guard let root = pages.allocateZeroed(pages: 4, align: 16 << 10) else { return nil }
        var s = RVStage2()
        s.rootAddress = root
        let rw = valid | read | write | exec | user | accessed | dirty
        var off: UInt64 = 0
        var ok = true
        while ok && off < layout.ramSize {
            ok = s.map(gpa: layout.ram.value + off, hpa: layout.ramHost.value + off, megapage: true, flags: rw, &pages)
            off += 2 << 20
        }
        if ok {
            ok = s.map(gpa: layout.sysTable.value, hpa: layout.sysTableHost.value, megapage: false,
                       flags: valid | read | user | accessed, &pages)
        }
        guard ok else { destroy(s, &pages); return nil }
        s.hgatp = Sv39x4.hgatp(root: root, vmid: vmid)
        rv_hfence_gvma_all()
        return s
    }

    static func destroy(_ s: RVStage2, _ pages: inout PageAllocator) {
        for i in 0..<s.tableCount { pages.free(s.tables[i], pages: 1) }
        if s.rootAddress != 0 { pages.free(s.rootAddress, pages: 4) }
        rv_hfence_gvma_all()
    }
}
