// ConfigRules: the checks that span guests, run once every guest is decoded.
//
// Guest names are unique; all guests together ask for at most 16 vCPUs; a pinned guest owns its harts (one per vCPU, shared
// with no other guest, pinned or not); the guests' memory together stays under
// the partition's memory_limit. Only guests without field problems take part,
// so a typo in one guest does not also produce a pinning complaint.

extension ConfigDecoder {
    mutating func checkGuests(_ guests: [GuestConfig], partitionHarts: Int?,
                              memoryLimit: (bytes: UInt64, line: Int)?, complete: Bool) {
        var names: [String: Int] = [:]
        for g in guests {
            if let first = names[g.name] {
                report(g.line(of: "name"), "guest '\(g.name)'", "name", "another guest (line \(first)) has the same name")
            } else {
                names[g.name] = g.line
            }
        }
        checkPinning(guests, partitionHarts: partitionHarts)
        let vcpus = guests.reduce(0) { $0 + $1.vcpus }
        if complete, vcpus > ConfigLimits.totalVCPUs, let last = guests.last {
            report(last.line(of: "vcpus"), "guest '\(last.name)'", "vcpus",
                   "the guests ask for \(vcpus) vCPUs together, more than the hypervisor's \(ConfigLimits.totalVCPUs)")
        }
        if complete, let memoryLimit {
            let total = guests.reduce(0) { $0 + $1.memory }
            if total > memoryLimit.bytes {
                report(memoryLimit.line, "partition", "memory_limit",
                       "the guests need \(ByteSize.format(total)) together, more than the limit of \(ByteSize.format(memoryLimit.bytes))")
            }
        }
    }

    private mutating func checkPinning(_ guests: [GuestConfig], partitionHarts: Int?) {
        var owner: [Int: GuestConfig] = [:]
        for g in guests where g.pinned {
            let who = "guest '\(g.name)'"
            guard let harts = g.harts else {
                report(g.line, who, "harts", "a pinned guest must list its harts when [partition] does not set 'harts'")
                continue
            }
            if harts.count < g.vcpus {
                report(g.line(of: "harts"), who, "harts",
                       "a pinned guest needs a hart per vCPU: \(g.vcpus) vCPUs but only \(harts.count) hart\(harts.count == 1 ? "" : "s") (\(harts))")
            }
            for h in harts {
                if let o = owner[h] {
                    report(g.line(of: "harts"), who, "harts", "hart \(h) is already pinned to guest '\(o.name)' (line \(o.line))")
                } else {
                    owner[h] = g
                }
            }
        }
        guard !owner.isEmpty else { return }
        let all = Array(0..<(partitionHarts ?? ConfigLimits.maxHarts))
        let free = all.filter { owner[$0] == nil }
        for g in guests where !g.pinned {
            let taken = (g.harts ?? all).filter { owner[$0] != nil }
            for h in taken {
                var problem = "hart \(h) is pinned to guest '\(owner[h]!.name)'; an unpinned guest may not run on it"
                if g.fieldLines["harts"] == nil {
                    problem += free.isEmpty ? " (no hart is left for unpinned guests)"
                        : partitionHarts == nil ? " (without 'harts' a guest may run on every hart; list the ones it may use)"
                        : " (without 'harts' a guest may run on every hart; list the free ones, e.g. harts = \(free))"
                }
                report(g.line(of: "harts"), "guest '\(g.name)'", "harts", problem)
            }
        }
    }
}
