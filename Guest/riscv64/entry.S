/*
 * entry.S (riscv64 guest) - Rumpk's first instructions and its trap vector.
 * Entered in (V)S-mode with a0 = hart id, a1 = boot argument (SysTable or DTB).
 * Sets up the stack, zeroes .bss and calls rumpk_main(a0, a1).
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    lla     sp, __stack_top
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    rumpk_main
3:  wfi
    j       3b

/*
 * Trap vector (stvec, direct mode). Interrupts (scause bit 63) are taken on
 * the interrupted stack: the caller-saved registers go into a 128-byte frame
 * (the psABI keeps sp 16-byte aligned at every instruction and there is no
 * red zone), rumpk_interrupt(scause) runs, the frame is restored and sret
 * resumes the interrupted code. gp and tp are the kernel's and never change;
 * s0-s11 are saved by the Swift code if it uses them. Nothing here can trap
 * again: the handler's SBI calls and virtual-PLIC accesses exit to the
 * hypervisor, not to this vector, and sstatus.SIE stays clear until sret.
 * Exceptions stay fatal: before touching the stack (it may be what failed),
 * switch to the boot stack and hand cause, pc and tval to rumpk_trap.
 */
    .balign 4
    .globl rumpk_trap_vector
rumpk_trap_vector:
    csrw    sscratch, t0
    csrr    t0, scause
    bgez    t0, 9f
    csrr    t0, sscratch
    addi    sp, sp, -128
    sd      ra, 0(sp)
    sd      t0, 8(sp)
    sd      t1, 16(sp)
    sd      t2, 24(sp)
    sd      a0, 32(sp)
    sd      a1, 40(sp)
    sd      a2, 48(sp)
    sd      a3, 56(sp)
    sd      a4, 64(sp)
    sd      a5, 72(sp)
    sd      a6, 80(sp)
    sd      a7, 88(sp)
    sd      t3, 96(sp)
    sd      t4, 104(sp)
    sd      t5, 112(sp)
    sd      t6, 120(sp)
    csrr    a0, scause
    call    rumpk_interrupt
    ld      ra, 0(sp)
    ld      t0, 8(sp)
    ld      t1, 16(sp)
    ld      t2, 24(sp)
    ld      a0, 32(sp)
    ld      a1, 40(sp)
    ld      a2, 48(sp)
    ld      a3, 56(sp)
    ld      a4, 64(sp)
    ld      a5, 72(sp)
    ld      a6, 80(sp)
    ld      a7, 88(sp)
    ld      t3, 96(sp)
    ld      t4, 104(sp)
    ld      t5, 112(sp)
    ld      t6, 120(sp)
    addi    sp, sp, 128
    sret

9:  lla     sp, __stack_top
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    call    rumpk_trap
5:  j       5b

/* Interrupt events posted by the handler, taken by the scheduler (guest.h). */
    .section .bss.rumpk_events, "aw", @nobits
    .balign 8
    .globl rumpk_events
rumpk_events:
    .zero   8
