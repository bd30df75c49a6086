// DecoderTests: the riscv64 port's pure decoders, on encodings from the assembler.
//
// Instruction words below were produced by clang's RISC-V assembler
// (`-march=rv64ima` for the 32-bit forms, `rv64imac` for the compressed ones).

import XCTest
import RumABI
import RumkvCore
@testable import RISCV64Decoders

final class InstructionDecodeTests: XCTestCase {
    func access(_ write: Bool, _ width: UInt64, _ reg: UInt64, signed: Bool, _ length: UInt64) -> LoadStore {
        LoadStore(write: write, width: width, register: reg, signed: signed, length: length)
    }

    func testThirtyTwoBitLoadsAndStores() {
        XCTAssertEqual(RISCVDecode.loadStore(0x0045_A503), access(false, 4, 10, signed: true, 4))   // lw a0, 4(a1)
        XCTAssertEqual(RISCVDecode.loadStore(0x0081_3283), access(false, 8, 5, signed: true, 4))    // ld t0, 8(sp)
        XCTAssertEqual(RISCVDecode.loadStore(0x0006_4483), access(false, 1, 9, signed: false, 4))   // lbu s1, 0(a2)
        XCTAssertEqual(RISCVDecode.loadStore(0x0027_5683), access(false, 2, 13, signed: false, 4))  // lhu a3, 2(a4)
        XCTAssertEqual(RISCVDecode.loadStore(0x0018_0783), access(false, 1, 15, signed: true, 4))   // lb a5, 1(a6)
        XCTAssertEqual(RISCVDecode.loadStore(0x0006_E603), access(false, 4, 12, signed: false, 4))  // lwu a2, 0(a3)
        XCTAssertEqual(RISCVDecode.loadStore(0x00B5_2623), access(true, 4, 11, signed: false, 4))   // sw a1, 12(a0)
        XCTAssertEqual(RISCVDecode.loadStore(0x0129_B023), access(true, 8, 18, signed: false, 4))   // sd s2, 0(s3)
        XCTAssertEqual(RISCVDecode.loadStore(0x0005_0023), access(true, 1, 0, signed: false, 4))    // sb zero, 0(a0)
        XCTAssertEqual(RISCVDecode.loadStore(0x00E7_9123), access(true, 2, 14, signed: false, 4))   // sh a4, 2(a5)
    }

    func testCompressedLoadsAndStores() {
        XCTAssertEqual(RISCVDecode.loadStore(0x41C8), access(false, 4, 10, signed: true, 2))    // c.lw a0, 4(a1)
        XCTAssertEqual(RISCVDecode.loadStore(0xC690), access(true, 4, 12, signed: false, 2))    // c.sw a2, 8(a3)
        XCTAssertEqual(RISCVDecode.loadStore(0x6880), access(false, 8, 8, signed: true, 2))     // c.ld s0, 16(s1)
        XCTAssertEqual(RISCVDecode.loadStore(0xE398), access(true, 8, 14, signed: false, 2))    // c.sd a4, 0(a5)
        XCTAssertEqual(RISCVDecode.loadStore(0x4312), access(false, 4, 6, signed: true, 2))     // c.lwsp t1, 4(sp)
        XCTAssertEqual(RISCVDecode.loadStore(0xC406), access(true, 4, 1, signed: false, 2))     // c.swsp ra, 8(sp)
        XCTAssertEqual(RISCVDecode.loadStore(0x62A2), access(false, 8, 5, signed: true, 2))     // c.ldsp t0, 8(sp)
    }

    func testEverythingElseIsRefused() {
        XCTAssertNil(RISCVDecode.loadStore(0x00C5_8533))      // add a0, a1, a2
        XCTAssertNil(RISCVDecode.loadStore(0x0000_7003))      // load with funct3 7 (reserved)
        XCTAssertNil(RISCVDecode.loadStore(0x0000_4023))      // store with funct3 4 (reserved)
        XCTAssertNil(RISCVDecode.loadStore(0x1050_0073))      // wfi
        XCTAssertNil(RISCVDecode.loadStore(0x0001))           // c.nop
        XCTAssertNil(RISCVDecode.loadStore(0x0000))           // illegal all-zero
        // Every 16-bit value decodes to nil or to a well-formed access.
        for v in 0..<UInt32(0x1_0000) where v & 3 != 3 {
            if let a = RISCVDecode.loadStore(v) {
                XCTAssertTrue([4, 8].contains(a.width) && a.length == 2 && a.register < 32, "\(v)")
            }
        }
    }
}

final class SBIDecodeTests: XCTestCase {
    func testConsoleCallsCarryTheirArguments() {
        guard case .consoleWrite(let gpa, let len) = SBIExtension.decode(eid: SBIExtension.dbcn, fid: 0, a0: 16,
                                                                          a1: 0x8000_1000, a2: 0x1) else {
            return XCTFail("DBCN write")
        }
        XCTAssertEqual(gpa, GuestPhysicalAddress(0x1_8000_1000), "base_hi supplies bits 63:32")
        XCTAssertEqual(len, 16)
        guard case .consolePutchar(0x41) = SBIExtension.decode(eid: SBIExtension.legacyPutchar, fid: 0, a0: 0x141, a1: 0, a2: 0) else {
            return XCTFail("legacy putchar truncates to a byte")
        }
    }

    func testResetReasons() {
        guard case .systemReset(.shutdown) = SBIExtension.decode(eid: SBIExtension.srst, fid: 0, a0: 0, a1: 0, a2: 0),
              case .systemReset(.reboot) = SBIExtension.decode(eid: SBIExtension.srst, fid: 0, a0: 2, a1: 0, a2: 0),
              case .systemReset(.crash) = SBIExtension.decode(eid: SBIExtension.srst, fid: 0, a0: 0, a1: 1, a2: 0),
              case .invalid = SBIExtension.decode(eid: SBIExtension.srst, fid: 0, a0: 9, a1: 0, a2: 0) else {
            return XCTFail("SRST types and reasons")
        }
    }

    func testHSMIPIAndRumkvCalls() {
        XCTAssertEqual(SBIExtension.decode(eid: SBIExtension.hsm, fid: 0, a0: 1, a1: 0x8000_0000, a2: 7),
                       .vcpuStart(vcpu: 1, entry: GuestPhysicalAddress(0x8000_0000), arg: 7))
        XCTAssertEqual(SBIExtension.decode(eid: SBIExtension.hsm, fid: 1, a0: 0, a1: 0, a2: 0), .vcpuStop)
        XCTAssertEqual(SBIExtension.decode(eid: SBIExtension.ipi, fid: 0, a0: 0b10, a1: 0, a2: 0), .sendIPI(VCPUSet(bits: 0b10)))
        guard case .vcpuStatus(3) = SBIExtension.decode(eid: SBIExtension.hsm, fid: 2, a0: 3, a1: 0, a2: 0),
              case .doorbell(1) = SBIExtension.decode(eid: SBIExtension.rumkv, fid: UInt64(RUM_HC_DOORBELL), a0: 1, a1: 0, a2: 0),
              case .systemReset(.crash) = SBIExtension.decode(eid: SBIExtension.rumkv, fid: UInt64(RUM_HC_EXIT), a0: 3, a1: 0, a2: 0) else {
            return XCTFail("HSM, IPI and Rumkv calls")
        }
    }

    /// SRST (SBI v2.0, 10.1): reserved types and reasons are invalid, vendor types unsupported.
    func testSystemResetArguments() {
        func srst(_ type: UInt64, _ reason: UInt64) -> GuestCall {
            SBIExtension.decode(eid: SBIExtension.srst, fid: 0, a0: type, a1: reason, a2: 0)
        }
        XCTAssertEqual(srst(0, 0), .systemReset(.shutdown))
        XCTAssertEqual(srst(1, 0), .systemReset(.reboot))
        XCTAssertEqual(srst(2, 0), .systemReset(.reboot))
        XCTAssertEqual(srst(0, 1), .systemReset(.crash))
        XCTAssertEqual(srst(0, 0xE000_0001), .systemReset(.shutdown), "implementation-specific reason")
        XCTAssertEqual(srst(3, 0), .invalid)
        XCTAssertEqual(srst(0x1234_5678, 0), .invalid)
        XCTAssertEqual(srst(0xF000_0000, 0), .unsupported, "vendor-specific type")
        XCTAssertEqual(srst(0, 2), .invalid)
        XCTAssertEqual(srst(7, 1), .invalid, "a reserved type is refused even with a failure reason")
    }

    func testUnknownCallsAreUnsupported() {
        for (eid, fid) in [(UInt64(0x0BAD_CAFE), UInt64(0)), (SBIExtension.hsm, 9), (SBIExtension.dbcn, 7),
                           (SBIExtension.ipi, 1), (SBIExtension.rumkv, 99)] {
            guard case .unsupported = SBIExtension.decode(eid: eid, fid: fid, a0: 0, a1: 0, a2: 0) else {
                return XCTFail("\(eid):\(fid) should be unsupported")
            }
        }
        XCTAssertTrue(SBIExtension.supported(SBIExtension.base))
        XCTAssertFalse(SBIExtension.supported(0x0BAD_CAFE))
    }
}

final class SBIConventionTests: XCTestCase {
    /// hart_mask is relative to hart_mask_base; base all-ones means every hart (SBI v2.0, 3.2).
    func testHartMaskBecomesVCPUSet() {
        XCTAssertEqual(SBIExtension.targets(mask: 0b11, base: 2), VCPUSet(bits: 0b1100))
        XCTAssertEqual(SBIExtension.targets(mask: 0, base: UInt64.max), .all)
        XCTAssertNil(SBIExtension.targets(mask: ~0, base: 64), "no hart at or beyond 64")
        XCTAssertNil(SBIExtension.targets(mask: 1 << 63, base: 1), "a bit past 63 is a hart no guest has")
        XCTAssertEqual(SBIExtension.targets(mask: 1, base: 63), VCPUSet(bits: 1 << 63))
        XCTAssertEqual(SBIExtension.targets(mask: 0, base: 1 << 40), VCPUSet(bits: 0), "an empty mask at any base")
        XCTAssertEqual(SBIExtension.decode(eid: SBIExtension.ipi, fid: 0, a0: 1, a1: 64, a2: 0), .invalid)
        XCTAssertEqual(SBIExtension.decode(eid: SBIExtension.rfence, fid: 1, a0: 3, a1: 63, a2: 0), .invalid)
        XCTAssertTrue(VCPUSet(bits: 0b100).contains(2))
        XCTAssertFalse(VCPUSet.all.contains(64))
        XCTAssertFalse(VCPUSet.all.contains(-1))
    }

    func testErrorCodes() {
        let expected: [(CallError, Int64)] = [(.failed, -1), (.notSupported, -2), (.invalidParameter, -3),
                                               (.invalidAddress, -5), (.alreadyAvailable, -6),
                                               (.alreadyStarted, -7), (.alreadyStopped, -8)]
        for (e, code) in expected { XCTAssertEqual(SBIError.code(e), code, "\(e)") }
    }

    /// SBI calls return (error, value) in a0/a1; legacy ones the value (or -1) in a0 alone.
    func testResultRegisters() {
        let ok = SBIError.registers(.success(42), legacy: false)
        XCTAssertEqual(ok.a0, 0); XCTAssertEqual(ok.a1, 42)
        let bad = SBIError.registers(.failure(.invalidAddress), legacy: false)
        XCTAssertEqual(bad.a0, UInt64(bitPattern: -5)); XCTAssertEqual(bad.a1, 0)
        let char = SBIError.registers(.success(0x61), legacy: true)
        XCTAssertEqual(char.a0, 0x61); XCTAssertNil(char.a1)
        let none = SBIError.registers(.failure(.failed), legacy: true)
        XCTAssertEqual(none.a0, UInt64(bitPattern: -1)); XCTAssertNil(none.a1)
        XCTAssertTrue(SBIExtension.isLegacy(SBIExtension.legacyGetchar))
        XCTAssertFalse(SBIExtension.isLegacy(SBIExtension.dbcn))
    }

    /// Only a real `wfi` read from guest memory waits; any other trapped instruction
    /// (hlv.d, 0x6C05C573, from issue 14) is a virtual-instruction fault.
    func testTrappedInstructions() {
        XCTAssertTrue(TrappedInstruction.isWFI(0x1050_0073))
        XCTAssertFalse(TrappedInstruction.isWFI(0x6C05_C573))
        XCTAssertFalse(TrappedInstruction.isWFI(0))
    }
}

final class Sv39x4Tests: XCTestCase {
    func testEncoding() {
        XCTAssertEqual(Sv39x4.pte(0x8040_0000, Sv39x4.valid), (0x8040_0000 >> 12) << 10 | 1)
        XCTAssertEqual(Sv39x4.target(Sv39x4.pte(0x8040_0000, 0xFF)), 0x8040_0000)
        let i = Sv39x4.indices(0x7FFF_F000)
        XCTAssertEqual(i.root, 1)
        XCTAssertEqual(i.level1, 511)
        XCTAssertEqual(i.level0, 511)
        XCTAssertEqual(Sv39x4.indices(0x1_8000_0000_0).root & 0x7FF, (0x1_8000_0000_0 >> 30) & 0x7FF,
                       "the x4 root takes two more address bits")
        XCTAssertEqual(Sv39x4.hgatp(root: 0x8100_4000, vmid: 3) >> 60, 8)
        XCTAssertEqual((Sv39x4.hgatp(root: 0x8100_4000, vmid: 3) >> 44) & 0x3FFF, 3)
    }
}
