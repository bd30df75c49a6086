// EPT (x86_64): a guest's extended page tables (SDM Vol. 3C 29.3).
//
// Four levels of 4 KiB tables from the `PageAllocator`; guest RAM is mapped
// with 2 MiB leaves (the core allocates it 2 MiB aligned), the SysTable page
// read-only, the port window (boot page tables and GDT, shared by every
// guest) read-only; the core adds channels and device windows through
// `mapRange`. Every table page is remembered so destroy frees exactly them;
// INVEPT (all contexts) follows every change a cached translation could outlive.

import ArchShims
import RumkvCore

public struct X86EPT {
    var root: UInt64 = 0
    var tables: InlineArray<32, UInt64> = .init(repeating: 0)
    var tableCount = 0

    var pointer: UInt64 { EPTEntry.pointer(root: root) }

    static func slot(_ table: UInt64, _ index: UInt64) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(table + index * 8))!
    }

    /// The next-level table under `index`, created on demand; nil if out of pages or a leaf is there.
    mutating func child(_ table: UInt64, _ index: UInt64, _ pages: inout PageAllocator) -> UInt64? {
        let s = X86EPT.slot(table, index)
        if s.pointee & EPTEntry.read != 0 {
            return s.pointee & EPTEntry.large != 0 ? nil : s.pointee & EPTEntry.addressMask
        }
        guard tableCount < 32, let t = pages.allocateZeroed(pages: 1) else { return nil }
        tables[tableCount] = t
        tableCount += 1
        s.pointee = EPTEntry.table(t)
        return t
    }

    /// One leaf: 2 MiB (`large`) or 4 KiB.
    mutating func map(gpa: UInt64, entry: UInt64, large: Bool, _ pages: inout PageAllocator) -> Bool {
        guard gpa < EPTEntry.limit else { return false }
        let (i4, i3, i2, i1) = EPTEntry.indices(gpa)
        guard let pdpt = child(root, i4, &pages), let pd = child(pdpt, i3, &pages) else { return false }
        if large { X86EPT.slot(pd, i2).pointee = entry; return true }
        guard let pt = child(pd, i2, &pages) else { return false }
        X86EPT.slot(pt, i1).pointee = entry
        return true
    }

    mutating func mapRange(gpa: UInt64, hpa: UInt64, size: UInt64, kind: MappingKind, readOnly: Bool = false,
                           _ pages: inout PageAllocator) -> Bool {
        guard size <= EPTEntry.limit, gpa <= EPTEntry.limit - size else { return false }
        var off: UInt64 = 0
        while off < size {
            let large = (gpa + off) & 0x1F_FFFF == 0 && (hpa + off) & 0x1F_FFFF == 0 && size - off >= 2 << 20
            let entry = EPTEntry.leaf(hpa + off, kind: kind, readOnly: readOnly, large: large)
            guard map(gpa: gpa + off, entry: entry, large: large, &pages) else { return false }
            off += large ? 2 << 20 : 4096
        }
        x86_invept_all()
        return true
    }

    static func create(_ layout: GuestLayout, _ pages: inout PageAllocator) -> X86EPT? {
        guard let root = pages.allocateZeroed(pages: 1) else { return nil }
        var e = X86EPT()
        e.root = root
        let window = X86_64.portWindow
        guard e.mapRange(gpa: layout.ram.value, hpa: layout.ramHost.value, size: layout.ramSize, kind: .normal, &pages),
              e.mapRange(gpa: layout.sysTable.value, hpa: layout.sysTableHost.value, size: 4096, kind: .normal,
                         readOnly: true, &pages),
              e.mapRange(gpa: window.base.value, hpa: x86_guest_boot_pages_address(), size: GuestBootTables.size,
                         kind: .normal, readOnly: true, &pages) else {
            destroy(e, &pages)
            return nil
        }
        return e
    }

    static func destroy(_ e: X86EPT, _ pages: inout PageAllocator) {
        for i in 0..<e.tableCount { pages.free(e.tables[i], pages: 1) }
        if e.root != 0 { pages.free(e.root, pages: 1) }
        x86_invept_all()
    }
}
