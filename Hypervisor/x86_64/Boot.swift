// Boot (x86_64): from GRUB's multiboot2 hand-off to the portable core.
//
// entry.S has switched to long mode with the low 4 GiB identity-mapped and
// the IDT installed. Here: the console, the multiboot2 information (checked
// before use: it is input from outside), RAM from its memory map, the
// reservations (the first MiB of BIOS areas, the hypervisor image, the
// information itself, boot modules), CPUs from the ACPI MADT, the TSC rate,
// then VMX with the controls guests run with, and `Hypervisor<X86_64>`
// starts with the guests of the boot bundle (the first module), if there is one.

import ArchShims
import RumkvCore

@_cdecl("rumkv_main")
func rumkvMain(_ magic: UInt64, _ infoAddress: UInt64) -> Never {
    typealias H = Hypervisor<X86_64>
    Uart.initialize()
    guard magic == MultibootInfo.bootloaderMagic else {
        H.refuse("not started by a multiboot2 loader (eax is not 0x36d76289)")
    }
    guard infoAddress != 0, infoAddress & 7 == 0, infoAddress < Acpi.mappedLimit - UInt64(MultibootInfo.maxSize),
          let header = UnsafeRawPointer(bitPattern: UInt(infoAddress)) else {
        H.refuse("the multiboot2 information address is invalid")
    }
    let size = min(MultibootInfo.peekTotalSize(header), MultibootInfo.maxSize)
    let info: MultibootInfo
    do { info = try MultibootInfo(validating: UnsafeRawBufferPointer(start: header, count: size)) } catch {
        H.refuse("the multiboot2 information is corrupt")
    }

    var platform = Platform()
    platform.consoleBase = UInt64(Uart.base)
    platform.firmwareTable = infoAddress
    platform.bootCPU = UInt64(x86_cpuid(1, 0).ebx >> 24)
    info.forEachRegion { r in
        if r.type == MultibootRegion.available { platform.memory.addRAM(PhysicalRange(base: r.base, size: r.length)) }
    }
    guard platform.memory.ramCount > 0 else { H.refuse("the multiboot2 information has no memory map") }
    platform.memory.reserve(PhysicalRange(base: 0, size: 1 << 20), .firmware)
    platform.memory.reserve(PhysicalRange(base: x86_image_start(), size: x86_image_end() - x86_image_start()), .hypervisor)
    platform.memory.reserve(PhysicalRange(base: infoAddress, size: UInt64(info.totalSize)), .firmware)
    info.forEachModule { start, end in platform.memory.reserve(PhysicalRange(base: start, size: end - start), .bootModule) }

    let foundMADT = info.rsdp().map { Acpi.discoverCPUs(rsdp: $0, memory: Acpi.identityMapped, into: &platform) } ?? false
    if !foundMADT { platform.addCPU(platform.bootCPU) }   // no usable MADT: count the CPU we run on
    TimeStamp.calibrate()

    do throws(Virtualization.Failure) {
        let caps = try Virtualization.enter()
        try VMX.configure(revision: caps.revision)
        platform.virtualization = "VMX"
        platform.virtualizationDetail = caps.unrestrictedGuest ? "VMX root, EPT, unrestricted guest" : "VMX root, EPT"
        platform.detailLabel = "VMCS revision"
        platform.detailValue = UInt64(caps.revision)
    } catch {
        H.refuse(error.reason)
    }
    // The AP trampoline page must not hold the multiboot information or a module.
    let trampoline = PhysicalRange(base: Smp.trampolineBase, size: 4096)
    func overlaps(_ a: PhysicalRange, _ b: PhysicalRange) -> Bool { a.base < b.end && b.base < a.end }
    var trampolineFree = !overlaps(PhysicalRange(base: infoAddress, size: UInt64(info.totalSize)), trampoline)
    info.forEachModule { start, end in
        if overlaps(PhysicalRange(base: start, size: end - start), trampoline) { trampolineFree = false }
    }
    Smp.trampolineFree = trampolineFree
    Smp.record(platform)
    // The 8259 PICs stay masked: the hypervisor polls and guests get no physical interrupt.
    x86_outb(0x21, 0xFF)
    x86_outb(0xA1, 0xFF)
    var module: PhysicalRange? = nil
    info.forEachModule { start, end in if module == nil { module = PhysicalRange(base: start, size: end - start) } }
    guard let m = module else {
        H.banner(platform)
        Out<X86_64>.line("no boot bundle (multiboot2 module): running without guests")
        Shell<X86_64>.run(platform)
    }
    let bundle: BundleView
    do { bundle = try BundleView(base: m.base, size: m.size, maxVCPUs: 8) } catch {
        H.banner(platform)
        Out<X86_64>.str("the boot module is not a bundle ("); Out<X86_64>.str(error.reason)
        Out<X86_64>.line("): running without guests")
        Shell<X86_64>.run(platform)
    }
    H.startWithGuests(platform, bundle: bundle, bootCPU: Smp.index(ofAPIC: UInt32(truncatingIfNeeded: platform.bootCPU)))
}
