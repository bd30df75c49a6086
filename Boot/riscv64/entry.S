/*
 * entry.S (riscv64) - first instructions of Rumkv in HS-mode.
 *
 * OpenSBI (fw_dynamic) enters here in S-mode on the boot hart with
 * a0 = hart id and a1 = physical address of the device tree. We install the
 * trap vector before anything can fault, set up the boot stack, zero .bss and
 * call the Swift entry rumkv_main(hartid, dtb). Only the boot hart runs here;
 * other harts stay stopped in the firmware until started through SBI HSM.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    lla     t0, rumkv_trap_entry
    csrw    stvec, t0
    csrw    sie, zero
    csrw    sscratch, zero
    lla     sp, __boot_stack_top
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    rumkv_main
3:  wfi
    j       3b

/*
 * Secondary harts, started through SBI HSM hart_start(hartid, this, opaque):
 * a0 = hart id, a1 = opaque = top of the stack the boot hart gave this hart.
 */
    .globl _secondary_start
_secondary_start:
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    lla     t0, rumkv_trap_entry
    csrw    stvec, t0
    csrw    sie, zero
    csrw    sscratch, zero
    mv      sp, a1
    call    rumkv_secondary_main
4:  wfi
    j       4b
