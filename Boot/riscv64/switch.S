/*
 * switch.S (riscv64) - entering a guest and coming back.
 *
 * rumkv_vcpu_enter(vcpu) saves the hypervisor's callee-saved registers and
 * sp in the vCPU, points sscratch at it, loads the guest state and srets
 * into VS-mode. A trap from the guest arrives at rumkv_trap_entry
 * (vectors.S), which saves the guest registers and either answers on the
 * fast path (SBI BASE/TIME, the emulated UART) and resumes the guest
 * (rumkv_vcpu_resume), or restores the
 * hypervisor registers and returns from rumkv_vcpu_enter (rumkv_vcpu_exit).
 * sscratch is 0 whenever the hypervisor itself runs.
 */
#include "vcpu.h"
#include "fastcalls.h"

    .section .text, "ax"
    .globl rumkv_vcpu_enter
rumkv_vcpu_enter:
    sd      sp, VC_HOST_SP(a0)
    sd      ra, VC_HOST+0*8(a0)
    sd      gp, VC_HOST+1*8(a0)
    sd      tp, VC_HOST+2*8(a0)
    sd      s0, VC_HOST+3*8(a0)
    sd      s1, VC_HOST+4*8(a0)
    sd      s2, VC_HOST+5*8(a0)
    sd      s3, VC_HOST+6*8(a0)
    sd      s4, VC_HOST+7*8(a0)
    sd      s5, VC_HOST+8*8(a0)
    sd      s6, VC_HOST+9*8(a0)
    sd      s7, VC_HOST+10*8(a0)
    sd      s8, VC_HOST+11*8(a0)
    sd      s9, VC_HOST+12*8(a0)
    sd      s10, VC_HOST+13*8(a0)
    sd      s11, VC_HOST+14*8(a0)
    ld      t0, VC_HSTATUS(a0)
    csrw    0x600, t0               /* hstatus */
    ld      t0, VC_SSTATUS(a0)
    csrw    sstatus, t0
    .globl rumkv_vcpu_resume
rumkv_vcpu_resume:                  /* a0 = vcpu */
    csrw    sscratch, a0
    ld      t0, VC_PC(a0)
    csrw    sepc, t0
    ld      x1, 1*8(a0)
    ld      x2, 2*8(a0)
    ld      x3, 3*8(a0)
    ld      x4, 4*8(a0)
    ld      x5, 5*8(a0)
    ld      x6, 6*8(a0)
    ld      x7, 7*8(a0)
    ld      x8, 8*8(a0)
    ld      x9, 9*8(a0)
    ld      x11, 11*8(a0)
    ld      x12, 12*8(a0)
    ld      x13, 13*8(a0)
    ld      x14, 14*8(a0)
    ld      x15, 15*8(a0)
    ld      x16, 16*8(a0)
    ld      x17, 17*8(a0)
    ld      x18, 18*8(a0)
    ld      x19, 19*8(a0)
    ld      x20, 20*8(a0)
    ld      x21, 21*8(a0)
    ld      x22, 22*8(a0)
    ld      x23, 23*8(a0)
    ld      x24, 24*8(a0)
    ld      x25, 25*8(a0)
    ld      x26, 26*8(a0)
    ld      x27, 27*8(a0)
    ld      x28, 28*8(a0)
    ld      x29, 29*8(a0)
    ld      x30, 30*8(a0)
    ld      x31, 31*8(a0)
    ld      x10, 10*8(a0)
    sret

/* One constant SBI BASE answer (fastcalls.h): a6 == fid -> a0 = 0, a1 = value. */
#define FAST_BASE(fid, value) \
    li      t5, fid;            \
    bne     a6, t5, 1f;         \
    li      a0, 0;              \
    li      a1, value;          \
    j       8f;                 \
1:

/* Guest trap, continued from rumkv_trap_entry: t6 = vcpu, guest t6 in sscratch. */
    .globl rumkv_guest_trap
rumkv_guest_trap:
    /* The constant SBI calls (fastcalls.h), with t5 as the only scratch. */
    sd      t5, 30*8(t6)
    csrr    t5, scause
    addi    t5, t5, -10             /* ecall from VS-mode */
    bnez    t5, 9f
    li      t5, RV_SBI_BASE_EID
    bne     a7, t5, 2f
    RV_FAST_BASE(FAST_BASE)
    j       9f                      /* probe_extension, unknown functions */
2:  li      t5, RV_SBI_TIME_EID
    bne     a7, t5, 9f
    bnez    a6, 9f
    csrw    0x24D, a0               /* vstimecmp = the deadline */
    li      a0, 0
    li      a1, 0
8:  csrr    t5, sepc                /* answered: past the ecall, counted, back to the guest */
    addi    t5, t5, 4
    csrw    sepc, t5
    ld      t5, VC_FAST_CALLS(t6)
    addi    t5, t5, 1
    sd      t5, VC_FAST_CALLS(t6)
    ld      t5, 30*8(t6)
    csrrw   t6, sscratch, t6        /* guest t6 back; sscratch = vcpu again */
    sret
9:  ld      t5, 30*8(t6)
    sd      x1, 1*8(t6)
    sd      x2, 2*8(t6)
    sd      x3, 3*8(t6)
    sd      x4, 4*8(t6)
    sd      x5, 5*8(t6)
    sd      x6, 6*8(t6)
    sd      x7, 7*8(t6)
    sd      x8, 8*8(t6)
    sd      x9, 9*8(t6)
    sd      x10, 10*8(t6)
    sd      x11, 11*8(t6)
    sd      x12, 12*8(t6)
    sd      x13, 13*8(t6)
    sd      x14, 14*8(t6)
    sd      x15, 15*8(t6)
    sd      x16, 16*8(t6)
    sd      x17, 17*8(t6)
    sd      x18, 18*8(t6)
    sd      x19, 19*8(t6)
    sd      x20, 20*8(t6)
    sd      x21, 21*8(t6)
    sd      x22, 22*8(t6)
    sd      x23, 23*8(t6)
    sd      x24, 24*8(t6)
    sd      x25, 25*8(t6)
    sd      x26, 26*8(t6)
    sd      x27, 27*8(t6)
    sd      x28, 28*8(t6)
    sd      x29, 29*8(t6)
    sd      x30, 30*8(t6)
    csrrw   t0, sscratch, zero      /* guest t6; sscratch = 0: hypervisor runs */
    sd      t0, 31*8(t6)
    csrr    t0, sepc
    sd      t0, VC_PC(t6)
    csrr    t0, scause
    sd      t0, VC_SCAUSE(t6)
    csrr    t0, stval
    sd      t0, VC_STVAL(t6)
    mv      a0, t6
    ld      sp, VC_HOST_SP(a0)
    ld      gp, VC_HOST+1*8(a0)
    ld      tp, VC_HOST+2*8(a0)
    addi    sp, sp, -16
    sd      a0, 0(sp)
    call    rumkv_guest_fastpath    /* a0 != 0: answered, resume the guest */
    mv      t0, a0
    ld      a0, 0(sp)
    addi    sp, sp, 16
    bnez    t0, rumkv_vcpu_resume
    /* Back to the hypervisor: return from rumkv_vcpu_enter. */
    csrr    t0, 0x643               /* htval */
    sd      t0, VC_HTVAL(a0)
    csrr    t0, 0x64A               /* htinst */
    sd      t0, VC_HTINST(a0)
    csrr    t0, 0x600               /* hstatus */
    sd      t0, VC_HSTATUS(a0)
    ld      ra, VC_HOST+0*8(a0)
    ld      s0, VC_HOST+3*8(a0)
    ld      s1, VC_HOST+4*8(a0)
    ld      s2, VC_HOST+5*8(a0)
    ld      s3, VC_HOST+6*8(a0)
    ld      s4, VC_HOST+7*8(a0)
    ld      s5, VC_HOST+8*8(a0)
    ld      s6, VC_HOST+9*8(a0)
    ld      s7, VC_HOST+10*8(a0)
    ld      s8, VC_HOST+11*8(a0)
    ld      s9, VC_HOST+12*8(a0)
    ld      s10, VC_HOST+13*8(a0)
    ld      s11, VC_HOST+14*8(a0)
    ret
