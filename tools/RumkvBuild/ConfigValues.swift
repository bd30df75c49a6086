// ConfigValues: converting one written value into what a field means.
//
// Each converter either returns the typed value or throws a FieldProblem whose
// text completes a message of the form "field 'x': <problem>". Ranges and
// units come from ConfigLimits so the config and the bundle reader agree.

/// Why a value does not fit its field; `problem` completes "field 'x': ...".
struct FieldProblem: Error {
    let problem: String
    init(_ problem: String) { self.problem = problem }
}

enum FieldValue {
    static func string(_ v: ConfigValue) throws -> String {
        guard case .string(let s) = v else { throw FieldProblem("expected a string, found \(v.kindName)") }
        return s
    }

    static func bool(_ v: ConfigValue) throws -> Bool {
        guard case .bool(let b) = v else { throw FieldProblem("expected true or false, found \(v.kindName)") }
        return b
    }

    static func int(_ v: ConfigValue, _ range: ClosedRange<Int>) throws -> Int {
        guard case .int(let n) = v else { throw FieldProblem("expected an integer, found \(v.kindName)") }
        guard range.contains(n) else { throw FieldProblem("\(n) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    /// One of the enum's raw values, spelled exactly.
    static func choice<E: RawRepresentable & CaseIterable>(_ v: ConfigValue, _: E.Type) throws -> E where E.RawValue == String {
        let s = try string(v)
        guard let e = E(rawValue: s) else {
            throw FieldProblem("'\(Quote.short(s))' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return e
    }

    /// A size as "4M"/"1G"/"512K" or a positive number of bytes; `text` is how it was written.
    static func size(_ v: ConfigValue) throws -> (bytes: UInt64, text: String) {
        switch v {
        case .string(let s):
            guard let n = ByteSize.parse(s), n > 0 else {
                throw FieldProblem("'\(Quote.short(s))' is not a size (write e.g. \"4M\", \"1G\" or a number of bytes)")
            }
            return (n, s)
        case .int(let n):
            guard n > 0 else { throw FieldProblem("\(n) is not a size (it must be positive)") }
            return (UInt64(n), "\(n)")
        default:
            throw FieldProblem("expected a size such as \"4M\" or a number of bytes, found \(v.kindName)")
        }
    }

    /// Guest RAM: within ConfigLimits.memoryRange and a multiple of ConfigLimits.memoryStep.
    static func guestMemory(_ v: ConfigValue) throws -> UInt64 {
        let (bytes, text) = try size(v)
        let range = ConfigLimits.memoryRange
        if bytes < range.lowerBound {
            throw FieldProblem("\(text) is less than the minimum of \(ByteSize.format(range.lowerBound))")
        }
        if bytes > range.upperBound {
            throw FieldProblem("\(text) is more than the maximum of \(ByteSize.format(range.upperBound))")
        }
        guard bytes % ConfigLimits.memoryStep == 0 else {
            throw FieldProblem("\(text) is not a multiple of \(ByteSize.format(ConfigLimits.memoryStep))")
        }
        return bytes
    }

    /// A non-empty list of distinct hart numbers below `count` (or below 64), sorted.
    static func harts(_ v: ConfigValue, count: Int?) throws -> [Int] {
        guard case .array(let items) = v else {
            throw FieldProblem("expected an array of hart numbers such as [0, 1], found \(v.kindName)")
        }
        guard !items.isEmpty else { throw FieldProblem("the list is empty (leave 'harts' out to allow every hart)") }
        let limit = count ?? ConfigLimits.maxHarts
        var seen = Set<Int>()
        for item in items {
            guard case .int(let h) = item else { throw FieldProblem("expected hart numbers, found \(item.kindName)") }
            guard h >= 0, h < limit else {
                if let count {
                    throw FieldProblem("hart \(h) does not exist (the partition has \(count) hart\(count == 1 ? "" : "s"): 0...\(count - 1))")
                }
                throw FieldProblem("hart \(h) is out of range 0...\(limit - 1)")
            }
            guard seen.insert(h).inserted else { throw FieldProblem("hart \(h) is listed twice") }
        }
        return seen.sorted()
    }
}

extension FieldValue {
    /// `payloads`: names of demo payloads (Guest/Payloads/NAME) or paths of NAME.elf / NAME.npl files; NAMEs unique.
    static func payloads(_ v: ConfigValue) throws -> [PayloadRef] {
        guard case .array(let items) = v else {
            throw FieldProblem("expected an array of payload names or .elf/.npl paths such as [\"hello\"], found \(v.kindName)")
        }
        guard !items.isEmpty else { throw FieldProblem("the list is empty (leave 'payloads' out for a guest without payloads)") }
        guard items.count <= ConfigLimits.maxPayloads else {
            throw FieldProblem("\(items.count) payloads, at most \(ConfigLimits.maxPayloads)")
        }
        var refs: [PayloadRef] = []
        for item in items {
            guard case .string(let s) = item else { throw FieldProblem("expected strings, found \(item.kindName)") }
            let ref: PayloadRef
            if s.contains("/") || s.hasSuffix(".elf") || s.hasSuffix(".npl") {
                guard s.hasSuffix(".elf") || s.hasSuffix(".npl") else {
                    throw FieldProblem("'\(Quote.short(s))': a payload file must end in .elf (signed by the build) or .npl (stored as is)")
                }
                let file = String(s.split(separator: "/").last ?? "")
                ref = PayloadRef(name: String(file.dropLast(4)), source: .file(s))
            } else {
                ref = PayloadRef(name: s, source: .demo(s))
            }
            if let p = ConfigLimits.nameProblem(ref.name) { throw FieldProblem("payload name: \(p)") }
            guard !refs.contains(where: { $0.name == ref.name }) else {
                throw FieldProblem("two payloads are called '\(ref.name)'")
            }
            refs.append(ref)
        }
        return refs
    }

    /// `run`: payload names from `payloads`, in the order Rumpk executes them at boot (repeats allowed).
    static func run(_ v: ConfigValue, payloads: [PayloadRef], given: Bool) throws -> [String] {
        guard case .array(let items) = v else {
            throw FieldProblem("expected an array of payload names such as [\"hello\", \"hello\"], found \(v.kindName)")
        }
        guard given else { throw FieldProblem("there are no 'payloads' to run") }
        guard items.count <= ConfigLimits.maxRun else { throw FieldProblem("\(items.count) entries, at most \(ConfigLimits.maxRun)") }
        return try items.map { item in
            guard case .string(let s) = item else { throw FieldProblem("expected payload names, found \(item.kindName)") }
            guard payloads.contains(where: { $0.name == s }) else {
                throw FieldProblem("'\(Quote.short(s))' is not one of the guest's payloads (\(payloads.map(\.name).joined(separator: ", ")))")
            }
            return s
        }
    }
}

/// How a message quotes a value from a config: at most `limit` characters,
/// so a hostile 10 MB value gives a one-line error, not a 10 MB one.
enum Quote {
    static func short(_ s: String, limit: Int = 40) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "…"
    }
}
