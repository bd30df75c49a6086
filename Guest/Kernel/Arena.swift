// Arena: the kernel's static memory, handed out once at boot.
//
// guest.ld reserves a NOLOAD region (__rumpk_arena_start..end) behind the
// image; fiber stacks and ION rings are carved from it front to back and
// never given back (fixed pools, no heap). Running out is a boot-time
// configuration error, reported by the caller.

import CRumpk

struct Arena {
    var next: UInt64
    let end: UInt64

    init() {
        next = rumpk_arena_start()
        end = rumpk_arena_end()
    }

    /// `bytes` at an `align`-byte boundary (a power of two), or nil if the arena is exhausted.
    mutating func take(_ bytes: UInt64, align: UInt64 = 64) -> UnsafeMutableRawBufferPointer? {
        let start = (next + align - 1) & ~(align - 1)
        guard start <= end, bytes <= end - start,
              let p = UnsafeMutableRawPointer(bitPattern: UInt(start)) else { return nil }
        next = start + bytes
        return UnsafeMutableRawBufferPointer(start: p, count: Int(bytes))
    }
}
