// OurTree: the DeviceTree reader's answers as plain values, with bounds checks.
//
// `DeviceTree.property` takes StaticString names, so comparing every property
// with libfdt needs a test-only lister: `listProperties` steps over the
// property records that follow a node's name, exactly where `property(_:_:)`
// looks, and names them from the strings block. Every view the reader hands
// out (node names, property bytes) is checked to lie inside its block.

import XCTest
import RumkvCore

struct OurNode {
    let node: DTNode
    /// Offset of the node's name in the blob (FDT_BEGIN_NODE token + 4).
    let nameOffset: Int
    let nameBytes: [UInt8]
    var name: String { String(decoding: nameBytes, as: UTF8.self) }
}

enum OurTree {
    /// Walks `dt` completely; nil if the walk reported a malformed structure.
    /// Fails the test if a node name lies outside the struct block.
    static func nodes(_ dt: DeviceTree, _ blob: Blob, context: String = "",
                      file: StaticString = #filePath, line: UInt = #line) -> [OurNode]? {
        var result: [OurNode] = []
        do {
            try dt.walk { node in
                let name = dt.name(node)
                if !blob.contains(name.baseAddress, count: name.count, from: blob.structStart, to: blob.structEnd) {
                    XCTFail("node name outside the struct block \(context)", file: file, line: line)
                }
                if node.depth < 0 || node.depth > DeviceTree.maxDepth {
                    XCTFail("depth \(node.depth) out of range \(context)", file: file, line: line)
                }
                let nameOffset = name.baseAddress.map { $0 - UnsafeRawPointer(blob.pointer) } ?? -1
                result.append(OurNode(node: node, nameOffset: nameOffset, nameBytes: Array(name)))
                return true
            }
        } catch {
            return nil
        }
        return result
    }

    /// The node's property records: (name bytes or nil if the name offset is bad, value offset, length).
    static func listProperties(_ blob: Blob, _ node: DTNode) -> [(name: [UInt8]?, offset: Int, length: Int)] {
        var result: [(name: [UInt8]?, offset: Int, length: Int)] = []
        var p = node.propertiesOffset
        let end = blob.structEnd
        while p + 4 <= end {
            let token = blob.be32(p)
            if token == FDTWriter.nop { p += 4; continue }
            guard token == FDTWriter.prop, p + 12 <= end else { break }
            let len = Int(blob.be32(p + 4))
            guard len <= end - (p + 12) else { break }
            result.append((stringAt(blob, Int(blob.be32(p + 8))), p + 12, len))
            p = (p + 12 + len + 3) & ~3
        }
        return result
    }

    /// NUL-terminated string at `off` in the strings block, nil if it runs out.
    static func stringAt(_ blob: Blob, _ off: Int) -> [UInt8]? {
        var i = blob.stringsStart + off
        guard off >= 0, i < blob.stringsEnd else { return nil }
        var s: [UInt8] = []
        while i < blob.stringsEnd {
            if blob[i] == 0 { return s }
            s.append(blob[i]); i += 1
        }
        return nil
    }

    /// Checks a property view lies in the struct block; returns its bytes.
    @discardableResult
    static func checked(_ p: DTProperty?, _ blob: Blob, context: String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        guard let p else { return nil }
        let b = p.bytes
        if b.count != p.length || !blob.contains(b.baseAddress, count: b.count, from: blob.structStart, to: blob.structEnd) {
            XCTFail("property bytes outside the struct block \(context)", file: file, line: line)
        }
        return Array(b)
    }
}
