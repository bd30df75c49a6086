// PayloadConfigTests: the `payloads` and `run` fields of a guest.
//
// `payloads` lists demo payload names or .elf/.npl paths (member NAME.npl
// each), `run` the names to execute at boot; every mistake is one message
// naming the file, line, guest and field.

import XCTest
@testable import RumkvBuild

final class PayloadConfigTests: XCTestCase {
    func testPayloadsAndRunAreParsed() throws {
        let c = try parseConfig(partitionHead + guest("a", """
            payloads = ["hello", "fixtures/bad.npl", "/abs/tool.elf"]
            run = ["hello", "bad", "hello"]
            """))
        let g = c.guests[0]
        XCTAssertEqual(g.payloads, [PayloadRef(name: "hello", source: .demo("hello")),
                                    PayloadRef(name: "bad", source: .file("fixtures/bad.npl")),
                                    PayloadRef(name: "tool", source: .file("/abs/tool.elf"))])
        XCTAssertEqual(g.run, ["hello", "bad", "hello"])
        XCTAssertEqual(g.autorun, ["hello", "bad", "hello"])
    }

    func testRunDefaultsToEachPayloadOnceAndMayBeEmpty() throws {
        let c = try parseConfig(partitionHead + guest("a", "payloads = [\"hello\", \"x.npl\"]") + guest("b", "payloads = [\"hello\"]\nrun = []"))
        XCTAssertNil(c.guests[0].run)
        XCTAssertEqual(c.guests[0].autorun, ["hello", "x"])
        XCTAssertEqual(c.guests[1].autorun, [])
        XCTAssertEqual(try parseConfig(partitionHead + guest("c")).guests[0].payloads, [])
    }

    func testMistakesAreReported() {
        let cases: [(String, String)] = [
            ("payloads = \"hello\"", "field 'payloads': expected an array of payload names or .elf/.npl paths such as [\"hello\"], found a string"),
            ("payloads = []", "field 'payloads': the list is empty (leave 'payloads' out for a guest without payloads)"),
            ("payloads = [1]", "field 'payloads': expected strings, found an integer"),
            ("payloads = [\"Hello\"]", "field 'payloads': payload name: 'Hello' must start with a lowercase letter"),
            ("payloads = [\"dir/tool.bin\"]", "field 'payloads': 'dir/tool.bin': a payload file must end in .elf (signed by the build) or .npl (stored as is)"),
            ("payloads = [\"hello\", \"x/hello.npl\"]", "field 'payloads': two payloads are called 'hello'"),
            ("payloads = [\"averyveryverylongname\"]", "field 'payloads': payload name: 'averyveryverylongname' is longer than 15 characters"),
            ("run = [\"hello\"]", "field 'run': there are no 'payloads' to run"),
            ("payloads = [\"hello\"]\nrun = [\"hello\", \"bye\"]", "field 'run': 'bye' is not one of the guest's payloads (hello)"),
            ("payloads = [\"hello\"]\nrun = \"hello\"", "field 'run': expected an array of payload names such as [\"hello\", \"hello\"], found a string"),
            ("payloads = [\"hello\"]\nrun = [" + Array(repeating: "\"hello\"", count: 17).joined(separator: ", ") + "]",
             "field 'run': 17 entries, at most 16"),
        ]
        for (lines, problem) in cases {
            let errors = configErrors(partitionHead + guest("a", lines))
            XCTAssertEqual(errors.count, 1, "\(lines): \(errors)")
            XCTAssertTrue(errors.first?.hasSuffix("guest 'a': " + problem) ?? false, "\(lines): \(errors)")
        }
        // A broken 'payloads' does not cascade into 'run'.
        XCTAssertEqual(configErrors(partitionHead + guest("a", "payloads = []\nrun = [\"x\"]")).count, 1)
    }
}
