// Acpi (x86_64): counting CPUs from the ACPI MADT.
//
// The loader's copy of the RSDP leads to the XSDT (or, for ACPI 1.0, the
// RSDT), whose entries point at the system description tables; the MADT
// ("APIC") lists one Local APIC or x2APIC structure per processor (ACPI 6.5,
// 5.2.5 RSDP, 5.2.8 XSDT, 5.2.12 MADT). Tables are read in place through a
// `PhysicalReader` (on the machine: the identity map of the low 4 GiB; in host
// tests: a byte array standing in for physical memory), so every address and
// length is checked against what the reader maps and every table's checksum is
// verified before it is believed. Pure functions over byte buffers: the
// `X86_64Parsers` target host-tests and fuzzes them.

import RumkvCore

/// A view of `count` bytes of physical memory at an address, or nil where
/// nothing readable is mapped. Must never return a buffer shorter than asked.
typealias PhysicalReader = (_ address: UInt64, _ count: Int) -> UnsafeRawBufferPointer?

enum Acpi {
    /// Tables are read only below this physical address (entry.S maps 4 GiB).
    static let mappedLimit: UInt64 = 1 << 32
    static let headerLength = 36
    static let maxTableLength = 1 << 20

    /// The machine's reader: the identity-mapped low 4 GiB, nothing above.
    static func identityMapped(_ address: UInt64, _ count: Int) -> UnsafeRawBufferPointer? {
        guard address != 0, count >= 0, UInt64(count) <= mappedLimit, address <= mappedLimit - UInt64(count),
              let p = UnsafeRawPointer(bitPattern: UInt(address)) else { return nil }
        return UnsafeRawBufferPointer(start: p, count: count)
    }

    /// Adds every enabled processor of the MADT to `platform`. Returns false
    /// (and adds nothing) if the RSDP, XSDT/RSDT or MADT is missing or corrupt.
    static func discoverCPUs(rsdp: UnsafeRawBufferPointer, memory: PhysicalReader, into platform: inout Platform) -> Bool {
        guard let madt = findTable(rsdp: rsdp, signature: "APIC", memory: memory), madt.count >= 44 else { return false }
        var ids: InlineArray<16, UInt64> = .init(repeating: 0)
        var count = 0
        var off = 44
        while off + 2 <= madt.count {
            let type = madt[off], length = Int(madt[off + 1])
            guard length >= 2, length <= madt.count - off else { return false }
            var id: UInt64? = nil
            if type == 0, length >= 8, MultibootInfo.le32(madt, off + 4) & 1 != 0 {
                id = UInt64(madt[off + 3])                         // Processor Local APIC, enabled
            } else if type == 9, length >= 16, MultibootInfo.le32(madt, off + 8) & 1 != 0 {
                id = UInt64(MultibootInfo.le32(madt, off + 4))     // Processor Local x2APIC, enabled
            }
            if let id {
                if count < 16 { ids[count] = id }
                count += 1
            }
            off += length
        }
        guard count > 0 else { return false }
        for i in 0..<count { platform.addCPU(i < 16 ? ids[i] : 0) }
        return true
    }

    /// The first table with `signature` listed by the XSDT (RSDP revision >= 2) or the RSDT.
    static func findTable(rsdp: UnsafeRawBufferPointer, signature: StaticString,
                          memory: PhysicalReader) -> UnsafeRawBufferPointer? {
        guard rsdp.count >= 20, equal(rsdp, 0, "RSD PTR "), checksum(UnsafeRawBufferPointer(rebasing: rsdp[0..<20])) else {
            return nil
        }
        var root: UnsafeRawBufferPointer? = nil
        var entryWidth = 4
        if rsdp[15] >= 2, rsdp.count >= 36, checksum(UnsafeRawBufferPointer(rebasing: rsdp[0..<36])),
           let xsdt = table(at: MultibootInfo.le64(rsdp, 24), memory: memory), equal(xsdt, 0, "XSDT") {
            root = xsdt
            entryWidth = 8
        } else if let rsdt = table(at: UInt64(MultibootInfo.le32(rsdp, 16)), memory: memory), equal(rsdt, 0, "RSDT") {
            root = rsdt
        }
        guard let root else { return nil }
        var off = headerLength
        while off + entryWidth <= root.count {
            let address = entryWidth == 8 ? MultibootInfo.le64(root, off) : UInt64(MultibootInfo.le32(root, off))
            if let t = table(at: address, memory: memory), equal(t, 0, signature) { return t }
            off += entryWidth
        }
        return nil
    }

    /// A system description table at physical `address`: mapped, sane length, valid checksum.
    static func table(at address: UInt64, memory: PhysicalReader) -> UnsafeRawBufferPointer? {
        guard address != 0, let header = memory(address, headerLength), header.count == headerLength else { return nil }
        let length = Int(MultibootInfo.le32(header, 4))
        guard length >= headerLength, length <= maxTableLength,
              let t = memory(address, length), t.count == length else { return nil }
        return checksum(t) ? t : nil
    }

    /// ACPI checksums: all bytes of the structure sum to zero modulo 256.
    static func checksum(_ b: UnsafeRawBufferPointer) -> Bool {
        var sum: UInt8 = 0
        for x in b { sum &+= x }
        return sum == 0
    }

    static func equal(_ b: UnsafeRawBufferPointer, _ off: Int, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard off >= 0, n <= b.count - off else { return false }
        return s.withUTF8Buffer { u in
            for i in 0..<n where u[i] != b[off + i] { return false }
            return true
        }
    }
}
