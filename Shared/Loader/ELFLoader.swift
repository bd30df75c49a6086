// ELFLoader: copying a validated executable into its window.
//
// Decode, then act: `ELF.load` validates the whole file with `ELF.parse`
// first and writes only when every check passed. The window is zeroed
// before the segments are copied, so BSS reads as zero and nothing of an
// earlier payload survives into the next one. The caller maps window
// addresses to memory: `window` is the memory that backs the addresses
// [windowBase, windowBase + window.count) (identity in the guest, any host
// buffer in tests).

extension ELF {
    /// Validates `file`, then loads it into `window`; returns the image (entry and segments).
    public static func load(_ file: UnsafeRawBufferPointer, machine: UInt16,
                            into window: UnsafeMutableRawBufferPointer, at windowBase: UInt64) throws(ELFError) -> ELFImage {
        let range = windowBase ..< windowBase + UInt64(window.count)
        let image = try parse(file, machine: machine, window: range)
        window.initializeMemory(as: UInt8.self, repeating: 0)
        for i in 0..<image.segmentCount {
            let s = image.segment(i)
            // parse() proved [address, address + memorySize) ⊆ window and the file bytes exist.
            let start = Int(s.address - windowBase)
            let source = UnsafeRawBufferPointer(rebasing: file[s.fileOffset ..< s.fileOffset + s.fileSize])
            UnsafeMutableRawBufferPointer(rebasing: window[start ..< start + s.fileSize]).copyMemory(from: source)
        }
        return image
    }
}
