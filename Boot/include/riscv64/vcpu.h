/*
 * vcpu.h (riscv64) - a vCPU's saved state, shared by switch.S and Swift.
 *
 * The world switch (switch.S) saves and restores the general registers, the
 * guest pc and the trap CSRs here; the VS-level CSRs are saved and restored
 * in Swift around each run (Hypervisor/riscv64/VCPU.swift). Offsets are
 * asserted so the assembly and the struct cannot drift apart.
 */
#ifndef RUMKV_RISCV64_VCPU_H
#define RUMKV_RISCV64_VCPU_H

#define VC_GPR      0x000   /* x0..x31 */
#define VC_PC       0x100
#define VC_HSTATUS  0x108
#define VC_SSTATUS  0x110
#define VC_HOST_SP  0x118
#define VC_HOST     0x120   /* ra, gp, tp, s0..s11 (15 slots) */
#define VC_SCAUSE   0x198
#define VC_STVAL    0x1A0
#define VC_HTVAL    0x1A8
#define VC_HTINST   0x1B0
#define VC_VSTIMECMP 0x200
#define VC_FAST_CALLS 0x208

#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct rv_vcpu {
    uint64_t gpr[32];       /* 0x000 guest registers; gpr[0] unused */
    uint64_t pc;            /* 0x100 guest pc (sepc) */
    uint64_t hstatus;       /* 0x108 hstatus to enter with / seen at exit */
    uint64_t sstatus;       /* 0x110 sstatus to enter with (SPP = 1) */
    uint64_t host_sp;       /* 0x118 hypervisor sp while the guest runs */
    uint64_t host[15];      /* 0x120 hypervisor ra, gp, tp, s0..s11 */
    uint64_t scause;        /* 0x198 exit cause */
    uint64_t stval;         /* 0x1A0 */
    uint64_t htval;         /* 0x1A8 guest-physical address >> 2 on guest-page faults */
    uint64_t htinst;        /* 0x1B0 */
    /* VS-level state, handled in Swift. */
    uint64_t vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
    uint64_t hvip;          /* pending virtual interrupts (VSSIP for IPIs) */
    uint64_t vstimecmp;     /* guest timer compare (Sstc) */
    uint64_t fast_calls;    /* calls answered on the fast path (stats) */
    uint64_t hgatp;         /* stage-2 root to run under */
    uint64_t inject;        /* virtual interrupts raised from other harts (atomic OR / swap) */
    uint64_t index;         /* vCPU index in its guest (= virtual PLIC context) */
    uint64_t legacy_call;   /* the last call used a legacy SBI extension (result in a0 only) */
    /* FP state (Boot/riscv64/fp.S, VCPU.swift): f0..f31 then fcsr, saved when the guest
     * left sstatus.FS Dirty, restored when this hart's registers hold another vCPU's. */
    uint64_t fpr[33];
    uint64_t fp_cpu;        /* 1 + the hart whose f-registers hold this vCPU's values, 0 if none */
} rv_vcpu_t;
_Static_assert(__builtin_offsetof(rv_vcpu_t, pc) == VC_PC, "pc");
_Static_assert(__builtin_offsetof(rv_vcpu_t, hstatus) == VC_HSTATUS, "hstatus");
_Static_assert(__builtin_offsetof(rv_vcpu_t, sstatus) == VC_SSTATUS, "sstatus");
_Static_assert(__builtin_offsetof(rv_vcpu_t, host_sp) == VC_HOST_SP, "host_sp");
_Static_assert(__builtin_offsetof(rv_vcpu_t, host) == VC_HOST, "host");
_Static_assert(__builtin_offsetof(rv_vcpu_t, scause) == VC_SCAUSE, "scause");
_Static_assert(__builtin_offsetof(rv_vcpu_t, htinst) == VC_HTINST, "htinst");
_Static_assert(__builtin_offsetof(rv_vcpu_t, vstimecmp) == VC_VSTIMECMP, "vstimecmp");
_Static_assert(__builtin_offsetof(rv_vcpu_t, fast_calls) == VC_FAST_CALLS, "fast_calls");

/* switch.S */
void rumkv_vcpu_enter(rv_vcpu_t *vcpu);
/* fp.S: f0..f31 and fcsr to / from 33 words; sstatus.FS must not be Off. */
void rumkv_fp_save(uint64_t *regs);
void rumkv_fp_restore(const uint64_t *regs);
#endif
#endif
