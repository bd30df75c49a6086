// DecoderTests: the aarch64 port's pure decoders.
//
// Syndromes are the ESR_EL2 values measured on QEMU 7.2 (shared/docs/ports.md):
// `str w1, [x9]` to the GICD traps as 0x93810045 (ISV = 1), `stp` as
// 0x92000045 and a post-indexed `ldr` as 0x92000005 (ISV = 0); HVC #0 is
// 0x5a000000, SMC #0 0x5e000022 (with ISS bits QEMU sets), WFI 0x07e00000.

import XCTest
import RumABI
import RumkvCore
@testable import AArch64Decoders

final class SyndromeTests: XCTestCase {
    func testExceptionClasses() {
        XCTAssertEqual(Syndrome(0x5A00_0000).ec, Syndrome.ecHVC)
        XCTAssertEqual(Syndrome(0x5E00_0022).ec, Syndrome.ecSMC)
        XCTAssertEqual(Syndrome(0x07E0_0000).ec, Syndrome.ecWFx)
        XCTAssertTrue(Syndrome(0x07E0_0000).isWFI)
        XCTAssertFalse(Syndrome(0x07E0_0001).isWFI, "TI = 1 is WFE")
        XCTAssertEqual(Syndrome(0x9381_0045).ec, Syndrome.ecDataAbortLower)
        XCTAssertTrue(Syndrome(0x9381_0045).il)
    }

    func testValidSyndromeDecodesTheAccess() throws {
        let regs: [UInt64] = [0, 0x1234_5678_9ABC_DEF0]
        let a = try XCTUnwrap(Syndrome(0x9381_0045).dataAccess(ipa: 0x0800_0004) { regs[Int($0)] })
        XCTAssertEqual(a.address, GuestPhysicalAddress(0x0800_0004))
        XCTAssertEqual(a.width, 4)
        XCTAssertTrue(a.write)
        XCTAssertEqual(a.register, 1)
        XCTAssertEqual(a.value, 0x9ABC_DEF0, "a 32-bit store takes the low word of x1")
        XCTAssertEqual(a.instructionLength, 4)
    }

    func testLoadsAndSignExtension() throws {
        // ldrsb x3, [x0]: SAS = 0, SSE = 1, SRT = 3, SF = 1, WnR = 0.
        let esr: UInt64 = 0x24 << 26 | 1 << 25 | 1 << 24 | 0 << 22 | 1 << 21 | 3 << 16 | 1 << 15 | 0x07
        let a = try XCTUnwrap(Syndrome(esr).dataAccess(ipa: 0x1000) { _ in 0 })
        XCTAssertFalse(a.write)
        XCTAssertEqual(a.width, 1)
        XCTAssertEqual(a.register, 3)
        XCTAssertTrue(a.signExtend)
        XCTAssertEqual(extendLoad(0x80, a), 0xFFFF_FFFF_FFFF_FF80)
        XCTAssertEqual(extendLoad(0x17F, a), 0x7F, "only the access width is kept")
        // A store of xzr (SRT = 31) stores zero, whatever the closure would say.
        let z = try XCTUnwrap(Syndrome(0x93DF_0045).dataAccess(ipa: 0) { _ in 0xFFFF })
        XCTAssertEqual(z.width, 8)
        XCTAssertEqual(z.value, 0)
    }

    func testNoSyndromeIsRefused() {
        XCTAssertNil(Syndrome(0x9200_0045).dataAccess(ipa: 0) { _ in 0 }, "stp: ISV = 0")
        XCTAssertNil(Syndrome(0x9200_0005).dataAccess(ipa: 0) { _ in 0 }, "post-indexed ldr: ISV = 0")
        XCTAssertNil(Syndrome(0x5A00_0000).dataAccess(ipa: 0) { _ in 0 }, "not a data abort")
        XCTAssertTrue(Syndrome(0x9200_0045).isWrite)
    }

    func testFaultingIPA() {
        // HPFAR_EL2.FIPA [43:4] holds IPA [51:12]; the page offset comes from FAR_EL2.
        XCTAssertEqual(faultingIPA(hpfar: 0x0800_0000 >> 8, far: 0xFFFF_0000_0000_0ABC), 0x0800_0ABC)
        XCTAssertEqual(faultingIPA(hpfar: (0x80_4000_0000 >> 12) << 4, far: 0x10), 0x80_4000_0010)
    }
}

final class SMCCCTests: XCTestCase {
    func decode(_ x0: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0) -> SMCCC.Decoded {
        SMCCC.decode(x0: x0, x1: x1, x2: x2, x3: x3)
    }

    func testAnsweredInPlace() {
        XCTAssertEqual(decode(0x8400_0000), .answer(0x1_0001, .psci), "PSCI 1.1")
        XCTAssertEqual(decode(0x8000_0000), .answer(0x1_0001, .psci), "SMCCC 1.1")
        XCTAssertEqual(decode(0x8400_0006), .answer(2, .psci), "MIGRATE_INFO_TYPE: no Trusted OS")
        XCTAssertEqual(decode(0x8400_000A, 0xC400_0003), .answer(0, .psci), "FEATURES(CPU_ON64)")
        XCTAssertEqual(decode(0x8400_000A, 0x8400_0008), .answer(0, .psci), "FEATURES(SYSTEM_OFF)")
        XCTAssertEqual(decode(0x8400_000A, 0x8400_0012), .answer(UInt64(bitPattern: -1), .psci), "FEATURES(unknown)")
        XCTAssertEqual(decode(0x8000_0001, 0x8000_8000), .answer(UInt64(bitPattern: -1), .psci), "ARCH_FEATURES")
        XCTAssertEqual(decode(UInt64(RUM_SMCCC_HV_BASE | RUM_HC_VERSION)), .answer(UInt64(RUM_HC_ABI_VERSION), .rumkv))
    }

    func testPSCICalls() {
        XCTAssertEqual(decode(0xC400_0003, 1, 0x8000_1000, 0x55),
                       .call(.vcpuStart(vcpu: 1, entry: GuestPhysicalAddress(0x8000_1000), arg: 0x55), .psci))
        XCTAssertEqual(decode(0x8400_0003, 0xFFFF_FFFF_0000_0002, 0xFFFF_FFFF_8000_0000, 7),
                       .call(.vcpuStart(vcpu: 2, entry: GuestPhysicalAddress(0x8000_0000), arg: 7), .psci),
                       "the SMC32 form takes 32-bit arguments")
        XCTAssertEqual(decode(0xC400_0003, 0x100, 0x8000_0000),
                       .call(.vcpuStart(vcpu: UInt64.max, entry: GuestPhysicalAddress(0x8000_0000), arg: 0), .psci),
                       "an MPIDR with Aff1 names no vCPU: the core refuses it")
        XCTAssertEqual(decode(0x8400_0002), .call(.vcpuStop, .psci))
        XCTAssertEqual(decode(0xC400_0004, 3, 0), .call(.vcpuStatus(vcpu: 3), .psci))
        XCTAssertEqual(decode(0xC400_0004, 3, 1), .call(.vcpuStatus(vcpu: UInt64.max), .psci), "level 1 does not exist")
        XCTAssertEqual(decode(0x8400_0008), .call(.systemReset(.shutdown), .psci))
        XCTAssertEqual(decode(0x8400_0009), .call(.systemReset(.reboot), .psci))
    }

    func testUnknownIdsAreNotSupported() {
        XCTAssertEqual(decode(0x8400_0012), .call(.unsupported, .psci))
        XCTAssertEqual(decode(0x0BAD_CAFE << 32), .call(.unsupported, .psci), "bits [63:32] of a function id must be 0")
        XCTAssertEqual(decode(0xC500_0000), .call(.unsupported, .psci), "another owner")
        XCTAssertEqual(decode(UInt64(RUM_SMCCC_HV_BASE | 0x99)), .call(.unsupported, .rumkv))
    }

    func testRumkvVendorCalls() {
        let hv = UInt64(RUM_SMCCC_HV_BASE)
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_CONSOLE_WRITE), 0x8000_0100, 12),
                       .call(.consoleWrite(GuestPhysicalAddress(0x8000_0100), length: 12), .rumkv))
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_CONSOLE_READ), 0x8000_0200, 16),
                       .call(.consoleRead(GuestPhysicalAddress(0x8000_0200), length: 16), .rumkv))
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_YIELD)), .call(.yield, .rumkv))
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_DOORBELL), 2), .call(.doorbell(2), .rumkv))
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_EXIT), 0), .call(.systemReset(.shutdown), .rumkv))
        XCTAssertEqual(decode(hv | UInt64(RUM_HC_EXIT), 1), .call(.systemReset(.crash), .rumkv))
    }

    func testResultsInRegisters() {
        XCTAssertEqual(SMCCC.registers(.success(7), .psci).x0, 7)
        XCTAssertNil(SMCCC.registers(.success(7), .psci).x1)
        XCTAssertEqual(SMCCC.registers(.failure(.alreadyAvailable), .psci).x0, UInt64(bitPattern: -4), "ALREADY_ON")
        XCTAssertEqual(SMCCC.registers(.failure(.invalidParameter), .psci).x0, UInt64(bitPattern: -2))
        XCTAssertEqual(SMCCC.registers(.failure(.notSupported), .psci).x0, UInt64(bitPattern: -1))
        let ok = SMCCC.registers(.success(42), .rumkv)
        XCTAssertEqual(ok.x0, 0); XCTAssertEqual(ok.x1, 42)
        XCTAssertEqual(SMCCC.registers(.failure(.invalidAddress), .rumkv).x0, UInt64(bitPattern: Int64(RUM_HC_ERR_ADDRESS)))
        XCTAssertEqual(SMCCC.registers(.failure(.notSupported), .rumkv).x0, UInt64(bitPattern: Int64(RUM_HC_ERR_UNSUPPORTED)))
    }
}

final class Stage2FormatTests: XCTestCase {
    func testIndicesForTheFortyBitRoot() {
        let i = Stage2Format.indices(0x80_4020_3000)
        XCTAssertEqual(i.root, 0x201, "two concatenated level-1 tables: 1024 entries")
        XCTAssertEqual(i.level2, 1)
        XCTAssertEqual(i.level3, 3)
        XCTAssertEqual(Stage2Format.indices(0x8000_0000).root, 2)
    }

    func testDescriptors() {
        XCTAssertEqual(Stage2Format.tableDescriptor(0x4010_2000), 0x4010_2003)
        let ram = Stage2Format.leafAttributes(device: false, writable: true)
        XCTAssertEqual(Stage2Format.leaf(0x4040_0000, ram, page: false), 0x4040_0000 | 0x7FD, "AF, SH inner, RW, MemAttr 0xF, block")
        let ro = Stage2Format.leafAttributes(device: false, writable: false)
        XCTAssertEqual(ro & Stage2Format.s2apWrite, 0, "the SysTable page is read-only")
        XCTAssertNotEqual(ro & Stage2Format.executeNever, 0, "and never executable (the attack suite's systable-execute)")
        XCTAssertEqual(ram & Stage2Format.executeNever, 0, "guest RAM executes")
        let dev = Stage2Format.leafAttributes(device: true, writable: true)
        XCTAssertNotEqual(dev & Stage2Format.executeNever, 0, "devices never execute")
        XCTAssertEqual(Stage2Format.leaf(0x0900_0000, dev, page: true) & 3, 3, "a level-3 page")
        XCTAssertEqual(Stage2Format.target(0x0040_0000_4040_07FD), 0x4040_0000)
        XCTAssertEqual(Stage2Format.vttbr(root: 0x4100_0000, vmid: 3), 0x0003_0000_4100_0000)
        XCTAssertEqual(Stage2Format.vttbr(root: 0x4100_0000, vmid: 0x1FF), 0x00FF_0000_4100_0000, "8-bit VMIDs")
    }
}

final class SystemRegisterTrapTests: XCTestCase {
    func testSGI1RWriteDecodes() throws {
        // msr ICC_SGI1R_EL1, x8: EC 0x18, IL, Op0 3, Op2 5, Op1 0, CRn 12, Rt 8, CRm 11, write.
        let a = try XCTUnwrap(SystemRegisterAccess(Syndrome(0x623A_3116)))
        XCTAssertTrue(a.isSGI1R)
        XCTAssertFalse(a.read)
        XCTAssertEqual(a.rt, 8)
        let mrs = try XCTUnwrap(SystemRegisterAccess(Syndrome(0x623A_3117)))
        XCTAssertTrue(mrs.read, "Direction 1 is a read")
        // CNTP_CTL_EL0 (S3_3_C14_C2_1) is no SGI register.
        let cntp = try XCTUnwrap(SystemRegisterAccess(Syndrome(0x18 << 26 | 1 << 25 | 3 << 20 | 1 << 17 | 3 << 14 | 14 << 10 | 2 << 1)))
        XCTAssertFalse(cntp.isSGI1R)
        XCTAssertNil(SystemRegisterAccess(Syndrome(0x5A00_0000)), "not EC 0x18")
    }

    func testSGITargets() {
        XCTAssertEqual(sgiTargets(1 << 1, sender: 0), VCPUSet(bits: 0b10), "TargetList bit 1 = vCPU 1")
        XCTAssertEqual(sgiTargets(0b1011, sender: 3), VCPUSet(bits: 0b1011))
        XCTAssertEqual(sgiTargets(1 << 40, sender: 2), VCPUSet(bits: ~UInt64(0b100)), "IRM: all but the sender")
        XCTAssertEqual(sgiTargets(1 << 16 | 1, sender: 0), VCPUSet(bits: 0), "Aff1 = 1 names no vCPU")
        XCTAssertEqual(sgiTargets(1 << 44 | 1, sender: 0), VCPUSet(bits: 1 << 16), "RS = 1: Aff0 16")
        XCTAssertEqual(sgiTargets(15 << 44 | 1, sender: 0), VCPUSet(bits: 0), "RS beyond 64 vCPUs")
        XCTAssertEqual(sgiTargets(0 << 24 | 0xFFFF, sender: 0).bits, 0xFFFF, "the INTID does not change the targets")
    }
}

final class VirtualGICTests: XCTestCase {
    func testDistributorIdentificationAndControl() {
        var g = VirtualGIC()
        XCTAssertEqual(g.distributor(VGICLayout.pidr2, write: false, 0), 0x30, "ArchRev 3: GICv3")
        let typer = g.distributor(VGICLayout.typer, write: false, 0)
        XCTAssertEqual(typer & 0x1F, 2, "ITLinesNumber 2: 96 INTIDs")
        XCTAssertEqual((typer >> 19) & 0x1F, 9, "10 INTID bits")
        XCTAssertEqual(typer & (1 << 17), 0, "no LPIs")
        _ = g.distributor(VGICLayout.ctlr, write: true, 0xFFFF_FFFF)
        XCTAssertEqual(g.distributor(VGICLayout.ctlr, write: false, 0), 0x13 | 1 << 6,
                       "EnableGrp0/1 and ARE stick, DS reads as 1 (one security state)")
        XCTAssertEqual(g.distributor(0x0C00, write: false, 0), 0, "ICFGR and the rest read as zero")
        XCTAssertEqual(g.distributor(0x0C00, write: true, 0xFFFF), 0)
    }

    func testOnlyOwnedSPIsCanBeEnabled() {
        var g = VirtualGIC()
        g.owned = VirtualGIC.bit(56) | VirtualGIC.bit(48)
        _ = g.distributor(VGICLayout.isenabler + 4, write: true, 0xFFFF_FFFF)      // SPIs 32..63
        XCTAssertEqual(g.enabled, VirtualGIC.bit(56) | VirtualGIC.bit(48), "a guest cannot enable what it does not own")
        XCTAssertEqual(g.distributor(VGICLayout.isenabler + 4, write: false, 0), 1 << 24 | 1 << 16)
        _ = g.distributor(VGICLayout.icenabler + 4, write: true, 1 << 24)
        XCTAssertEqual(g.enabled, VirtualGIC.bit(48))
        _ = g.distributor(VGICLayout.isenabler + 8, write: true, 0xFFFF_FFFF)      // SPIs 64..95: none owned
        XCTAssertEqual(g.enabled, VirtualGIC.bit(48))
        XCTAssertEqual(g.distributor(VGICLayout.isenabler, write: false, 0), 0, "SGI/PPI enables live in the redistributor")
    }

    func testSPIBitsAreBounded() {
        XCTAssertEqual(VirtualGIC.bit(31), 0, "a PPI is no SPI")
        XCTAssertEqual(VirtualGIC.bit(32), 1)
        XCTAssertEqual(VirtualGIC.bit(95), 1 << 63)
        XCTAssertEqual(VirtualGIC.bit(96), 0)
        XCTAssertEqual(VirtualGIC.bit(UInt32.max), 0)
    }

    func testRedistributorFrames() {
        var g = VirtualGIC()
        XCTAssertEqual(g.redistributor(0, VGICLayout.rdTyper, write: false, 0), 0, "vCPU 0: affinity 0.0.0.0, not last")
        let last = g.redistributor(7, VGICLayout.rdTyper, write: false, 0)
        XCTAssertEqual(last >> 32, 7, "affinity Aff0 = vCPU index")
        XCTAssertEqual((last >> 8) & 0xFFFF, 7, "processor number")
        XCTAssertNotEqual(last & (1 << 4), 0, "frame 7 is the Last")
        XCTAssertEqual(g.redistributor(3, VGICLayout.rdTyper + 4, write: false, 0), 3, "the high word alone")
        XCTAssertEqual(g.redistributor(1, VGICLayout.rdWaker, write: false, 0), 0, "awake: ChildrenAsleep = 0")
        XCTAssertEqual(g.redistributor(1, VGICLayout.pidr2, write: false, 0), 0x30)
        _ = g.redistributor(2, VGICLayout.sgiFrame + VGICLayout.isenabler, write: true, 1 << 27 | 1 << 1)
        _ = g.redistributor(2, VGICLayout.sgiFrame + VGICLayout.icenabler, write: true, 1 << 1)
        XCTAssertEqual(g.redistributor(2, VGICLayout.sgiFrame + VGICLayout.isenabler, write: false, 0), 1 << 27)
        XCTAssertEqual(g.privateEnabled[3], 0, "per vCPU")
        XCTAssertEqual(g.redistributor(8, VGICLayout.rdTyper, write: false, 0), 0, "no ninth frame")
        XCTAssertEqual(g.redistributor(-1, VGICLayout.rdTyper, write: false, 0), 0)
    }

    func testWindows() {
        XCTAssertTrue(VGICLayout.distWindow.contains(GuestPhysicalAddress(0x0800_FFFC)))
        XCTAssertFalse(VGICLayout.distWindow.contains(GuestPhysicalAddress(0x0801_0000)))
        XCTAssertTrue(VGICLayout.redistWindow.contains(GuestPhysicalAddress(0x080A_0000 + 7 * 0x2_0000 + 0x1_0100)))
        XCTAssertFalse(VGICLayout.redistWindow.contains(GuestPhysicalAddress(0x080A_0000 + 8 * 0x2_0000)))
    }
}
