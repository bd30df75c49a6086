// Blob: an owned, 8-byte-aligned device-tree buffer the tests can corrupt.
//
// libfdt wants an aligned tree, and the corruption tests patch header words and
// struct bytes in place; `Blob` gives both without Foundation's Data.

/// Byte offsets of the FDT header fields (Devicetree Specification 5.2).
enum FDTHeader {
    static let magic = 0, totalSize = 4, offStruct = 8, offStrings = 12, offRsvmap = 16
    static let version = 20, lastCompVersion = 24, bootCPU = 28, sizeStrings = 32, sizeStruct = 36
    static let size = 40
    static let allFields = [magic, totalSize, offStruct, offStrings, offRsvmap,
                            version, lastCompVersion, bootCPU, sizeStrings, sizeStruct]
}

import RumkvCore

final class Blob {
    let bytes: UnsafeMutableRawBufferPointer

    /// Logical size (the allocation is at least one byte).
    let count: Int

    /// `count` zero bytes.
    init(count: Int) {
        self.count = count
        bytes = .allocate(byteCount: max(count, 1), alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    convenience init(_ data: [UInt8]) {
        self.init(count: data.count)
        data.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }

    deinit { bytes.deallocate() }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<count]) }
    var pointer: UnsafeMutableRawPointer { bytes.baseAddress! }
    var array: [UInt8] { Array(raw) }

    subscript(_ i: Int) -> UInt8 {
        get { bytes[i] }
        set { bytes[i] = newValue }
    }

    func be32(_ off: Int) -> UInt32 {
        UInt32(bytes[off]) << 24 | UInt32(bytes[off + 1]) << 16 | UInt32(bytes[off + 2]) << 8 | UInt32(bytes[off + 3])
    }

    func setBE32(_ off: Int, _ v: UInt32) {
        for i in 0..<4 { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) }
    }

    /// A copy of the first `n` bytes (all of them by default).
    func copy(prefix n: Int? = nil) -> Blob {
        let c = Blob(count: n ?? count)
        c.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<c.count]))
        return c
    }

    /// Validates the tree and hands it to `body`; the blob outlives the call,
    /// so the reader's views stay valid (a temporary Blob would free them).
    @discardableResult
    func withTree<R>(_ body: (DeviceTree) throws -> R) throws -> R {
        try withExtendedLifetime(self) { try body(try DeviceTree(validating: raw)) }
    }

    /// `DeviceTreePlatform.discover` into a fresh Platform.
    func discover() throws -> Platform {
        try withTree { dt in
            var p = Platform()
            try DeviceTreePlatform.discover(dt, into: &p)
            return p
        }
    }

    var structStart: Int { Int(be32(FDTHeader.offStruct)) }
    var structEnd: Int { structStart + Int(be32(FDTHeader.sizeStruct)) }
    var stringsStart: Int { Int(be32(FDTHeader.offStrings)) }
    var stringsEnd: Int { stringsStart + Int(be32(FDTHeader.sizeStrings)) }

    /// True if `[p, p + n)` lies inside `[lo, hi)` of this blob.
    func contains(_ p: UnsafeRawPointer?, count n: Int, from lo: Int, to hi: Int) -> Bool {
        guard let p else { return n == 0 }
        let off = p - UnsafeRawPointer(pointer)
        return off >= lo && n >= 0 && off + n <= hi
    }
}
