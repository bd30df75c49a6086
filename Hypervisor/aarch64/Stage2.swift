// Stage2 (aarch64): a guest's IPA -> PA translation (VTTBR_EL2, VTCR_EL2).
//
// VMSAv8-64 stage 2 with a 4 KiB granule and a 40-bit IPA starting at level 1
// (two concatenated level-1 tables as the 8 KiB root; Stage2Format in
// Decoders.swift, measured on QEMU 7.2 in shared/docs/ports.md). Guest RAM is
// mapped with 2 MiB blocks, the SysTable page read-only with a 4 KiB page,
// devices as Device-nGnRE and never executable. Every table page used is
// remembered so that destroy frees exactly them; changes end with a TLB
// invalidation of every VMID's EL1 entries (inner shareable).

import ArchShims
import RumkvCore

public struct A64Stage2 {
    public var vttbr: UInt64 = 0
    var tables: InlineArray<24, UInt64> = .init(repeating: 0)
    var tableCount = 0
    var rootAddress: UInt64 = 0

    typealias F = Stage2Format

    static func slot(_ table: UInt64, _ index: UInt64) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(table + index * 8)).unsafelyUnwrapped
    }

    /// Next-level table behind entry `index` of `table`, created on demand;
    /// nil if out of memory or the entry is a block (a block is not split).
    mutating func child(_ table: UInt64, _ index: UInt64, _ pages: inout PageAllocator) -> UInt64? {
        let s = A64Stage2.slot(table, index)
        if s.pointee & F.valid != 0 {
            return s.pointee & F.table != 0 ? F.target(s.pointee) : nil
        }
        guard tableCount < 24, let t = pages.allocateZeroed(pages: 1) else { return nil }
        tables[tableCount] = t
        tableCount += 1
        s.pointee = F.tableDescriptor(t)
        return t
    }

    /// Maps one 2 MiB block (level 2) or 4 KiB page (level 3).
    mutating func map(ipa: UInt64, pa: UInt64, block: Bool, attributes: UInt64, _ pages: inout PageAllocator) -> Bool {
        guard ipa >> F.ipaBits == 0 else { return false }
        let i = F.indices(ipa)
        guard let l2 = child(rootAddress, i.root, &pages) else { return false }
        if block {
            A64Stage2.slot(l2, i.level2).pointee = F.leaf(pa, attributes, page: false)
            return true
        }
        guard let l3 = child(l2, i.level2, &pages) else { return false }
        A64Stage2.slot(l3, i.level3).pointee = F.leaf(pa, attributes, page: true)
        return true
    }

    /// Maps a range with 2 MiB blocks where both sides are aligned, 4 KiB pages otherwise.
    mutating func mapRange(ipa: UInt64, pa: UInt64, size: UInt64, device: Bool, _ pages: inout PageAllocator) -> Bool {
        let attributes = F.leafAttributes(device: device, writable: true)
        var off: UInt64 = 0
        while off < size {
            let big = (ipa + off) & 0x1F_FFFF == 0 && (pa + off) & 0x1F_FFFF == 0 && size - off >= 2 << 20
            guard map(ipa: ipa + off, pa: pa + off, block: big, attributes: attributes, &pages) else { return false }
            off += big ? 2 << 20 : 4096
        }
        a64_tlbi_alle1is()
        return true
    }

    /// Tables mapping guest RAM (2 MiB blocks) and the read-only SysTable page.
    static func create(_ layout: GuestLayout, vmid: UInt16, _ pages: inout PageAllocator) -> A64Stage2? {
        guard let root = pages.allocateZeroed(pages: F.rootPages, align: 8192) else { return nil }
        var s = A64Stage2()
        s.rootAddress = root
        let rw = F.leafAttributes(device: false, writable: true)
        var off: UInt64 = 0
        var ok = true
        while ok && off < layout.ramSize {
            ok = s.map(ipa: layout.ram.value + off, pa: layout.ramHost.value + off, block: true, attributes: rw, &pages)
            off += 2 << 20
        }
        if ok {
            ok = s.map(ipa: layout.sysTable.value, pa: layout.sysTableHost.value, block: false,
                       attributes: F.leafAttributes(device: false, writable: false), &pages)
        }
        guard ok else { destroy(s, &pages); return nil }
        s.vttbr = F.vttbr(root: root, vmid: vmid)
        a64_tlbi_alle1is()
        return s
    }

    static func destroy(_ s: A64Stage2, _ pages: inout PageAllocator) {
        for i in 0..<s.tableCount { _ = pages.free(s.tables[i], pages: 1) }
        if s.rootAddress != 0 { _ = pages.free(s.rootAddress, pages: F.rootPages) }
        a64_tlbi_alle1is()
    }
}
