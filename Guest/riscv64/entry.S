/*
 * entry.S (riscv64 guest) - Rumpk's first instructions.
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

/* Trap vector: every trap is fatal for now; hand cause, pc, tval to Swift. */
    .balign 4
    .globl rumpk_trap_vector
rumpk_trap_vector:
    lla     sp, __stack_top
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    call    rumpk_trap
5:  j       5b
