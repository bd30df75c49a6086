/*
 * fiber.S (riscv64 guest) - switching between Rumpk fibers.
 *
 * A fiber's saved context lives on its own stack: a 112-byte frame holding
 * ra and s0-s11 (the registers the RISC-V psABI makes callee-saved; gp and
 * tp are shared by every fiber and never change). rumpk_fiber_switch pushes
 * that frame, stores sp through a0 and pops the frame found at a1.
 * rumpk_fiber_prepare builds a first frame whose ra is rumpk_fiber_start,
 * so the first switch to a new fiber "returns" into rumpk_fiber_entry().
 * Contract: Shared/include/rumpk.h.
 */
    .section .text.fiber, "ax"

    .globl rumpk_fiber_switch
    .balign 4
rumpk_fiber_switch:
    addi    sp, sp, -112
    sd      ra, 0(sp)
    sd      s0, 8(sp)
    sd      s1, 16(sp)
    sd      s2, 24(sp)
    sd      s3, 32(sp)
    sd      s4, 40(sp)
    sd      s5, 48(sp)
    sd      s6, 56(sp)
    sd      s7, 64(sp)
    sd      s8, 72(sp)
    sd      s9, 80(sp)
    sd      s10, 88(sp)
    sd      s11, 96(sp)
    sd      sp, 0(a0)
    mv      sp, a1
    ld      ra, 0(sp)
    ld      s0, 8(sp)
    ld      s1, 16(sp)
    ld      s2, 24(sp)
    ld      s3, 32(sp)
    ld      s4, 40(sp)
    ld      s5, 48(sp)
    ld      s6, 56(sp)
    ld      s7, 64(sp)
    ld      s8, 72(sp)
    ld      s9, 80(sp)
    ld      s10, 88(sp)
    ld      s11, 96(sp)
    addi    sp, sp, 112
    ret

/* a0 = stack top (16-byte aligned) -> a0 = the sp to switch to. */
    .globl rumpk_fiber_prepare
    .balign 4
rumpk_fiber_prepare:
    addi    a0, a0, -112
    lla     t0, rumpk_fiber_start
    sd      t0, 0(a0)
    li      t1, 8
1:  add     t2, a0, t1
    sd      zero, 0(t2)
    addi    t1, t1, 8
    li      t2, 112
    bltu    t1, t2, 1b
    ret

    .balign 4
rumpk_fiber_start:
    call    rumpk_fiber_entry
2:  j       2b
