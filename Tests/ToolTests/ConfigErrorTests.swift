// ConfigErrorTests: every class of config mistake, with the exact message a user sees.
//
// Each message names the file and line, the guest when there is one, the field
// and the problem; several mistakes in one file are all reported, by line.

import XCTest
@testable import RumkvBuild

final class ConfigErrorTests: XCTestCase {
    func testExampleFromTheBrief() {
        let text = partitionHead + guest("alpha") + guest("beta", memory: "\"3M\"")
        XCTAssertEqual(configErrors(text, file: "configs/x/p.toml"),
                       ["configs/x/p.toml:12: guest 'beta': field 'memory': 3M is not a multiple of 2 MiB"])
    }

    func testTooManyVCPUsTogether() {
        let text = partitionHead + guest("a", "vcpus = 6") + guest("b", "vcpus = 6") + guest("c", "vcpus = 6")
        let errors = configErrors(text)
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertTrue(errors.first?.hasSuffix("guest 'c': field 'vcpus': the guests ask for 18 vCPUs together, more than the hypervisor's 16") ?? false,
                      "\(errors)")
        XCTAssertEqual(configErrors(partitionHead + guest("a", "vcpus = 8") + guest("b", "vcpus = 8")), [], "16 fit")
    }

    func testSyntaxErrors() {
        let cases: [(String, String)] = [
            ("memory = \"4M", "p.toml:8: guest 'a': field 'memory': unterminated string"),
            ("memory = \"4\\nM\"", "p.toml:8: guest 'a': field 'memory': unsupported escape in string (only \\\" and \\\\ are allowed)"),
            ("memory \"4M\"", "p.toml:8: guest 'a': field 'memory': expected '=' after the key"),
            ("memory =", "p.toml:8: guest 'a': field 'memory': missing value after '='"),
            ("memory = 4M", "p.toml:8: guest 'a': field 'memory': 4M is not a number (write sizes as strings: \"4M\")"),
            ("memory = 'x'", "p.toml:8: guest 'a': field 'memory': strings use double quotes"),
            ("memory = \"4M\" \"6M\"", "p.toml:8: guest 'a': field 'memory': unexpected '\"' after the value (one statement per line)"),
            ("harts = [0, 1", "p.toml:8: guest 'a': field 'harts': unterminated array"),
            ("harts = [0 1]", "p.toml:8: guest 'a': field 'harts': expected ',' or ']' in array"),
            ("vcpus = yes", "p.toml:8: guest 'a': field 'vcpus': 'yes' is not a value (expected a \"string\", an integer, true, false or [array])"),
            ("vcpus = 01", "p.toml:8: guest 'a': field 'vcpus': '01' is not a value (expected a \"string\", an integer, true, false or [array])"),
            ("cpu.count = 1", "p.toml:8: dotted keys are not supported"),
            ("= 1", "p.toml:8: expected a key or a [table] header, found '='"),
        ]
        for (line, expected) in cases {
            let text = partitionHead + "[[guest]]\nname = \"a\"\nimage = \"rumpk\"\n" + line + "\n"
            let errors = configErrors(text)
            XCTAssertTrue(errors.contains(expected), "\(line): \(errors)")
            if line.hasPrefix("memory") {   // a required field written badly is not also "missing"
                XCTAssertEqual(errors, [expected], line)
            }
        }
    }

    func testTableErrors() {
        XCTAssertEqual(configErrors("[partition]\nname = \"p\"\narch = \"riscv64\"\n[guest]\nname = \"a\"\nimage = \"rumpk\"\nmemory = \"2M\"\n[extra]\nx = 1\n"), [
            "p.toml:4: write [[guest]], not [guest]: each guest is one entry of the guest array",
            "p.toml:8: unknown table [extra] (expected [partition], [[guest]], [[device]] or [[channel]])",
        ])
        XCTAssertEqual(configErrors("vcpus = 1\n" + partitionHead + "[partition]\n" + guest("a")), [
            "p.toml:1: field 'vcpus': is outside any table (put it under [partition] or a [[guest]])",
            "p.toml:6: [partition] appears twice (first on line 2)",
        ])
        XCTAssertEqual(configErrors("[[partition]]\nname = \"p\"\narch = \"riscv64\"\n" + guest("a")),
                       ["p.toml:1: write [partition], not [[partition]]: a file describes one partition"])
        XCTAssertEqual(configErrors("[partition\n"), [
            "p.toml:1: expected ']' to close the table header",
            "p.toml:1: missing [partition] table (it names the partition and its architecture)",
        ])
        XCTAssertEqual(configErrors(guest("a")), ["p.toml:1: missing [partition] table (it names the partition and its architecture)"])
    }

    func testGuestCount() {
        XCTAssertEqual(configErrors(partitionHead), ["p.toml:1: no [[guest]] tables (a partition runs at least one guest)"])
        let nine = (1...9).map { guest("g\($0)") }.joined()
        XCTAssertEqual(configErrors(partitionHead + nine), ["p.toml:37: too many guests: 9 [[guest]] tables, at most 8"])
    }

    func testUnknownAndDuplicateKeys() {
        XCTAssertEqual(configErrors(partitionHead + guest("a", "cpus = 2\nmemory = \"6M\"")), [
            "p.toml:9: guest 'a': field 'cpus': unknown field (expected one of name, image, memory, vcpus, harts, pinned, autostart, restart, verbose, test_payload, payloads, run, boot, ram_base, load_address, virtual_devices, bootargs)",
            "p.toml:10: guest 'a': field 'memory': set twice (first on line 8)",
        ])
        XCTAssertEqual(configErrors(partitionHead + "colour = \"red\"\n" + guest("a")),
                       ["p.toml:5: partition: field 'colour': unknown field (expected one of name, arch, harts, memory_limit)"])
    }

    func testTypeMismatches() {
        let cases: [(String, String)] = [
            ("vcpus = \"2\"", "field 'vcpus': expected an integer, found a string"),
            ("pinned = 1", "field 'pinned': expected true or false, found an integer"),
            ("restart = true", "field 'restart': expected a string, found a boolean"),
            ("harts = 1", "field 'harts': expected an array of hart numbers such as [0, 1], found an integer"),
            ("harts = [\"0\"]", "field 'harts': expected hart numbers, found a string"),
            ("test_payload = [1]", "field 'test_payload': expected a string, found an array"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(configErrors(partitionHead + guest("a", line)), ["p.toml:9: guest 'a': " + expected], line)
        }
        XCTAssertEqual(configErrors(partitionHead + guest("a", memory: "true")),
                       ["p.toml:8: guest 'a': field 'memory': expected a size such as \"4M\" or a number of bytes, found a boolean"])
        XCTAssertEqual(configErrors("[partition]\nname = 5\narch = \"riscv64\"\n" + guest("a")),
                       ["p.toml:2: partition: field 'name': expected a string, found an integer"])
    }

    func testRangesAndChoices() {
        let cases: [(String, String)] = [
            ("vcpus = 0", "field 'vcpus': 0 is out of range 1...8"),
            ("vcpus = 9", "field 'vcpus': 9 is out of range 1...8"),
            ("harts = []", "field 'harts': the list is empty (leave 'harts' out to allow every hart)"),
            ("harts = [2]", "field 'harts': hart 2 does not exist (the partition has 2 harts: 0...1)"),
            ("harts = [-1]", "field 'harts': hart -1 does not exist (the partition has 2 harts: 0...1)"),
            ("harts = [1, 1]", "field 'harts': hart 1 is listed twice"),
            ("restart = \"sometimes\"", "field 'restart': 'sometimes' is not one of never, on-crash, always"),
            ("test_payload = \"nuke\"", "field 'test_payload': 'nuke' is not one of none, read-other-guest, write-hypervisor, touch-unassigned-mmio, bad-sbi-pointer, unknown-sbi, spin-forever, wfi-forever, illegal-instruction, all, bench, attacks, fuzz, crash-loop, no-syndrome-access, el2-register"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(configErrors(partitionHead + guest("a", line)), ["p.toml:9: guest 'a': " + expected], line)
        }
        XCTAssertEqual(configErrors("[partition]\nname = \"p\"\narch = \"riscv64\"\nharts = 65\n" + guest("a")),
                       ["p.toml:4: partition: field 'harts': 65 is out of range 1...64"])
        XCTAssertEqual(configErrors("[partition]\nname = \"p\"\narch = \"mips\"\n" + guest("a")),
                       ["p.toml:3: partition: field 'arch': 'mips' is not one of riscv64, aarch64, x86_64"])
        XCTAssertEqual(configErrors("[partition]\nname = \"p\"\narch = \"riscv64\"\n" + guest("a", "harts = [64]")),
                       ["p.toml:8: guest 'a': field 'harts': hart 64 is out of range 0...63"])
    }

    func testMemory() {
        let cases: [(String, String)] = [
            ("\"3M\"", "3M is not a multiple of 2 MiB"),
            ("\"1M\"", "1M is less than the minimum of 2 MiB"),
            ("\"2G\"", "2G is more than the maximum of 1 GiB"),
            ("3145728", "3145728 is not a multiple of 2 MiB"),
            ("0", "0 is not a size (it must be positive)"),
            ("\"4X\"", "'4X' is not a size (write e.g. \"4M\", \"1G\" or a number of bytes)"),
            ("\"\"", "'' is not a size (write e.g. \"4M\", \"1G\" or a number of bytes)"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(configErrors(partitionHead + guest("a", memory: value)),
                           ["p.toml:8: guest 'a': field 'memory': " + expected], value)
        }
    }

    func testMemoryLimit() {
        let text = partitionHead + "memory_limit = \"10M\"\n" + guest("a") + guest("b") + guest("c", memory: "\"2M\"")
        XCTAssertEqual(configErrors(text), [], "a limit equal to the total is met")
        let over = partitionHead + "memory_limit = \"8M\"\n" + guest("a") + guest("b") + guest("c", memory: "\"2M\"")
        XCTAssertEqual(configErrors(over),
                       ["p.toml:5: partition: field 'memory_limit': the guests need 10 MiB together, more than the limit of 8 MiB"])
    }

    func testNames() {
        let cases: [(String, String)] = [
            ("Alpha", "guest 'Alpha': field 'name': 'Alpha' must start with a lowercase letter"),
            ("1st", "guest '1st': field 'name': '1st' must start with a lowercase letter"),
            ("a.b", "guest 'a.b': field 'name': 'a.b' may contain only a-z, 0-9, '_' and '-'"),
            ("abcdefghijklmnop", "guest 'abcdefghijklmnop': field 'name': 'abcdefghijklmnop' is longer than 15 characters"),
            ("", "guest #1: field 'name': the name is empty"),
        ]
        for (name, expected) in cases {
            XCTAssertEqual(configErrors(partitionHead + guest(name)), ["p.toml:6: " + expected], name)
        }
        XCTAssertEqual(configErrors(partitionHead + guest("abcdefghijklmno")), [], "15 characters fit")
        XCTAssertEqual(configErrors(partitionHead + guest("a") + guest("a")),
                       ["p.toml:10: guest 'a': field 'name': another guest (line 5) has the same name"])
        XCTAssertEqual(configErrors("[partition]\nname = \"My Partition\"\narch = \"riscv64\"\n" + guest("a")),
                       ["p.toml:2: partition: field 'name': 'My Partition' must start with a lowercase letter"])
    }

    func testMissingRequiredFields() {
        XCTAssertEqual(configErrors("[partition]\n[[guest]]\nvcpus = 1\n"), [
            "p.toml:1: partition: field 'name': missing (this field is required)",
            "p.toml:1: partition: field 'arch': missing (this field is required)",
            "p.toml:2: guest #1: field 'name': missing (this field is required)",
            "p.toml:2: guest #1: field 'image': missing (this field is required)",
            "p.toml:2: guest #1: field 'memory': missing (this field is required)",
        ])
        XCTAssertEqual(configErrors(partitionHead + "[[guest]]\nname = \"a\"\nimage = \"\"\nmemory = \"2M\"\n"),
                       ["p.toml:7: guest 'a': field 'image': the path is empty (write \"rumpk\" or a file path)"])
    }

    func testSeveralErrorsSortedByLine() {
        let text = partitionHead + guest("b", "vcpus = 0", memory: "\"5M\"") + guest("c", "restart = \"no\"")
        XCTAssertEqual(configErrors(text), [
            "p.toml:8: guest 'b': field 'memory': 5M is not a multiple of 2 MiB",
            "p.toml:9: guest 'b': field 'vcpus': 0 is out of range 1...8",
            "p.toml:14: guest 'c': field 'restart': 'no' is not one of never, on-crash, always",
        ])
    }

    func testErrorDescriptionIsOneMessagePerLine() {
        let e = ConfigError(["a:1: x", "a:2: y"])
        XCTAssertEqual(e.description, "a:1: x\na:2: y")
    }
}
