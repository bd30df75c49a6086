// Boot (aarch64): from the loader's hand-off to the portable core.
//
// Finds and validates the device tree (x0, else the base of RAM where QEMU's
// ELF loader puts it: see Boot/aarch64/entry.S), finds the console UART and
// the PSCI conduit, records memory and CPUs, reserves the hypervisor image and
// the DTB itself, checks EL2 and the GIC and starts `Hypervisor<AArch64>`.

import ArchShims
import RumkvCore
import RumABI

@_cdecl("rumkv_main")
func rumkvMain(_ bootArgument: UInt64) -> Never {
    typealias H = Hypervisor<AArch64>
    // Until the tree names the conduit: SMC reaches firmware from EL2, HVC from EL1.
    PSCI.conduit = Virtualization.currentEL() == 2 ? .smc : .hvc
    guard let (dtbAddress, total) = locateDeviceTree(bootArgument) else {
        H.refuse("no valid device tree in x0 or at the base of RAM (bad address or magic)")
    }
    let blob = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(dtbAddress)), count: total)
    let dt: DeviceTree
    do { dt = try DeviceTree(validating: blob) } catch { H.refuse("the device tree is corrupt") }

    guard let uart = DeviceTreePlatform.findDevice(dt, compatible: "arm,pl011") else {
        H.refuse("the device tree names no arm,pl011 console UART")
    }
    Uart.base = uart
    if let method = DeviceTreePlatform.findProperty(dt, node: "psci", depth: 1, "method") {
        if method.hasPrefix("hvc") { PSCI.conduit = .hvc } else if method.hasPrefix("smc") { PSCI.conduit = .smc }
    }

    var platform = Platform()
    platform.bootCPU = a64_read_mpidr() & mpidrAffinityMask
    platform.consoleBase = Uart.base
    platform.firmwareTable = dtbAddress
    do { try DeviceTreePlatform.discover(dt, into: &platform) } catch { H.refuse("the device tree structure is corrupt") }
    platform.memory.reserve(PhysicalRange(base: a64_image_start(), size: a64_image_end() - a64_image_start()), .hypervisor)
    platform.memory.reserve(PhysicalRange(base: dtbAddress, size: UInt64(total)), .deviceTree)
    guard platform.memory.ramCount > 0 else { H.refuse("the device tree describes no memory") }
    guard platform.cpuCount > 0 else { H.refuse("the device tree describes no CPUs") }

    do throws(Virtualization.Failure) {
        let vmidBits = try Virtualization.check(dt)
        platform.virtualization = "EL2"
        platform.virtualizationDetail = "stage-2 via VTTBR_EL2, GICv3"
        platform.detailLabel = "VMID bits"
        platform.detailValue = vmidBits
    } catch {
        H.refuse(error.reason)
    }
    let bundleRange = initrd(dt)
    if let b = bundleRange { platform.memory.reserve(b, .bootModule) }
    var bootCPU = 0
    for i in 0..<min(platform.cpuCount, Platform.cpuIDCapacity) where platform.cpuIDs[i] == platform.bootCPU { bootCPU = i }
    AArch64.cpuCount = min(platform.cpuCount, 8)
    for i in 0..<AArch64.cpuCount { AArch64.cpuIDs[i] = platform.cpuIDs[i] }
    a64_write_tpidr_el2(UInt64(bootCPU))
    guard let b = bundleRange else { H.start(platform) }
    let bundle: BundleView
    do { bundle = try BundleView(base: b.base, size: b.size, maxVCPUs: 8,
                                 maxTotalVCPUs: Int(RUM_BUNDLE_MAX_VCPUS)) } catch { H.refuse(error.reason) }
    guard GIC.discover(dt) else { H.refuse("the device tree's GICv3 has no distributor and redistributor regions") }
    GIC.initDistributor()
    AArch64.prepareCPU(bootCPU)
    H.startWithGuests(platform, bundle: bundle, bootCPU: bootCPU)
}

/// The initrd (the boot bundle) QEMU loaded for a Linux-protocol image
/// (/chosen linux,initrd-start/end), if any.
func initrd(_ dt: DeviceTree) -> PhysicalRange? {
    guard let s = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "linux,initrd-start"),
          let e = DeviceTreePlatform.findProperty(dt, node: "chosen", depth: 1, "linux,initrd-end"),
          let start = s.number(at: 0, cells: UInt32(s.length / 4)),
          let end = e.number(at: 0, cells: UInt32(e.length / 4)), end > start else { return nil }
    return PhysicalRange(base: start, size: end - start)
}

/// MPIDR_EL1 Aff3 [39:32] and Aff2..Aff0 [23:0]: what a /cpus/cpu `reg` holds
/// (Devicetree binding arm/cpus.yaml).
let mpidrAffinityMask: UInt64 = 0xFF_00FF_FFFF

/// The DTB's address and size: x0 if it holds one (Linux arm64 boot
/// protocol), else the base of RAM hypervisor.ld was linked for (QEMU's ELF
/// loader, which passes x0 = 0). The tree must be 8-byte aligned, start with
/// the FDT magic and be at most 16 MiB.
func locateDeviceTree(_ x0: UInt64) -> (UInt64, Int)? {
    if let total = deviceTreeSize(at: x0) { return (x0, total) }
    let ramBase = a64_link_ram_base()
    if let total = deviceTreeSize(at: ramBase) { return (ramBase, total) }
    return nil
}

/// The `totalsize` of a plausible DTB header at `address`, else nil.
func deviceTreeSize(at address: UInt64) -> Int? {
    guard address != 0, address & 7 == 0,
          let total = DeviceTree.peekTotalSize(UnsafeRawPointer(bitPattern: UInt(address))!),
          total >= 40, total <= 16 << 20 else { return nil }
    return total
}
