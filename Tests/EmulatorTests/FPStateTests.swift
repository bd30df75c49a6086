// FPStateTests: each riscv64 vCPU has FP registers of its own.
//
// Two Rumpk guests share hart 0 and both run the fpcheck payload
// (Guest/Payloads/fpcheck): it turns its FPU on, fills f0..f31 and fcsr with
// values from its own SipHash id, sleeps so the other guest runs on the hart,
// and reads them back, 300 times. Without per-vCPU FP state the first check
// already fails (a build with the restore switched off reported 9,472
// mismatches); with the hypervisor's FS = Off of before, the first FP
// instruction is an illegal instruction and the guest crashes.

import Foundation
import RumkvBuild
import XCTest

final class FPStateTests: XCTestCase {
    func testTwoGuestsOnOneHartNeverSeeEachOthersFPRegisters() throws {
        let (s, _) = try ConsoleSession.bootGuests("fp")
        defer { s.terminate() }
        var results: [String: String] = [:]
        let deadline = Date().addingTimeInterval(40)
        while results.count < 2 && Date() < deadline {
            for g in ["fpa", "fpb"] where results[g] == nil {
                if let line = try s.backlog(g).components(separatedBy: "\n").first(where: { $0.contains("fpcheck: rounds") }) {
                    results[g] = line
                }
            }
            if results.count < 2 { usleep(300_000) }
        }
        XCTAssertEqual(results.count, 2, "both guests report: \(results)\n\(s.transcript)")
        for (g, line) in results {
            XCTAssertTrue(line.contains("fpcheck: rounds 300 mismatches 0 first 0"), "\(g): \(line)")
        }
        let seeds = Set(results.values.compactMap { $0.components(separatedBy: "seed ").last })
        XCTAssertEqual(seeds.count, 2, "the two guests used different values: \(results)")
        let rows = ConsoleParser.guests(try s.command("list"))
        XCTAssertEqual(rows.map(\.state), ["running", "running", "running"])
        XCTAssertEqual(rows.map(\.restarts), [0, 0, 0], "no guest crashed on an FP instruction")
        XCTAssertEqual(rows.first?.cpus, "0")
        XCTAssertFalse(s.transcript.contains("unexpected trap"), s.transcript)
    }
}
