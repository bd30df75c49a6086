// DeviceTree: a bounds-checked, allocation-free reader of flattened device trees.
//
// The firmware (OpenSBI, QEMU) hands the hypervisor a DTB; it is input from
// outside and is treated as hostile. `DeviceTree(validating:)` checks the
// header (magic, version, block offsets and sizes inside `totalsize`, which must
// fit the buffer); every later read is bounds-checked against the blocks, so a
// corrupt tree yields `nil` or an error, never a wild read. Layout per the
// Devicetree Specification v0.4, chapter 5 (big-endian, 4-byte tokens).
// The host tests compare every answer with libfdt on QEMU's own DTBs.

public enum DTBError: Error, Equatable {
    case tooSmall
    case badMagic
    case unsupportedVersion
    case badTotalSize
    case badBlockBounds
    case malformedStructure
}

/// A node found while walking the tree: where its properties start.
public struct DTNode {
    /// Offset (in the struct block) just after the node's name.
    public let propertiesOffset: Int
    /// Depth: 0 for the root.
    public let depth: Int
    /// The node's unit name ("cpu@0"), as an offset/length into the blob.
    let nameOffset: Int
    let nameLength: Int
    /// #address-cells / #size-cells that apply to this node's `reg`.
    public let addressCells: UInt32
    public let sizeCells: UInt32
}

/// A property value: a bounds-checked view into the blob.
public struct DTProperty {
    let base: UnsafeRawBufferPointer
    let offset: Int
    public let length: Int

    /// Big-endian 32-bit cell `i`, or nil past the end.
    public func cell(_ i: Int) -> UInt32? {
        guard i >= 0, (i + 1) * 4 <= length else { return nil }
        return DeviceTree.be32(base, offset + i * 4)
    }

    /// Number `cells` cells wide starting at cell `i` (1 or 2 cells).
    public func number(at i: Int, cells: UInt32) -> UInt64? {
        switch cells {
        case 1: return cell(i).map { UInt64($0) }
        case 2:
            guard let hi = cell(i), let lo = cell(i + 1) else { return nil }
            return UInt64(hi) << 32 | UInt64(lo)
        default: return nil
        }
    }

    /// The value's bytes.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: base[offset..<(offset + length)])
    }

    /// True if this string-list property contains `s` as one of its entries.
    public func containsString(_ s: StaticString) -> Bool {
        var start = 0
        let b = bytes
        while start < b.count {
            var end = start
            while end < b.count && b[end] != 0 { end += 1 }
            if DeviceTree.equal(UnsafeRawBufferPointer(rebasing: b[start..<end]), s) { return true }
            start = end + 1
        }
        return false
    }

    /// True if the first string of the property begins with `prefix`.
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        let b = bytes
        let n = prefix.utf8CodeUnitCount
        guard b.count >= n else { return false }
        return DeviceTree.equal(UnsafeRawBufferPointer(rebasing: b[0..<n]), prefix)
    }
}

public struct DeviceTree {
    static let magic: UInt32 = 0xD00D_FEED
    static let tokenBeginNode: UInt32 = 1
    static let tokenEndNode: UInt32 = 2
    static let tokenProp: UInt32 = 3
    static let tokenNop: UInt32 = 4
    static let tokenEnd: UInt32 = 9
    /// Deepest nesting the walker follows (QEMU trees use 4).
    public static let maxDepth = 16

    let blob: UnsafeRawBufferPointer
    let structStart: Int
    let structEnd: Int
    let stringsStart: Int
    let stringsEnd: Int
    let rsvmapStart: Int

    /// Total size recorded in the header.
    public var totalSize: Int { blob.count }

    /// Validates the header of the tree at `buffer`; the tree must fit in it.
    public init(validating buffer: UnsafeRawBufferPointer) throws(DTBError) {
        guard buffer.count >= 40 else { throw .tooSmall }
        guard DeviceTree.be32(buffer, 0) == DeviceTree.magic else { throw .badMagic }
        let total = Int(DeviceTree.be32(buffer, 4))
        let offStruct = Int(DeviceTree.be32(buffer, 8))
        let offStrings = Int(DeviceTree.be32(buffer, 12))
        let offRsvmap = Int(DeviceTree.be32(buffer, 16))
        let version = DeviceTree.be32(buffer, 20)
        let lastCompatible = DeviceTree.be32(buffer, 24)
        let sizeStrings = Int(DeviceTree.be32(buffer, 32))
        let sizeStruct = Int(DeviceTree.be32(buffer, 36))
        guard version >= 17, lastCompatible <= 17 else { throw .unsupportedVersion }
        guard total >= 40, total <= buffer.count else { throw .badTotalSize }
        guard offStruct >= 40, offStruct % 4 == 0, sizeStruct % 4 == 0,
              offStruct <= total, sizeStruct <= total - offStruct,
              offStrings >= 40, offStrings <= total, sizeStrings <= total - offStrings,
              offRsvmap >= 40, offRsvmap % 8 == 0, offRsvmap <= total - 16
        else { throw .badBlockBounds }
        blob = UnsafeRawBufferPointer(rebasing: buffer[0..<total])
        structStart = offStruct
        structEnd = offStruct + sizeStruct
        stringsStart = offStrings
        stringsEnd = offStrings + sizeStrings
        rsvmapStart = offRsvmap
    }

    /// Reads the header's `totalsize` from an unvalidated pointer, so a caller
    /// holding only a raw address can build the buffer to validate.
    /// Returns nil when the magic is wrong.
    public static func peekTotalSize(_ header: UnsafeRawPointer) -> Int? {
        let h = UnsafeRawBufferPointer(start: header, count: 8)
        guard be32(h, 0) == magic else { return nil }
        return Int(be32(h, 4))
    }

    // MARK: walking

    /// Calls `visit` for every node in document order until it returns false.
    /// Returns `.malformedStructure` if the struct block is corrupt.
    @discardableResult
    public func walk(_ visit: (DTNode) -> Bool) throws(DTBError) -> Bool {
        // cells[d] = (#address-cells, #size-cells) declared by the node at depth d.
        var addr: InlineArray<17, UInt32> = .init(repeating: 2)
        var size: InlineArray<17, UInt32> = .init(repeating: 1)
        var depth = -1
        var rootClosed = false
        var off = structStart
        while off + 4 <= structEnd {
            let token = DeviceTree.be32(blob, off)
            off += 4
            switch token {
            case DeviceTree.tokenBeginNode:
                // One root only (Devicetree Specification 5.4.2): libfdt and
                // Linux never see nodes after it, so neither may we.
                guard !rootClosed else { throw .malformedStructure }
                depth += 1
                guard depth <= DeviceTree.maxDepth else { throw .malformedStructure }
                let nameStart = off
                while off < structEnd && blob[off] != 0 { off += 1 }
                guard off < structEnd else { throw .malformedStructure }
                let nameLength = off - nameStart
                off = (off + 1 + 3) & ~3
                addr[depth] = 2
                size[depth] = 1
                // Apply this node's own #address-cells/#size-cells to its children.
                var p = off
                while p + 12 <= structEnd, DeviceTree.be32(blob, p) == DeviceTree.tokenProp
                        || DeviceTree.be32(blob, p) == DeviceTree.tokenNop {
                    if DeviceTree.be32(blob, p) == DeviceTree.tokenNop { p += 4; continue }
                    let len = Int(DeviceTree.be32(blob, p + 4))
                    let nameOff = Int(DeviceTree.be32(blob, p + 8))
                    guard len <= structEnd - (p + 12) else { throw .malformedStructure }
                    if len == 4 {
                        if stringEquals(nameOff, "#address-cells") { addr[depth] = DeviceTree.be32(blob, p + 12) }
                        if stringEquals(nameOff, "#size-cells") { size[depth] = DeviceTree.be32(blob, p + 12) }
                    }
                    p = (p + 12 + len + 3) & ~3
                }
                let parent = depth > 0 ? depth - 1 : 0
                let node = DTNode(propertiesOffset: off, depth: depth, nameOffset: nameStart,
                                  nameLength: nameLength, addressCells: addr[parent],
                                  sizeCells: size[parent])
                if !visit(node) { return false }
            case DeviceTree.tokenEndNode:
                guard depth >= 0 else { throw .malformedStructure }
                depth -= 1
                rootClosed = depth < 0
            case DeviceTree.tokenProp:
                guard off + 8 <= structEnd else { throw .malformedStructure }
                let len = Int(DeviceTree.be32(blob, off))
                guard len <= structEnd - (off + 8) else { throw .malformedStructure }
                off = (off + 8 + len + 3) & ~3
            case DeviceTree.tokenNop:
                continue
            case DeviceTree.tokenEnd:
                guard depth == -1 else { throw .malformedStructure }
                return true
            default:
                throw .malformedStructure
            }
        }
        throw .malformedStructure
    }

    /// The property `name` of `node`, or nil if it has none (or it is corrupt).
    public func property(_ node: DTNode, _ name: StaticString) -> DTProperty? {
        var p = node.propertiesOffset
        while p + 4 <= structEnd {
            let token = DeviceTree.be32(blob, p)
            if token == DeviceTree.tokenNop { p += 4; continue }
            guard token == DeviceTree.tokenProp, p + 12 <= structEnd else { return nil }
            let len = Int(DeviceTree.be32(blob, p + 4))
            let nameOff = Int(DeviceTree.be32(blob, p + 8))
            guard len <= structEnd - (p + 12) else { return nil }
            if stringEquals(nameOff, name) {
                return DTProperty(base: blob, offset: p + 12, length: len)
            }
            p = (p + 12 + len + 3) & ~3
        }
        return nil
    }

    /// The node's unit name bytes ("memory@80000000").
    public func name(_ node: DTNode) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: blob[node.nameOffset..<(node.nameOffset + node.nameLength)])
    }

    /// True if the node's name, up to any '@', equals `base`.
    public func nameIs(_ node: DTNode, _ base: StaticString) -> Bool {
        let n = name(node)
        var end = 0
        while end < n.count && n[end] != UInt8(ascii: "@") { end += 1 }
        return DeviceTree.equal(UnsafeRawBufferPointer(rebasing: n[0..<end]), base)
    }

    /// Memory-reservation block entries (address, size), in order.
    public func forEachReservation(_ body: (UInt64, UInt64) -> Void) {
        var off = rsvmapStart
        while off + 16 <= blob.count {
            let address = DeviceTree.be64(blob, off)
            let size = DeviceTree.be64(blob, off + 8)
            if address == 0 && size == 0 { return }
            body(address, size)
            off += 16
        }
    }

    // MARK: byte helpers

    func stringEquals(_ nameOff: Int, _ s: StaticString) -> Bool {
        guard nameOff >= 0, nameOff < stringsEnd - stringsStart else { return false }
        let start = stringsStart + nameOff
        let n = s.utf8CodeUnitCount
        guard n < stringsEnd - start else { return false }
        guard blob[start + n] == 0 else { return false }
        return DeviceTree.equal(UnsafeRawBufferPointer(rebasing: blob[start..<(start + n)]), s)
    }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        return s.withUTF8Buffer { u in
            var i = 0
            while i < u.count {
                if u[i] != bytes[i] { return false }
                i += 1
            }
            return true
        }
    }

    @inline(__always)
    static func be32(_ b: UnsafeRawBufferPointer, _ off: Int) -> UInt32 {
        UInt32(b[off]) << 24 | UInt32(b[off + 1]) << 16 | UInt32(b[off + 2]) << 8 | UInt32(b[off + 3])
    }

    @inline(__always)
    static func be64(_ b: UnsafeRawBufferPointer, _ off: Int) -> UInt64 {
        UInt64(be32(b, off)) << 32 | UInt64(be32(b, off + 4))
    }
}
