/*
 * entry.S (aarch64 guest) - Rumpk's first instructions and its EL1 vectors.
 *
 * Rumkv enters _start at EL1, MMU off, with x0 = the SysTable's
 * guest-physical address (RUM_GUEST_SYSTABLE_GPA), as the Linux arm64 boot
 * protocol passes the DTB. Masks interrupts, sets up the stack, zeroes .bss
 * and calls rumpk_main(x0). The vector table (16 slots, 0x80 apart, 2 KiB
 * aligned: Arm ARM, "Exception vectors") sends every exception to
 * rumpk_trap(esr, elr, far, slot) on a fresh stack: all are fatal for now.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     x19, x0
    msr     daifset, #0xf
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  mov     x0, x19
    bl      rumpk_main
3:  wfi
    b       3b

.macro VENTRY slot
    .balign 0x80
    mov     x3, #\slot
    b       rumpk_fault
.endm

    .balign 0x800
    .globl rumpk_vectors
rumpk_vectors:
    .irp slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    VENTRY  \slot
    .endr

rumpk_fault:
    adrp    x0, __stack_top
    add     x0, x0, :lo12:__stack_top
    mov     sp, x0
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    bl      rumpk_trap
4:  wfi
    b       4b
