// FastCallTableTests: the SBI calls switch.S answers at the top of the guest
// trap (Boot/include/riscv64/fastcalls.h) get exactly the answers the decoder
// gives, so taking the fast path or the full exit cannot change what a guest sees.

import Foundation
import XCTest
@testable import RISCV64Decoders

final class RISCV64FastCallTableTests: XCTestCase {
    func header() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Boot/include/riscv64/fastcalls.h"), encoding: .utf8)
    }

    func number(_ s: Substring) -> UInt64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    }

    /// The F(fid, a1) entries of RV_FAST_BASE, in order.
    func entries() throws -> [(fid: UInt64, a1: UInt64)] {
        let text = try header()
        let start = try XCTUnwrap(text.range(of: "#define RV_FAST_BASE(F)"))
        var result: [(UInt64, UInt64)] = []
        for line in text[start.upperBound...].split(separator: "\n").dropFirst() {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("F("), let close = t.firstIndex(of: ")") else { break }
            let fields = t[t.index(t.startIndex, offsetBy: 2)..<close].split(separator: ",")
            XCTAssertEqual(fields.count, 2, t)
            result.append((try XCTUnwrap(number(fields[0]), t), try XCTUnwrap(number(fields[1]), t)))
        }
        return result
    }

    func testEveryFastBaseCallAnswersAsTheDecoder() throws {
        let table = try entries()
        XCTAssertEqual(table.first?.fid, 0, "the null call (get_spec_version) is compared first")
        XCTAssertEqual(Set(table.map(\.fid)).count, table.count, "no function twice")
        for e in table {
            XCTAssertEqual(SBIExtension.baseConstant(e.fid).map { UInt64(bitPattern: $0) }, e.a1, "BASE fid \(e.fid)")
            XCTAssertLessThan(e.a1, 1 << 31, "li of a positive 32-bit constant")
        }
        // Every constant answer of the decoder is on the fast path; probe_extension is not.
        for fid: UInt64 in 0..<16 where SBIExtension.baseConstant(fid) != nil {
            XCTAssertTrue(table.contains { $0.fid == fid }, "BASE fid \(fid) has a constant answer but takes the slow path")
        }
        XCTAssertNil(SBIExtension.baseConstant(3), "probe_extension depends on a0")
    }

    func testExtensionIDsMatchTheDecoder() throws {
        let text = try header()
        func define(_ name: String) throws -> UInt64 {
            let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") })
            return try XCTUnwrap(number(line.split(separator: " ").last!))
        }
        XCTAssertEqual(try define("RV_SBI_BASE_EID"), SBIExtension.base)
        XCTAssertEqual(try define("RV_SBI_TIME_EID"), SBIExtension.time)
    }
}
