// Boot (aarch64): from the loader's hand-off to the portable core.
//
// Finds and validates the device tree (x0, else the base of RAM where QEMU's
// ELF loader puts it: see Boot/aarch64/entry.S), finds the console UART and
// the PSCI conduit, records memory and CPUs, reserves the hypervisor image and
// the DTB itself, checks EL2 and the GIC and starts `Hypervisor<AArch64>`.

import ArchShims
import RumkvCore

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

    switch Virtualization.check(dt) {
    case .failure(let box): H.refuse(box.failure.reason)
    case .success(let vmidBits):
        platform.virtualization = "EL2"
        platform.virtualizationDetail = "stage-2 via VTTBR_EL2, GICv3"
        platform.detailLabel = "VMID bits"
        platform.detailValue = vmidBits
    }
    H.start(platform)
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
