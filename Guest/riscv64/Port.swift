// Port (riscv64): Rumpk on a RISC-V hart in VS-mode (or S-mode under SBI).
//
// Console output goes through the SBI legacy console putchar (EID 0x01), which
// Rumkv implements for its guests and OpenSBI implements on bare S-mode, so
// the same image also runs without the hypervisor. Exit is SBI SRST.

import ArchShims

public enum GuestRISCV64: GuestPort {
    public static var name: StaticString { "riscv64" }

    public static func consoleWrite(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { _ = rv_sbi_call(0x01, 0, UInt64(b), 0, 0) }
    }

    public static func exit(_ code: UInt64) -> Never {
        _ = rv_sbi_call(0x5352_5354, 0, 0, code == 0 ? 0 : 1, 0)
        while true { rv_wfi() }
    }
}

@_cdecl("rumpk_main")
func rumpkMain(_ hartID: UInt64, _ bootArgument: UInt64) -> Never {
    Rumpk<GuestRISCV64>.main(bootArgument: bootArgument)
}
