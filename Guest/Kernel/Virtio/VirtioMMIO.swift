// VirtioMMIO: a virtio device behind the MMIO transport, version 2.
//
// Virtio 1.1, section 4.2.2 (register layout) and 3.1.1 (initialization):
// reset, ACKNOWLEDGE, DRIVER, feature negotiation with VIRTIO_F_VERSION_1
// (bit 32) mandatory, FEATURES_OK read back, queue set-up, DRIVER_OK. Only
// the modern interface (Version 2) is driven: QEMU offers it with
// `-global virtio-mmio.force-legacy=false`. Every register is 32 bits wide;
// 64-bit addresses are written as low/high halves.

enum VirtioRegister {
    static let magic: UInt64 = 0x000
    static let version: UInt64 = 0x004
    static let deviceID: UInt64 = 0x008
    static let deviceFeatures: UInt64 = 0x010
    static let deviceFeaturesSel: UInt64 = 0x014
    static let driverFeatures: UInt64 = 0x020
    static let driverFeaturesSel: UInt64 = 0x024
    static let queueSel: UInt64 = 0x030
    static let queueNumMax: UInt64 = 0x034
    static let queueNum: UInt64 = 0x038
    static let queueReady: UInt64 = 0x044
    static let queueNotify: UInt64 = 0x050
    static let interruptStatus: UInt64 = 0x060
    static let interruptACK: UInt64 = 0x064
    static let status: UInt64 = 0x070
    static let queueDesc: UInt64 = 0x080
    static let queueDriver: UInt64 = 0x090
    static let queueDevice: UInt64 = 0x0A0
    static let configGeneration: UInt64 = 0x0FC
    static let config: UInt64 = 0x100
}

/// Device status bits (Virtio 1.1, 2.1).
enum VirtioStatus {
    static let acknowledge: UInt32 = 1
    static let driver: UInt32 = 2
    static let driverOK: UInt32 = 4
    static let featuresOK: UInt32 = 8
    static let failed: UInt32 = 128
}

enum VirtioDeviceID {
    static let net: UInt32 = 1
    static let block: UInt32 = 2
    static let entropy: UInt32 = 4
}

enum VirtioFeature {
    static let version1: UInt64 = 1 << 32
}

enum VirtioError: Error {
    case notVirtio, legacy, noVersion1, featuresRefused, noQueue, noDMA, ioError, timeout, noInterrupt

    var reason: StaticString {
        switch self {
        case .notVirtio: "not a virtio-mmio device"
        case .legacy: "legacy virtio-mmio (version 1) is not supported"
        case .noVersion1: "device does not offer VIRTIO_F_VERSION_1"
        case .featuresRefused: "device refused the features (FEATURES_OK)"
        case .noQueue: "queue 0 is missing or in use"
        case .noDMA: "buffers outside the DMA window"
        case .ioError: "the device reported an error"
        case .timeout: "no completion within a second"
        case .noInterrupt: "completed, but no interrupt came within a second"
        }
    }
}

struct VirtioDevice<P: GuestPort> {
    let base: UInt64

    func read(_ register: UInt64) -> UInt32 { P.read32(base + register) }
    func write(_ register: UInt64, _ value: UInt32) { P.write32(base + register, value) }

    /// The device id (VirtioDeviceID), after checking magic "virt" and version 2.
    func identify() throws(VirtioError) -> UInt32 {
        guard read(VirtioRegister.magic) == 0x7472_6976 else { throw .notVirtio }
        guard read(VirtioRegister.version) == 2 else { throw .legacy }
        return read(VirtioRegister.deviceID)
    }

    /// Reset through FEATURES_OK: accepts VERSION_1 plus what of `wanted` the device offers.
    func negotiate(_ wanted: UInt64) throws(VirtioError) -> UInt64 {
        reset()
        write(VirtioRegister.status, VirtioStatus.acknowledge)
        write(VirtioRegister.status, VirtioStatus.acknowledge | VirtioStatus.driver)
        write(VirtioRegister.deviceFeaturesSel, 0)
        var offered = UInt64(read(VirtioRegister.deviceFeatures))
        write(VirtioRegister.deviceFeaturesSel, 1)
        offered |= UInt64(read(VirtioRegister.deviceFeatures)) << 32
        guard offered & VirtioFeature.version1 != 0 else { fail(); throw .noVersion1 }
        let accepted = offered & (wanted | VirtioFeature.version1)
        write(VirtioRegister.driverFeaturesSel, 0)
        write(VirtioRegister.driverFeatures, UInt32(truncatingIfNeeded: accepted))
        write(VirtioRegister.driverFeaturesSel, 1)
        write(VirtioRegister.driverFeatures, UInt32(truncatingIfNeeded: accepted >> 32))
        let status = VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK
        write(VirtioRegister.status, status)
        guard read(VirtioRegister.status) & VirtioStatus.featuresOK != 0 else { fail(); throw .featuresRefused }
        return accepted
    }

    /// Gives queue `index` the rings of `q` (device addresses in `dma`) and enables it.
    func attach(queue index: UInt32, _ q: Virtqueue, _ dma: DeviceTableView) throws(VirtioError) {
        write(VirtioRegister.queueSel, index)
        guard read(VirtioRegister.queueReady) == 0, read(VirtioRegister.queueNumMax) >= UInt32(Virtqueue.size) else {
            fail(); throw .noQueue
        }
        guard let desc = dma.deviceAddress(q.address + Virtqueue.descOffset, bytes: Virtqueue.bytes),
              let avail = dma.deviceAddress(q.address + Virtqueue.availOffset, bytes: 0),
              let used = dma.deviceAddress(q.address + Virtqueue.usedOffset, bytes: 0) else { fail(); throw .noDMA }
        write(VirtioRegister.queueNum, UInt32(Virtqueue.size))
        write64(VirtioRegister.queueDesc, desc)
        write64(VirtioRegister.queueDriver, avail)
        write64(VirtioRegister.queueDevice, used)
        write(VirtioRegister.queueReady, 1)
    }

    /// The device may now use its queues and interrupt.
    func start() {
        write(VirtioRegister.status, read(VirtioRegister.status) | VirtioStatus.driverOK)
    }

    /// Tells the device that queue `index` has new available buffers.
    func notify(_ index: UInt32) {
        P.ioBarrier()               // the avail ring before the doorbell write
        write(VirtioRegister.queueNotify, index)
    }

    /// Status 0: the device forgets its queues and stops using guest memory
    /// (it reads back 0 once the reset is done: Virtio 1.1, 4.2.3.1; bounded wait).
    func reset() {
        write(VirtioRegister.status, 0)
        var tries = 0
        while read(VirtioRegister.status) != 0 && tries < 1000 { tries += 1 }
    }

    func fail() { write(VirtioRegister.status, read(VirtioRegister.status) | VirtioStatus.failed) }

    /// A 32-bit field of the device-specific configuration space.
    func config32(_ offset: UInt64) -> UInt32 { read(VirtioRegister.config + offset) }

    /// A 64-bit configuration field, read consistently (ConfigGeneration, Virtio 1.1, 2.4.1).
    func config64(_ offset: UInt64) -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<16 {
            let g = read(VirtioRegister.configGeneration)
            v = UInt64(config32(offset)) | UInt64(config32(offset + 4)) << 32
            if read(VirtioRegister.configGeneration) == g { break }
        }
        return v
    }

    var interruptACK: UInt64 { base + VirtioRegister.interruptACK }

    func write64(_ register: UInt64, _ value: UInt64) {
        write(register, UInt32(truncatingIfNeeded: value))
        write(register + 4, UInt32(truncatingIfNeeded: value >> 32))
    }
}
