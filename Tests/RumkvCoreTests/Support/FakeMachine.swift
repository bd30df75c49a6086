// FakeMachine: a booted Machine<FakeGuestHost> from a partition config.
//
// The config text is parsed by the host tool (RumkvBuild), each guest image is
// a signed NPL image (GUEST_IMAGE flag) made with a fixed test key, and the
// bundle is laid out by the tool's own BundleWriter, exactly as `rumkv build`
// does. The host build's trusted-key table (Shared/include/trusted_keys_host.c)
// trusts no key, so `installTestKey` writes the test key into it; with it
// removed (`withoutTrustedKeys`) every image is refused.

import CSodium
import CTrustedKeysHook
import Foundation
import RumABI
@testable import RumkvBuild
@testable import RumkvCore
import XCTest

typealias H = FakeGuestHost
typealias M = Machine<FakeGuestHost>

enum TestKeys {
    /// The test signing key, from a fixed seed (deterministic images).
    static let key: SigningKey = {
        precondition(sodium_init() >= 0)
        let seed = [UInt8](repeating: 0x5A, count: 32)
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64)
        precondition(crypto_sign_seed_keypair(&pk, &sk, seed) == 0)
        return SigningKey(secret: sk)
    }()

    /// A second key the hypervisor does not trust.
    static let stranger: SigningKey = {
        precondition(sodium_init() >= 0)
        let seed = [UInt8](repeating: 0xA5, count: 32)
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64)
        precondition(crypto_sign_seed_keypair(&pk, &sk, seed) == 0)
        return SigningKey(secret: sk)
    }()

    /// Makes the table writable if its page is not (keeps the other permissions).
    static func makeWritable(_ p: UnsafeMutableRawPointer, bytes: Int) {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
        let a = UInt(bitPattern: p)
        for line in maps.split(separator: "\n") {
            let f = line.split(separator: " ")
            let r = f[0].split(separator: "-")
            guard let lo = UInt(r[0], radix: 16), let hi = UInt(r[1], radix: 16), a >= lo, a < hi else { continue }
            let perms = Array(f[1])
            guard perms[1] != "w" else { return }
            let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
            let start = a & ~(page - 1), end = (a + UInt(bytes) + page - 1) & ~(page - 1)
            let prot = PROT_READ | PROT_WRITE | (perms[2] == "x" ? PROT_EXEC : 0)
            precondition(mprotect(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), prot) == 0)
            return
        }
    }

    /// Puts the test key into the trusted-key table (count 1).
    static func install(count: UInt32 = 1) {
        let keys = UnsafeMutableRawPointer(rum_test_trusted_keys()!)
        let n = UnsafeMutableRawPointer(rum_test_trusted_key_count()!)
        makeWritable(keys, bytes: Int(RUM_TRUSTED_KEYS_MAX) * 32)
        makeWritable(n, bytes: 4)
        key.publicKey.withUnsafeBytes { keys.copyMemory(from: $0.baseAddress!, byteCount: 32) }
        n.storeBytes(of: count, as: UInt32.self)
    }
}

/// Guest RAM of the fake machine: one aligned host buffer, allocated once.
enum HostRAM {
    static let size = 64 << 20
    nonisolated(unsafe) static let base: UInt64 = {
        var p: UnsafeMutableRawPointer? = nil
        precondition(posix_memalign(&p, 2 << 20, size) == 0)
        return UInt64(UInt(bitPattern: p!))
    }()
}

/// The boot bundle the machine reads (kept alive while it runs).
enum BundleMemory {
    nonisolated(unsafe) static var buffer: UnsafeMutableRawPointer? = nil
    nonisolated(unsafe) static var size = 0

    static func place(_ data: Data) -> UInt64 {
        buffer?.deallocate()
        size = data.count
        buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 4096)
        data.withUnsafeBytes { buffer!.copyMemory(from: $0.baseAddress!, byteCount: size) }
        return UInt64(UInt(bitPattern: buffer!))
    }
}

struct BootError: Error, CustomStringConvertible { let description: String }

enum FakeMachine {
    static let partition = """
        [partition]
        name = "t"
        arch = "riscv64"
        harts = %d

        """

    static func guest(_ name: String, _ extra: String = "", memory: String = "4M") -> String {
        "[[guest]]\nname = \"\(name)\"\nimage = \"rumpk\"\nmemory = \"\(memory)\"\n" + (extra.isEmpty ? "" : extra + "\n")
    }

    /// A recognisable image body for guest `i` (`size` bytes).
    static func body(_ i: Int, size: Int = 600) -> Data {
        Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i &* 31 &+ 1) })
    }

    /// The bundle for config text `tables` (guests, devices, channels) on `harts` harts.
    /// `images[i]`, when given, replaces guest i's signed image; `stores` become payload stores.
    static func bundle(_ tables: String, harts: Int = 2, images: [Int: Data] = [:],
                       stores: [Int: Data] = [:]) throws -> Data {
        let config = try PartitionConfig.parse(text: String(format: partition, harts) + tables, fileName: "t.toml")
        let signed = try config.guests.indices.map { i in
            try images[i] ?? TestKeys.key.sign(body(i), arch: H.nplArch, flags: UInt16(RUM_NPL_F_GUEST_IMAGE))
        }
        let s: [Data?] = config.guests.indices.map { stores[$0] }
        let trees = try config.guests.indices.map { try BundleWriter.deviceTree(config.guests[$0], config, imageSize: signed[$0].count) }
        return try BundleWriter.assemble(config.guests, signed, stores: s, trees: trees,
                                         devices: config.bundleDevices, channels: config.bundleChannels)
    }

    /// The platform (`harts` CPUs, `ram` bytes of host RAM) and the placed bundle view of `data`.
    static func prepare(_ data: Data, harts: Int, ram: Int = HostRAM.size) throws -> (Platform, BundleView) {
        let base = BundleMemory.place(data)
        let view = try BundleView(base: base, size: UInt64(data.count), maxVCPUs: 8)
        var p = Platform()
        p.virtualization = "fake-virt"
        p.virtualizationDetail = "host test"
        _ = p.memory.addRAM(PhysicalRange(base: HostRAM.base, size: UInt64(ram)))
        for h in 0..<harts { p.addCPU(UInt64(h)) }
        return (p, view)
    }

    /// Sets guest `g`'s hart_mask in bundle `data` (for bundles the tool would not write).
    static func setHartMask(_ data: inout Data, guest g: Int, _ mask: UInt64) {
        let at = MemoryLayout<BundleHeader>.size + g * MemoryLayout<BundleGuest>.size
            + MemoryLayout<BundleGuest>.offset(of: \BundleGuest.cpu_mask)!
        withUnsafeBytes(of: mask.littleEndian) { data.replaceSubrange(at..<at + 8, with: $0) }
    }

    /// Boots Machine<FakeGuestHost> on `harts` harts over the host RAM buffer;
    /// `patch` may edit the bundle first.
    static func boot(_ tables: String, harts: Int = 2, images: [Int: Data] = [:], stores: [Int: Data] = [:],
                     ram: Int = HostRAM.size, patch: (inout Data) -> Void = { _ in }) throws {
        var data = try bundle(tables, harts: harts, images: images, stores: stores)
        patch(&data)
        let (p, view) = try prepare(data, harts: harts, ram: ram)
        if let reason = M.boot(p, bundle: view) { throw BootError(description: "\(reason)") }
        for h in 0..<harts { H.m.pointee.cpuOnline[h] = true }
    }
}

/// Base class: fresh fake port and trusted test key before each test; the
/// shell's guest commands switched off again afterwards (other tests print `help`).
class MachineTestCase: XCTestCase {
    var m: UnsafeMutablePointer<M> { M.shared }

    /// (XCTest calls setUpWithError before setUp: subclasses boot in setUpWithError after super.)
    override func setUpWithError() throws {
        try super.setUpWithError()
        H.reset()
        TestKeys.install()
    }

    override func tearDown() {
        H.reset()
        super.tearDown()
    }

    func boot(_ tables: String, harts: Int = 2, images: [Int: Data] = [:], stores: [Int: Data] = [:],
              ram: Int = HostRAM.size, patch: (inout Data) -> Void = { _ in },
              file: StaticString = #filePath, line: UInt = #line) throws {
        do { try FakeMachine.boot(tables, harts: harts, images: images, stores: stores, ram: ram, patch: patch) } catch {
            XCTFail("boot failed: \(error)", file: file, line: line)
            throw error
        }
    }

    func guest(_ name: String, _ extra: String = "", memory: String = "4M") -> String {
        FakeMachine.guest(name, extra, memory: memory)
    }

    /// Runs a console command line through the guest commands; returns what it printed.
    @discardableResult
    func command(_ line: String) -> String {
        H.capture {
            Array(line.utf8).withUnsafeBufferPointer { buf in
                Shell<FakeGuestHost>.execute(buf, m.pointee.platform) { GuestCommands<FakeGuestHost>.run($0) }
            }
        }
    }

    /// Console lines as the shell prints them (CR LF).
    func lines(_ ls: String...) -> String { ls.map { $0 + "\r\n" }.joined() }

    /// The vCPU slot of guest `g`'s vCPU `v`.
    func slot(_ g: Int, _ v: Int = 0) -> Int {
        (0..<m.pointee.vcpuCount).first { m.pointee.vcpus[$0].guest == g && m.pointee.vcpus[$0].index == v }!
    }

    func state(_ g: Int) -> GuestState { m.pointee.guests[g].state }

    /// Creates guest `g` as the boot path does (all three phases).
    func create(_ g: Int, file: StaticString = #filePath, line: UInt = #line) {
        do { try m.pointee.create(g) } catch { XCTFail("create \(g): \(error)", file: file, line: line) }
    }

    /// Runs hart `h`'s scheduler step until nothing is left to build (Scheduler.build).
    func buildPending(hart h: Int = 0) {
        while let g = m.pointee.claimBuild(h) { Scheduler<FakeGuestHost>.build(g, cpu: h) }
    }

    /// One claim-and-build step of hart `h`'s loop.
    func buildOne(hart h: Int = 0) {
        if let g = m.pointee.claimBuild(h) { Scheduler<FakeGuestHost>.build(g, cpu: h) }
    }

    /// Allocates every free page (largest runs first); `release` gives them back.
    func exhaustPool() -> [(UInt64, Int)] {
        var taken: [(UInt64, Int)] = []
        var n = m.pointee.pages.freePages
        while n > 0 {
            if let a = m.pointee.pages.allocate(pages: n) { taken.append((a, n)); n = min(n, m.pointee.pages.freePages) } else { n /= 2 }
        }
        return taken
    }

    func release(_ taken: [(UInt64, Int)]) {
        for (a, n) in taken { XCTAssertTrue(m.pointee.pages.free(a, pages: n)) }
    }

    /// The guest's console backlog as text.
    func backlog(_ g: Int) -> String {
        var out: [UInt8] = []
        m.pointee.consoles[g].forEachBacklog { out.append($0) }
        return String(decoding: out, as: UTF8.self)
    }
}
