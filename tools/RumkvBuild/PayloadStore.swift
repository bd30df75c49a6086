// PayloadStore: the POSIX ustar archive a guest's payloads travel in.
//
// Writes the plain ustar format (POSIX.1-2001 "ustar Interchange Format"):
// per member a 512-byte header (name, mode 0644, uid/gid 0, octal size,
// mtime 0 so builds are reproducible, checksum, type '0', magic "ustar\0"
// version "00") and the data padded to 512 bytes; two zero blocks end the
// archive, which is then padded to 4 KiB (the bundle's alignment). Names are
// at most 100 bytes. Rumpk reads it with RumLoader's TarArchive.

import Foundation

public enum PayloadStore {
    public struct Member: Equatable, Sendable {
        public var name: String
        public var data: Data
        public init(name: String, data: Data) { self.name = name; self.data = data }
    }

    public static let block = 512

    public static func ustar(_ members: [Member]) -> Data {
        var out = Data()
        for m in members {
            out.append(header(name: m.name, size: m.data.count))
            out.append(m.data)
            out.append(Data(count: (block - m.data.count % block) % block))
        }
        out.append(Data(count: 2 * block))
        out.append(Data(count: (BundleWriter.alignment - out.count % BundleWriter.alignment) % BundleWriter.alignment))
        return out
    }

    static func header(name: String, size: Int) -> Data {
        precondition(name.utf8.count <= 100, "ustar names are at most 100 bytes")
        var h = [UInt8](repeating: 0, count: block)
        func put(_ at: Int, _ s: String) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
        func octal(_ at: Int, _ width: Int, _ v: Int) {
            put(at, String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8))
        }
        put(0, name)
        octal(100, 8, 0o644)
        octal(108, 8, 0)
        octal(116, 8, 0)
        octal(124, 12, size)
        octal(136, 12, 0)
        put(148, "        ")
        h[156] = UInt8(ascii: "0")
        put(257, "ustar\u{0}00")
        let sum = h.reduce(0) { $0 + Int($1) }
        put(148, String(repeating: "0", count: 6 - String(sum, radix: 8).count) + String(sum, radix: 8))
        h[154] = 0
        h[155] = UInt8(ascii: " ")
        return Data(h)
    }

    /// The members of a ustar archive written by `ustar` (names and data), for tools and tests.
    public static func members(_ archive: Data) throws -> [Member] {
        let b = [UInt8](archive)
        var out: [Member] = []
        var at = 0
        while at + block <= b.count, b[at..<at + block].contains(where: { $0 != 0 }) {
            guard b[at + 257 ..< at + 265].elementsEqual("ustar\u{0}00".utf8) else { throw BundleError("tar member at \(at): not ustar") }
            let name = String(decoding: b[at..<at + 100].prefix { $0 != 0 }, as: UTF8.self)
            let sizeText = String(decoding: b[at + 124 ..< at + 136].prefix { $0 != 0 && $0 != 0x20 }, as: UTF8.self)
            guard let size = Int(sizeText, radix: 8), at + block + size <= b.count else {
                throw BundleError("tar member '\(name)' at \(at): bad size '\(sizeText)'")
            }
            out.append(Member(name: name, data: Data(b[at + block ..< at + block + size])))
            at += block + (size + block - 1) / block * block
        }
        return out
    }
}
