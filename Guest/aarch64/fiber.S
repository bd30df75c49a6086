/*
 * fiber.S (aarch64 guest) - switching between Rumpk fibers.
 *
 * A fiber's saved context lives on its own stack: a 96-byte frame holding
 * x19-x28, x29 (fp) and x30 (lr), the registers AAPCS64 makes callee-saved
 * (the image is built -mgeneral-regs-only, so d8-d15 hold nothing of ours).
 * rumpk_fiber_switch pushes that frame, stores sp through x0 and pops the
 * frame found at x1. rumpk_fiber_prepare builds a first frame whose lr is
 * rumpk_fiber_start, so the first switch to a new fiber "returns" into
 * rumpk_fiber_entry(). Contract: Shared/include/rumpk.h.
 */
    .section .text.fiber, "ax"

    .globl rumpk_fiber_switch
    .balign 4
rumpk_fiber_switch:
    sub     sp, sp, #96
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    mov     x2, sp
    str     x2, [x0]
    mov     sp, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #96
    ret

/* x0 = stack top (16-byte aligned) -> x0 = the sp to switch to. */
    .globl rumpk_fiber_prepare
    .balign 4
rumpk_fiber_prepare:
    sub     x0, x0, #96
    stp     xzr, xzr, [x0, #0]
    stp     xzr, xzr, [x0, #16]
    stp     xzr, xzr, [x0, #32]
    stp     xzr, xzr, [x0, #48]
    stp     xzr, xzr, [x0, #64]
    adr     x1, rumpk_fiber_start
    stp     xzr, x1, [x0, #80]
    ret

    .balign 4
rumpk_fiber_start:
    bl      rumpk_fiber_entry
1:  b       1b
