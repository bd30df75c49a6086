/*
 * exec.S (aarch64 guest) - entering a payload and making its code fetchable.
 *
 * rumpk_payload_call(entry, services) tail-calls entry(services): the
 * payload's return goes straight back to the caller. rumpk_sync_icache
 * cleans the data cache to the point of unification and invalidates the
 * instruction cache over the range, then synchronises the context (Arm ARM
 * B2.4.4, "Concurrent modification and execution of instructions"): line
 * sizes come from CTR_EL0 (DminLine, IminLine). Contract: Shared/include/rumpk.h.
 */
    .section .text.exec, "ax"

    .globl rumpk_payload_call
    .balign 4
rumpk_payload_call:
    mov     x2, x0
    mov     x0, x1
    br      x2

/* x0 = base, x1 = length */
    .globl rumpk_sync_icache
    .balign 4
rumpk_sync_icache:
    cbz     x1, 4f
    add     x1, x0, x1                  /* end */
    mrs     x3, ctr_el0
    ubfx    x4, x3, #16, #4             /* DminLine: log2(words) */
    mov     x5, #4
    lsl     x4, x5, x4                  /* data line bytes */
    sub     x6, x4, #1
    bic     x2, x0, x6
1:  dc      cvau, x2
    add     x2, x2, x4
    cmp     x2, x1
    b.lo    1b
    dsb     ish
    and     x4, x3, #0xF                /* IminLine */
    lsl     x4, x5, x4
    sub     x6, x4, #1
    bic     x2, x0, x6
2:  ic      ivau, x2
    add     x2, x2, x4
    cmp     x2, x1
    b.lo    2b
    dsb     ish
    isb
4:  ret
