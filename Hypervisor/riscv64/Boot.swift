// Boot (riscv64): from the firmware's hand-off to the portable core.
//
// Validates the device tree OpenSBI passed, finds the console UART, records
// memory and harts, reserves the hypervisor image and the DTB itself, checks
// the H-extension and starts `Hypervisor<RISCV64>`.

import ArchShims
import RumkvCore
import RumABI

@_cdecl("rumkv_main")
func rumkvMain(_ hartID: UInt64, _ dtbAddress: UInt64) -> Never {
    typealias H = Hypervisor<RISCV64>
    guard dtbAddress != 0, dtbAddress & 7 == 0,
          let total = DeviceTree.peekTotalSize(UnsafeRawPointer(bitPattern: UInt(dtbAddress))!),
          total >= 40, total <= 16 << 20 else {
        H.refuse("no valid device tree at a1 (bad address or magic)")
    }
    let blob = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(dtbAddress)), count: total)
    let dt: DeviceTree
    do { dt = try DeviceTree(validating: blob) } catch { H.refuse("the device tree is corrupt") }

    if let uart = DeviceTreePlatform.findDevice(dt, compatible: "ns16550a") {
        Uart.base = uart
    }
    if let tb = DeviceTreePlatform.findProperty(dt, node: "cpus", depth: 1, "timebase-frequency")?.cell(0), tb > 0 {
        RISCV64.timebaseHz = UInt64(tb)
    }

    var platform = Platform()
    platform.bootCPU = hartID
    platform.consoleBase = Uart.base
    platform.firmwareTable = dtbAddress
    do { try DeviceTreePlatform.discover(dt, into: &platform) } catch { H.refuse("the device tree structure is corrupt") }
    platform.memory.reserve(PhysicalRange(base: rv_image_start(), size: rv_image_end() - rv_image_start()), .hypervisor)
    platform.memory.reserve(PhysicalRange(base: dtbAddress, size: UInt64(total)), .deviceTree)
    guard platform.memory.ramCount > 0 else { H.refuse("the device tree describes no memory") }
    guard platform.cpuCount > 0 else { H.refuse("the device tree describes no harts") }

    let bundleRange = initrd(dt)
    if let b = bundleRange { platform.memory.reserve(b, .bootModule) }

    do throws(Virtualization.Failure) {
        let vmidBits = try Virtualization.check(dt)
        platform.virtualization = "H-extension"
        platform.virtualizationDetail = "HS-mode, stage-2 Sv39x4"
        platform.detailLabel = "VMID bits"
        platform.detailValue = vmidBits
    } catch {
        H.refuse(error.reason)
    }
    var bootHart = 0
    for i in 0..<min(platform.cpuCount, Platform.cpuIDCapacity) where platform.cpuIDs[i] == hartID { bootHart = i }
    rv_write_tp(UInt64(bootHart))
    RISCV64.hartCount = min(platform.cpuCount, 8)
    for i in 0..<RISCV64.hartCount { RISCV64.hartIDs[i] = platform.cpuIDs[i] }
    guard let b = bundleRange else {
        H.banner(platform)
        Out<RISCV64>.line("no boot bundle (initrd): running without guests")
        Shell<RISCV64>.run(platform)
    }
    let bundle: BundleView
    do { bundle = try BundleView(base: b.base, size: b.size, maxVCPUs: 8,
                                 maxTotalVCPUs: Int(RUM_BUNDLE_MAX_VCPUS)) } catch { H.refuse(error.reason) }
    PLIC.discover(dt, bootHart: bootHart)
    RISCV64.prepareHart()
    H.startWithGuests(platform, bundle: bundle, bootCPU: bootHart)
}

/// The initrd QEMU loaded (/chosen linux,initrd-start/end), if any.
func initrd(_ dt: DeviceTree) -> PhysicalRange? {
    guard let s = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "linux,initrd-start"),
          let e = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "linux,initrd-end"),
          let start = s.number(at: 0, cells: UInt32(s.length / 4)),
          let end = e.number(at: 0, cells: UInt32(e.length / 4)), end > start else { return nil }
    return PhysicalRange(base: start, size: end - start)
}
