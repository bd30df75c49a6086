/*
 * entry.S (aarch64 guest) - Rumpk's first instructions and its EL1 vectors.
 *
 * Rumkv enters _start at EL1, MMU off, with x0 = the SysTable's
 * guest-physical address (RUM_GUEST_SYSTABLE_GPA), as the Linux arm64 boot
 * protocol passes the DTB. Masks interrupts, sets up the stack, zeroes .bss
 * and calls rumpk_main(x0). The vector table (16 slots, 0x80 apart, 2 KiB
 * aligned: Arm ARM, "Exception vectors") sends every exception to
 * rumpk_trap(esr, elr, far, slot) on a fresh stack: exceptions are fatal.
 * The one interrupt slot used, IRQ from EL1 on SP_EL1 (slot 5: the kernel
 * and its fibers never leave EL1h), saves the caller-saved registers and
 * ELR/SPSR_EL1 on the interrupted stack (AAPCS64 keeps sp 16-byte aligned,
 * no red zone), calls rumpk_interrupt() and returns with eret; PSTATE.I stays
 * set until then, so the handler is never interrupted.
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
    .irp slot, 0, 1, 2, 3, 4
    VENTRY  \slot
    .endr
    .balign 0x80
    b       rumpk_irq
    .irp slot, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    VENTRY  \slot
    .endr

rumpk_irq:
    sub     sp, sp, #176
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x30, [sp, #144]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x0, x1, [sp, #160]
    bl      rumpk_interrupt
    ldp     x0, x1, [sp, #160]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x30, [sp, #144]
    add     sp, sp, #176
    eret

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

/* Interrupt events posted by the handler, taken by the scheduler (shims.h). */
    .section .bss.rumpk_events, "aw", %nobits
    .balign 8
    .globl rumpk_events
rumpk_events:
    .zero   8
