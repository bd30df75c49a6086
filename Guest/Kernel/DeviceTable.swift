// DeviceTable: the devices Rumkv passed through to this guest, checked once.
//
// The hypervisor writes a rum_device_table_t into the read-only SysTable page
// at RUM_DEVTABLE_OFFSET (SysTable.devtable holds its address too), with the
// guest's virtual interrupt controller by kind and regions. Each entry is a
// platform device mapped at guest-physical == host-physical, with its source
// number on that controller. A guest that owns a
// bus-master device also gets a DMA window: an alias of its own RAM at the
// host-physical addresses the device must be given, so a buffer at RAM
// offset x has device address dma_base + x (docs/design/005-interrupt-routing.md).

import RumABI

struct DeviceTableView {
    let table: UnsafePointer<DeviceTable>
    let count: Int
    /// Guest RAM, whose bytes the DMA window aliases.
    let ram: MemRange

    /// The guest's device table, nil if there is none or it is malformed.
    static func open(_ t: UnsafePointer<SysTable>) -> DeviceTableView? {
        let address = UInt64(UInt(bitPattern: t)) + UInt64(RUM_DEVTABLE_OFFSET)
        guard let p = UnsafePointer<DeviceTable>(bitPattern: UInt(address)),
              p.pointee.magic == RUM_DEVTABLE_MAGIC, p.pointee.count <= UInt32(RUM_DEVTABLE_MAX) else { return nil }
        return DeviceTableView(table: p, count: Int(p.pointee.count), ram: t.pointee.mem.0)
    }

    /// Entry `i` (< count), read in place from the table page.
    func device(_ i: Int) -> GuestDevice {
        (UnsafeRawPointer(table) + 0x40)             // rum_device_table_t.devices (asserted in rumabi.h)
            .load(fromByteOffset: i * MemoryLayout<GuestDevice>.size, as: GuestDevice.self)
    }

    /// The device address of `bytes` of guest RAM at `address`, nil outside the DMA window.
    func deviceAddress(_ address: UInt64, bytes: UInt64) -> UInt64? {
        let dma = table.pointee.dma_base, size = min(table.pointee.dma_size, ram.size)
        guard dma != 0, address >= ram.base, bytes <= size, address - ram.base <= size - bytes else { return nil }
        return dma + (address - ram.base)
    }
}

extension GuestDevice {
    /// The device's name as bytes (NUL-padded in the table).
    func withName<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: name) { n in
            var len = 0
            while len < n.count && n[len] >= 0x21 && n[len] < 0x7F { len += 1 }
            return body(UnsafeRawBufferPointer(rebasing: n[0..<len]))
        }
    }
}
