/*
 * vcpu.h (aarch64) - a vCPU's saved state, shared by switch.S and Swift.
 *
 * The world switch (switch.S) saves and restores the general registers,
 * ELR_EL2/SPSR_EL2 and the exit syndrome here; the EL1 system registers, the
 * virtual timer and the GIC list registers are saved and restored in Swift
 * around each run (Hypervisor/aarch64/VCPU.swift). Offsets are asserted so
 * the assembly and the struct cannot drift apart.
 */
#ifndef RUMKV_AARCH64_VCPU_H
#define RUMKV_AARCH64_VCPU_H

#define VC_GPR      0x000   /* x0..x30 */
#define VC_PC       0x0F8   /* ELR_EL2 */
#define VC_PSTATE   0x100   /* SPSR_EL2 */
#define VC_HOST_SP  0x108
#define VC_HOST     0x110   /* x19..x30 (12 slots) */
#define VC_ESR      0x170
#define VC_FAR      0x178
#define VC_HPFAR    0x180
#define VC_VECTOR   0x188   /* vector slot the exit came through (8 = sync, 9 = IRQ, ...) */
#define VC_FAST_CALLS 0x2B0 /* calls answered in the vector (vectors.S, rumkv_hvc_fast) */

#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct a64_el1_context {
    uint64_t sp_el0, sp_el1, elr_el1, spsr_el1;
    uint64_t sctlr_el1, ttbr0_el1, ttbr1_el1, tcr_el1;
    uint64_t mair_el1, amair_el1, vbar_el1, contextidr_el1;
    uint64_t tpidr_el0, tpidrro_el0, tpidr_el1, esr_el1;
    uint64_t far_el1, afsr0_el1, afsr1_el1, par_el1;
    uint64_t cpacr_el1, cntkctl_el1, csselr_el1, mdscr_el1;
} a64_el1_context_t;

typedef struct a64_vcpu {
    uint64_t x[31];         /* 0x000 guest x0..x30 */
    uint64_t pc;            /* 0x0F8 guest pc (ELR_EL2) */
    uint64_t pstate;        /* 0x100 guest PSTATE (SPSR_EL2) */
    uint64_t host_sp;       /* 0x108 hypervisor sp while the guest runs */
    uint64_t host[12];      /* 0x110 hypervisor x19..x30 */
    uint64_t esr;           /* 0x170 ESR_EL2 at exit */
    uint64_t far;           /* 0x178 FAR_EL2 */
    uint64_t hpfar;         /* 0x180 HPFAR_EL2 */
    uint64_t vector;        /* 0x188 */
    a64_el1_context_t el1;  /* EL1 system registers, handled in Swift */
    uint64_t cntv_ctl, cntv_cval;   /* the guest's virtual timer */
    uint64_t vmpidr;        /* VMPIDR_EL2: Aff0 = vCPU index */
    uint64_t lr[4];         /* ICH_LR0..3_EL2 */
    uint64_t vmcr;          /* ICH_VMCR_EL2 */
    uint64_t ap1r0;         /* ICH_AP1R0_EL2 (5 priority bits: one register) */
    uint64_t pending;       /* virtual interrupts not yet in a list register (bit n = INTID n < 32) */
    uint64_t inject;        /* raised from other CPUs (atomic OR / swap), merged into pending */
    uint64_t index;         /* vCPU index in its guest */
    uint64_t fast_calls;    /* calls answered without the core (stats) */
    uint64_t convention;    /* how the last call is answered (VCPU.swift Convention): Rumkv / SMC / no result bits */
    uint64_t timer_active;  /* PPI 27 was active physically when the vCPU was put */
} a64_vcpu_t;
_Static_assert(__builtin_offsetof(a64_vcpu_t, pc) == VC_PC, "pc");
_Static_assert(__builtin_offsetof(a64_vcpu_t, pstate) == VC_PSTATE, "pstate");
_Static_assert(__builtin_offsetof(a64_vcpu_t, host_sp) == VC_HOST_SP, "host_sp");
_Static_assert(__builtin_offsetof(a64_vcpu_t, host) == VC_HOST, "host");
_Static_assert(__builtin_offsetof(a64_vcpu_t, esr) == VC_ESR, "esr");
_Static_assert(__builtin_offsetof(a64_vcpu_t, hpfar) == VC_HPFAR, "hpfar");
_Static_assert(__builtin_offsetof(a64_vcpu_t, vector) == VC_VECTOR, "vector");
_Static_assert(__builtin_offsetof(a64_vcpu_t, fast_calls) == VC_FAST_CALLS, "fast_calls");

/* switch.S */
void rumkv_vcpu_enter(a64_vcpu_t *vcpu);
/* entry.S: where a secondary CPU started by PSCI CPU_ON begins (x0 = stack top). */
extern char rumkv_secondary_start[];
#endif
#endif
