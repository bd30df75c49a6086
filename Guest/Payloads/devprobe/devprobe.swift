// devprobe: a test payload that reads a device its guest was not given.
//
// Reads the virtio-mmio magic of QEMU riscv64 `virt`'s slot 7 (0x10008000),
// or of aarch64 `virt`'s transport 8 (0x0a001000), where the tests put a
// virtio-blk device owned by another guest. Rumkv
// maps a device window only into its owner's stage-2, so the read must end
// this guest with a stage-2 fault; a value coming back means isolation
// failed. Built and signed like every demo payload (Guest/Payloads/hello).

import CRumpk

@_cdecl("payload_main")
public func payloadMain(_ services: UnsafePointer<rum_payload_services_t>) -> Int64 {
    let s = services.pointee
    guard s.magic == RUM_PAYLOAD_SERVICES_MAGIC, let write = s.write else { return 2 }
    #if arch(arm64)
    say(write, "devprobe: reading the virtio magic at 0x0a001000\n")
    let magic = UnsafeMutablePointer<UInt32>(bitPattern: 0x0A00_1000)!
    #else
    say(write, "devprobe: reading the virtio magic at 0x10008000\n")
    let magic = UnsafeMutablePointer<UInt32>(bitPattern: 0x1000_8000)!
    #endif
    var value = magic.pointee
    withUnsafeMutablePointer(to: &value) { _ = write(UnsafeRawPointer($0), 0) }   // keep the load
    say(write, "devprobe: NOT CONTAINED (the read returned)\n")
    return 1
}

typealias Write = @convention(c) (UnsafeRawPointer?, UInt64) -> Int64

func say(_ write: Write, _ text: StaticString) {
    _ = write(UnsafeRawPointer(text.utf8Start), UInt64(text.utf8CodeUnitCount))
}
