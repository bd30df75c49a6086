// Platform: what the boot code learned about the machine.
//
// Each architecture's entry fills a `Platform` from its firmware's description
// (device tree on riscv64/aarch64, multiboot2 on x86_64) and hands it to the
// core. It is the only machine description the core reads.

public struct Platform {
    /// Name of the virtualization extension found ("H-extension").
    public var virtualization: StaticString = ""
    /// One line of detail printed under the banner ("HS-mode, hgatp Sv39x4, 14 VMID bits").
    public var virtualizationDetail: StaticString = ""
    /// Extra numeric fact for the banner, e.g. VMID bits or VMCS revision (optional).
    public var detailValue: UInt64? = nil
    public var detailLabel: StaticString = ""
    public var memory = MemoryMap()
    /// Hardware ids of the CPUs (hart ids, MPIDR affinity, APIC ids), first `cpuIDCapacity`.
    public var cpuIDs: InlineArray<16, UInt64> = .init(repeating: 0)
    public var cpuCount = 0
    public var bootCPU: UInt64 = 0
    /// Console UART physical address, for the `mem` and `cpus` reports.
    public var consoleBase: UInt64 = 0
    /// Firmware-provided description location (DTB or multiboot info), 0 if none.
    public var firmwareTable: UInt64 = 0

    public static let cpuIDCapacity = 16

    public init() {}

    /// Records a CPU; CPUs beyond the id table are still counted.
    public mutating func addCPU(_ id: UInt64) {
        if cpuCount < Platform.cpuIDCapacity { cpuIDs[cpuCount] = id }
        cpuCount += 1
    }
}
