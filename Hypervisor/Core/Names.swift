// Names: the 16-byte NUL-padded names of the ABI (guests, devices, channels).

/// The C tuple Swift imports for `char name[16]`.
public typealias PaddedName = (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
                               CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)

/// Calls `body` with the name's bytes up to the first NUL.
public func withPaddedName<R>(_ name: PaddedName, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    withUnsafeBytes(of: name) { n in
        var len = 0
        while len < n.count && n[len] != 0 { len += 1 }
        return body(UnsafeBufferPointer(rebasing: n.bindMemory(to: UInt8.self)[0..<len]))
    }
}
