/*
 * exec.S (riscv64 guest) - entering a payload and making its code fetchable.
 *
 * rumpk_payload_call(entry, services) tail-calls entry(services): the
 * payload's return goes straight back to the caller. rumpk_sync_icache is a
 * fence.i (Zifencei): the loader wrote the payload's code with ordinary
 * stores, and this hart must not fetch stale instructions. One hart runs
 * Rumpk's fibers, so no remote fence is needed. Contract: Shared/include/rumpk.h.
 */
    .section .text.exec, "ax"

    .globl rumpk_payload_call
    .balign 4
rumpk_payload_call:
    mv      t0, a0
    mv      a0, a1
    jr      t0

    .globl rumpk_sync_icache
    .balign 4
rumpk_sync_icache:
    .insn i 0x0F, 1, x0, x0, 0      /* fence.i */
    ret
