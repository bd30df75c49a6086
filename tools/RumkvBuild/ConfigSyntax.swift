// ConfigSyntax: the small TOML subset partition configs are written in.
//
// Reads text into tables of `key = value` entries, each remembering its line,
// and knows nothing about what the keys mean (ConfigDecoder does). Supported:
// `#` comments, `[table]` and `[[array-of-tables]]` headers, bare keys, strings
// in double quotes with \" and \\ escapes, decimal and 0x integers (with `_`
// separators), true/false, and arrays (which may span lines). Anything else is
// a syntax error naming the line; the reader skips to the next line and goes on
// so that one config run reports several mistakes.

import Foundation

/// A value as written, before it is given a meaning.
enum ConfigValue: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([ConfigValue])

    /// How an error message names the kind of value found.
    var kindName: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .bool: "a boolean"
        case .array: "an array"
        }
    }
}

struct ConfigEntry {
    let key: String
    let value: ConfigValue
    let line: Int
}

/// One `[name]` or `[[name]]` table; `name` is "" for entries before any header.
struct ConfigTable {
    let name: String
    let isArray: Bool
    let line: Int
    var entries: [ConfigEntry] = []
    /// Keys written in this table whose value could not be read (already
    /// reported as syntax errors, so a required one is not "missing" too).
    var brokenKeys: [String] = []
}

struct ConfigSyntax {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private(set) var tables: [ConfigTable] = [ConfigTable(name: "", isArray: false, line: 1)]
    /// (line, field key if known, problem) for each syntax error.
    private(set) var errors: [(line: Int, key: String?, problem: String)] = []

    /// Reads `text`; the result always has the leading unnamed table first.
    init(_ text: String) {
        bytes = Array(text.utf8)
        while skipBlank() {
            let start = line
            var key: String?
            do {
                key = try statement()
                do { try endOfLine() } catch var e as SyntaxProblem {
                    e.key = key
                    throw e
                }
            } catch let e as SyntaxProblem {
                errors.append((start, e.key, e.problem))
                if let k = e.key { tables[tables.count - 1].brokenKeys.append(k) }
                skipLine()
            } catch {}
        }
    }

    private struct SyntaxProblem: Error { var key: String?; let problem: String }

    /// Longest string value (bytes): paths fit, a runaway line does not.
    static let maxString = 4096

    private var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// One header or `key = value`; returns the key.
    private mutating func statement() throws -> String? {
        if peek == UInt8(ascii: "[") { try header(); return nil }
        let key = try bareKey(what: "a key or a [table] header")
        skipSpaces()
        guard peek == UInt8(ascii: "=") else {
            throw SyntaxProblem(key: key, problem: "expected '=' after the key")
        }
        pos += 1
        skipSpaces()
        let entryLine = line
        do {
            let v = try value()
            tables[tables.count - 1].entries.append(ConfigEntry(key: key, value: v, line: entryLine))
            return key
        } catch var e as SyntaxProblem {
            e.key = key
            throw e
        }
    }

    private mutating func header() throws {
        let h = line
        pos += 1
        let isArray = peek == UInt8(ascii: "[")
        if isArray { pos += 1 }
        skipSpaces()
        let name = try bareKey(what: "a table name")
        skipSpaces()
        for _ in 0..<(isArray ? 2 : 1) {
            guard peek == UInt8(ascii: "]") else {
                throw SyntaxProblem(problem: "expected '\(isArray ? "]]" : "]")' to close the table header")
            }
            pos += 1
        }
        tables.append(ConfigTable(name: name, isArray: isArray, line: h))
    }

    private mutating func bareKey(what: String) throws -> String {
        let start = pos
        while let c = peek, isKeyByte(c) { pos += 1 }
        guard pos > start else {
            let found = peek.map { $0 == UInt8(ascii: "\"") ? "a quoted key (use a bare key)" : "'\(Character(UnicodeScalar($0)))'" }
            throw SyntaxProblem(problem: "expected \(what), found \(found ?? "the end of the file")")
        }
        if peek == UInt8(ascii: ".") { throw SyntaxProblem(problem: "dotted keys are not supported") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private func isKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    private mutating func value() throws -> ConfigValue {
        switch peek {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["): return try array()
        case nil, UInt8(ascii: "\n"), UInt8(ascii: "#"): throw SyntaxProblem(problem: "missing value after '='")
        default: break
        }
        let start = pos
        while let c = peek, isKeyByte(c) || c == UInt8(ascii: "+") { pos += 1 }
        let word = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard word.utf8.count <= 64 else {
            throw SyntaxProblem(problem: "'\(Quote.short(word))' is not a value (expected a \"string\", an integer, true, false or [array])")
        }
        if word == "true" { return .bool(true) }
        if word == "false" { return .bool(false) }
        if let n = Self.integer(word) { return .int(n) }
        if word.isEmpty, let c = peek, c == UInt8(ascii: "'") {
            throw SyntaxProblem(problem: "strings use double quotes")
        }
        if ByteSize.parse(word) != nil, word.last?.isLetter == true {
            throw SyntaxProblem(problem: "\(word) is not a number (write sizes as strings: \"\(word)\")")
        }
        throw SyntaxProblem(problem: "'\(word.isEmpty ? String(UnicodeScalar(peek!)) : word)' is not a value (expected a \"string\", an integer, true, false or [array])")
    }

    /// Decimal or 0x hex, optional sign, `_` between digits.
    static func integer(_ word: String) -> Int? {
        var s = Substring(word)
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        var radix = 10
        if s.hasPrefix("0x") || s.hasPrefix("0X") { radix = 16; s = s.dropFirst(2) }
        guard let f = s.first, f != "_", s.last != "_", !s.contains("__") else { return nil }
        if radix == 10, f == "0", s.count > 1 { return nil }   // TOML: no leading zeros
        guard let magnitude = Int(s.replacingOccurrences(of: "_", with: ""), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    private mutating func string() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while let c = peek {
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                guard out.count <= Self.maxString else {
                    throw SyntaxProblem(problem: "a string of \(out.count) bytes is longer than the \(Self.maxString) a config value may have")
                }
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\n"): pos -= 1; throw SyntaxProblem(problem: "unterminated string")
            case UInt8(ascii: "\\"):
                guard let e = peek, e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else {
                    throw SyntaxProblem(problem: "unsupported escape in string (only \\\" and \\\\ are allowed)")
                }
                out.append(e)
                pos += 1
            default: out.append(c)
            }
        }
        throw SyntaxProblem(problem: "unterminated string")
    }

    private mutating func array() throws -> ConfigValue {
        pos += 1
        var items: [ConfigValue] = []
        while true {
            guard skipBlank() else { throw SyntaxProblem(problem: "unterminated array") }
            if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
            items.append(try value())
            guard skipBlank() else { throw SyntaxProblem(problem: "unterminated array") }
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            guard peek == UInt8(ascii: "]") else { throw SyntaxProblem(problem: "expected ',' or ']' in array") }
        }
    }

    private mutating func endOfLine() throws {
        skipSpaces()
        if peek == UInt8(ascii: "#") { skipLine(); return }
        guard let c = peek else { return }
        guard c == UInt8(ascii: "\n") else {
            throw SyntaxProblem(problem: "unexpected '\(Character(UnicodeScalar(c)))' after the value (one statement per line)")
        }
    }

    private mutating func skipSpaces() {
        while let c = peek, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { pos += 1 }
    }

    private mutating func skipLine() {
        while let c = peek, c != UInt8(ascii: "\n") { pos += 1 }
    }

    /// Skips spaces, comments and newlines; false at the end of the text.
    @discardableResult
    private mutating func skipBlank() -> Bool {
        while let c = peek {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): pos += 1
            case UInt8(ascii: "\n"): pos += 1; line += 1
            case UInt8(ascii: "#"): skipLine()
            default: return true
            }
        }
        return false
    }
}
