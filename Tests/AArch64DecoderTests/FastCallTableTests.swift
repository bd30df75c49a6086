// FastCallTableTests: the HVCs the EL2 vector answers in place
// (Boot/include/aarch64/fastcalls.h, vectors.S rumkv_hvc_fast) get exactly the
// answers the portable decoder gives, so taking the fast path or the full exit
// cannot change what a guest sees.

import Foundation
import XCTest
import RumABI
@testable import AArch64Decoders

final class FastCallTableTests: XCTestCase {
    struct Entry { let fid, x0, x1: UInt64; let writesX1: Bool }

    /// The F(fid, x0, x1, writes_x1) entries of A64_FAST_CALLS, in order.
    func entries() throws -> [Entry] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Boot/include/aarch64/fastcalls.h"), encoding: .utf8)
        guard let start = text.range(of: "#define A64_FAST_CALLS(F)") else { throw XCTSkip("no table") }
        var result: [Entry] = []
        for line in text[start.upperBound...].split(separator: "\n").dropFirst() {   // the define line ends in "\"
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("F("), let close = t.firstIndex(of: ")") else { break }
            let fields = t[t.index(t.startIndex, offsetBy: 2)..<close].split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            XCTAssertEqual(fields.count, 4, String(t))
            func number(_ s: String) -> UInt64? { s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s) }
            let v = try fields.map { try XCTUnwrap(number($0), "\($0) in \(t)") }
            result.append(Entry(fid: v[0], x0: v[1], x1: v[2], writesX1: v[3] != 0))
        }
        return result
    }

    func testEveryFastCallAnswersAsTheDecoder() throws {
        let table = try entries()
        XCTAssertGreaterThanOrEqual(table.count, 4)
        XCTAssertEqual(table.first?.fid, UInt64(RUM_SMCCC_HV_BASE | RUM_HC_VERSION), "the null call is compared first")
        for e in table {
            // Hostile arguments must not change a constant answer.
            guard case .answer(let v, let conv) = SMCCC.decode(x0: e.fid, x1: ~0, x2: ~0, x3: ~0) else {
                XCTFail(String(format: "0x%llx is not answered in place by the decoder", e.fid)); continue
            }
            let regs = SMCCC.registers(.success(v), conv)
            XCTAssertEqual(regs.x0, e.x0, String(format: "x0 of 0x%llx", e.fid))
            XCTAssertEqual(regs.x1 != nil, e.writesX1, String(format: "x1 of 0x%llx", e.fid))
            if let x1 = regs.x1 { XCTAssertEqual(x1, e.x1, String(format: "x1 of 0x%llx", e.fid)) }
            XCTAssertLessThan(e.x0 | e.x1 | e.fid, 1 << 32, "vectors.S loads 32-bit constants")
        }
        XCTAssertEqual(Set(table.map(\.fid)).count, table.count, "no id twice")
    }
}
