// DeviceSupport: config text for the device and channel tests.
//
// `threeGuests` fills lines 1...17 with guests a, b and c (and a blank line),
// so the first table added after it starts on line 18: its header, `name` on 19, `mmio` or
// `between` on 20, and extra lines from 21.

import Foundation

/// A partition (2 harts) with guests a, b and c, then a blank line 17.
let threeGuests = partitionHead + guest("a") + guest("b") + guest("c") + "\n"

/// One [[device]] table; `mmio` as written, any `extra` lines after it.
func device(_ name: String, mmio: String = "0x20000000", _ extra: String = "") -> String {
    "[[device]]\nname = \"\(name)\"\nmmio = \(mmio)\n" + (extra.isEmpty ? "" : extra + "\n")
}

/// One [[channel]] table; `between` as written, any `extra` lines after it.
func channel(_ name: String, _ between: String = "[\"a\", \"b\"]", _ extra: String = "") -> String {
    "[[channel]]\nname = \"\(name)\"\nbetween = \(between)\n" + (extra.isEmpty ? "" : extra + "\n")
}
