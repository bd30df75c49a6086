/*
 * shims.h (aarch64) - one static inline function per system register or instruction.
 *
 * Swift has no inline assembly; these are the only places the hypervisor (and
 * the Rumpk guest, which shares this header) touches system registers, SMC/HVC
 * or MMIO directly. Registers are named as in the Arm ARM (DDI 0487), "AArch64
 * System Register Descriptions"; the _EL2 ones are UNDEFINED at EL1, so Swift
 * reads them only after checking CurrentEL. Nothing here has logic beyond the
 * instruction itself.
 */
#ifndef RUMKV_AARCH64_SHIMS_H
#define RUMKV_AARCH64_SHIMS_H
#include <stdint.h>
#include "trapframe.h"

#define A64_MRS(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " #reg : "=r"(v_)); v_; })
#define A64_MSR(reg, val) __asm__ volatile("msr " #reg ", %0\n\tisb" :: "r"((uint64_t)(val)) : "memory")

/* Identification and state, readable at EL1 and EL2. */
static inline uint64_t a64_read_currentel(void) { return A64_MRS(CurrentEL); }       /* EL in [3:2] */
static inline uint64_t a64_read_id_aa64pfr0(void) { return A64_MRS(ID_AA64PFR0_EL1); } /* GIC in [27:24] */
static inline uint64_t a64_read_id_aa64mmfr0(void) { return A64_MRS(ID_AA64MMFR0_EL1); } /* PARange [3:0] */
static inline uint64_t a64_read_id_aa64mmfr1(void) { return A64_MRS(ID_AA64MMFR1_EL1); } /* VMIDBits [7:4] */
static inline uint64_t a64_read_midr(void) { return A64_MRS(MIDR_EL1); }
static inline uint64_t a64_read_mpidr(void) { return A64_MRS(MPIDR_EL1); }

/* EL2 registers: exception state, hypervisor configuration, stage 2. */
static inline uint64_t a64_read_esr_el2(void) { return A64_MRS(ESR_EL2); }
static inline uint64_t a64_read_elr_el2(void) { return A64_MRS(ELR_EL2); }
static inline uint64_t a64_read_far_el2(void) { return A64_MRS(FAR_EL2); }
static inline uint64_t a64_read_spsr_el2(void) { return A64_MRS(SPSR_EL2); }
static inline uint64_t a64_read_hcr_el2(void) { return A64_MRS(HCR_EL2); }
static inline void a64_write_hcr_el2(uint64_t v) { A64_MSR(HCR_EL2, v); }
static inline void a64_write_vbar_el2(uint64_t v) { A64_MSR(VBAR_EL2, v); }
static inline uint64_t a64_read_vtcr_el2(void) { return A64_MRS(VTCR_EL2); }
static inline void a64_write_vtcr_el2(uint64_t v) { A64_MSR(VTCR_EL2, v); }
static inline uint64_t a64_read_vttbr_el2(void) { return A64_MRS(VTTBR_EL2); }
static inline void a64_write_vttbr_el2(uint64_t v) { A64_MSR(VTTBR_EL2, v); }

/* Generic timer: the counter and its frequency (Arm ARM, "The Generic Timer"). The isb keeps
 * the counter read from being hoisted above earlier instructions. */
static inline uint64_t a64_read_cntpct(void) {
    __asm__ volatile("isb" ::: "memory");
    return A64_MRS(CNTPCT_EL0);
}
static inline uint64_t a64_read_cntfrq(void) { return A64_MRS(CNTFRQ_EL0); }

/* PMU cycle counter, for the bench payload only (Guest/Kernel/Bench.swift).
 * PMCCFILTR_EL0.NSH (bit 27) counts EL2 as well as EL1 and EL0; PMCNTENSET_EL0
 * bit 31 enables the cycle counter, PMCR_EL0.E (bit 0) the PMU. Under QEMU
 * -icount shift=0 it advances one per instruction, on this CPU only. */
static inline void a64_pmu_cycles_start(void) {
    A64_MSR(PMCCFILTR_EL0, 1ull << 27);
    A64_MSR(PMCNTENSET_EL0, 1ull << 31);
    A64_MSR(PMCR_EL0, A64_MRS(PMCR_EL0) | 1);
}
static inline uint64_t a64_read_pmccntr(void) {
    __asm__ volatile("isb" ::: "memory");
    return A64_MRS(PMCCNTR_EL0);
}

/* Hints and barriers. */
static inline void a64_mask_interrupts(void) { __asm__ volatile("msr daifset, #0xf" ::: "memory"); }
static inline void a64_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void a64_wfe(void) { __asm__ volatile("wfe" ::: "memory"); }
static inline void a64_sev(void) { __asm__ volatile("sev" ::: "memory"); }
static inline void a64_yield(void) { __asm__ volatile("yield"); }
static inline void a64_isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void a64_dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
/* BRK #0x52 ('R'): the test build's deliberate trap; ESR.ISS carries 0x52. */
static inline void a64_brk_test(void) { __asm__ volatile("brk #0x52" ::: "memory"); }

/* MMIO: Device-nGnRnE (Rumpk runs with its MMU off; Rumkv maps MMIO as
 * Device, Boot/aarch64/entry.S). Inline asm keeps
 * each access a single ldr/str (never a pair or writeback form, which give
 * ISV = 0 when trapped: ports.md). */
static inline uint32_t a64_mmio_read32(uint64_t addr) {
    uint32_t v; __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory"); return v;
}
static inline void a64_mmio_write32(uint64_t addr, uint32_t v) {
    __asm__ volatile("str %w0, [%1]" :: "r"(v), "r"(addr) : "memory");
}
static inline uint8_t a64_mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void a64_mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }

/* SMC Calling Convention (Arm DEN 0028): x0 = function id, x1-x3 arguments,
 * result in x0. x4-x17 may be clobbered by SMCCC v1.0 implementations. */
#define A64_SMCCC(insn, fid, a1, a2, a3) ({                                     \
    register uint64_t x0_ __asm__("x0") = (fid);                                \
    register uint64_t x1_ __asm__("x1") = (a1);                                 \
    register uint64_t x2_ __asm__("x2") = (a2);                                 \
    register uint64_t x3_ __asm__("x3") = (a3);                                 \
    __asm__ volatile(insn : "+r"(x0_), "+r"(x1_), "+r"(x2_), "+r"(x3_) ::       \
        "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",         \
        "x14", "x15", "x16", "x17", "memory");                                  \
    x0_; })
static inline uint64_t a64_smc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    return A64_SMCCC("smc #0", fid, a1, a2, a3);
}
static inline uint64_t a64_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    return A64_SMCCC("hvc #0", fid, a1, a2, a3);
}

/* Linker-script symbols (hypervisor.ld): the image bounds, and the base of
 * RAM the image was linked for (where QEMU's ELF loader puts the DTB). */
extern char __image_start[], __image_end[], __ram_base[];
static inline uint64_t a64_image_start(void) { return (uint64_t)__image_start; }
static inline uint64_t a64_image_end(void) { return (uint64_t)__image_end; }
static inline uint64_t a64_link_ram_base(void) { return (uint64_t)__ram_base; }

/* ---- Rumpk guest at EL1 (Guest/aarch64) ---- */

/* A Rumkv hypercall answered in SBI terms: x0 = error, x1 = value. */
struct a64_hvc_result { uint64_t x0; uint64_t x1; };
static inline struct a64_hvc_result a64_hvc_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0_ __asm__("x0") = fid;
    register uint64_t x1_ __asm__("x1") = a1;
    register uint64_t x2_ __asm__("x2") = a2;
    register uint64_t x3_ __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0_), "+r"(x1_), "+r"(x2_), "+r"(x3_) ::
        "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
        "x14", "x15", "x16", "x17", "memory");
    struct a64_hvc_result r = { x0_, x1_ };
    return r;
}

/* EL1 virtual timer (CNTV_*_EL0): the counter a guest sees, the compare
 * value and the control (ENABLE bit 0, IMASK bit 1). */
static inline uint64_t a64_read_cntvct(void) {
    __asm__ volatile("isb" ::: "memory");
    return A64_MRS(CNTVCT_EL0);
}
static inline void a64_write_cntv_cval(uint64_t v) { A64_MSR(CNTV_CVAL_EL0, v); }
static inline void a64_write_cntv_ctl(uint64_t v) { A64_MSR(CNTV_CTL_EL0, v); }

static inline void a64_write_vbar_el1(uint64_t v) { A64_MSR(VBAR_EL1, v); }
/* A permanently undefined instruction (UDF #0): an "unknown reason" exception. */
static inline void a64_udf(void) { __asm__ volatile("udf #0" ::: "memory"); }
static inline uint64_t a64_mmio_read64(uint64_t addr) {
    uint64_t v; __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory"); return v;
}
static inline void a64_mmio_write64(uint64_t addr, uint64_t v) {
    __asm__ volatile("str %0, [%1]" :: "r"(v), "r"(addr) : "memory");
}

/* Hostile tests (Guest/Kernel/Hostile.swift): a store pair (no instruction
 * syndrome when it aborts to EL2) and an EL2 register written from EL1. */
static inline void a64_stp_test(uint64_t addr) {
    __asm__ volatile("stp xzr, xzr, [%0]" :: "r"(addr) : "memory");
}
static inline void a64_write_hcr_el2_from_el1(void) { __asm__ volatile("msr hcr_el2, xzr\n\tisb" ::: "memory"); }

/* Attack suite (Guest/aarch64/Port.swift attackInstruction): EL2 and EL3
 * registers and instructions, UNDEFINED at EL1 (the guest's own vector takes
 * them). */
static inline void a64_attack_mrs_vttbr_el2(void) { uint64_t v; __asm__ volatile("mrs %0, vttbr_el2" : "=r"(v) :: "memory"); (void)v; }
static inline void a64_attack_msr_vbar_el2(void) { __asm__ volatile("msr vbar_el2, xzr\n\tisb" ::: "memory"); }
static inline void a64_attack_tlbi_alle2(void) { __asm__ volatile("tlbi alle2\n\tdsb sy" ::: "memory"); }
static inline void a64_attack_at_s12e1r(void) { __asm__ volatile("at s12e1r, xzr\n\tisb" ::: "memory"); }
static inline void a64_attack_mrs_scr_el3(void) { uint64_t v; __asm__ volatile("mrs %0, scr_el3" : "=r"(v) :: "memory"); (void)v; }
static inline void a64_attack_msr_ich_hcr(void) { __asm__ volatile("msr S3_4_C12_C11_0, xzr\n\tisb" ::: "memory"); }

/* The event word Rumpk's interrupt handler posts into (Guest/aarch64/entry.S, .bss). */
extern uint64_t rumpk_events;
static inline void rumpk_post_events(uint64_t bits) { __atomic_fetch_or(&rumpk_events, bits, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_take_events(void) { return __atomic_exchange_n(&rumpk_events, 0, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_peek_events(void) { return __atomic_load_n(&rumpk_events, __ATOMIC_SEQ_CST); }

/* The guest's EL1 vector table (Guest/aarch64/entry.S). */
extern char rumpk_vectors[];
static inline uint64_t a64_guest_vectors(void) { return (uint64_t)rumpk_vectors; }
/* ---- Hosting guests (Hypervisor/aarch64) ---- */
#include "vcpu.h"

/* Writes without their own isb, for register files restored in a row: the
 * caller ends the row with a64_isb(). */
#define A64_MSR_NOSYNC(reg, val) __asm__ volatile("msr " #reg ", %0" :: "r"((uint64_t)(val)) : "memory")
#define A64_RW(name, reg) \
    static inline uint64_t a64_read_##name(void) { return A64_MRS(reg); } \
    static inline void a64_write_##name(uint64_t v) { A64_MSR_NOSYNC(reg, v); }

/* EL1 context of the running guest (E2H = 0: from EL2 these are the guest's). */
A64_RW(sp_el0, SP_EL0)
A64_RW(sp_el1, SP_EL1)
A64_RW(elr_el1, ELR_EL1)
A64_RW(spsr_el1, SPSR_EL1)
A64_RW(sctlr_el1, SCTLR_EL1)
A64_RW(ttbr0_el1, TTBR0_EL1)
A64_RW(ttbr1_el1, TTBR1_EL1)
A64_RW(tcr_el1, TCR_EL1)
A64_RW(mair_el1, MAIR_EL1)
A64_RW(amair_el1, AMAIR_EL1)
static inline uint64_t a64_read_vbar_el1(void) { return A64_MRS(VBAR_EL1); }  /* write: a64_write_vbar_el1 above */
A64_RW(contextidr_el1, CONTEXTIDR_EL1)
A64_RW(tpidr_el0, TPIDR_EL0)
A64_RW(tpidrro_el0, TPIDRRO_EL0)
A64_RW(tpidr_el1, TPIDR_EL1)
A64_RW(esr_el1, ESR_EL1)
A64_RW(far_el1, FAR_EL1)
A64_RW(afsr0_el1, AFSR0_EL1)
A64_RW(afsr1_el1, AFSR1_EL1)
A64_RW(par_el1, PAR_EL1)
A64_RW(cpacr_el1, CPACR_EL1)
A64_RW(cntkctl_el1, CNTKCTL_EL1)
A64_RW(csselr_el1, CSSELR_EL1)
A64_RW(mdscr_el1, MDSCR_EL1)
A64_RW(cntv_ctl_el0, CNTV_CTL_EL0)
A64_RW(cntv_cval_el0, CNTV_CVAL_EL0)

/* EL2 configuration for guests (Arm ARM D17: HCR_EL2, VTCR_EL2, VMPIDR_EL2, CNTHCTL_EL2). */
A64_RW(vmpidr_el2, VMPIDR_EL2)
A64_RW(vpidr_el2, VPIDR_EL2)
A64_RW(tpidr_el2, TPIDR_EL2)
A64_RW(cnthctl_el2, CNTHCTL_EL2)
A64_RW(cntvoff_el2, CNTVOFF_EL2)
A64_RW(cnthp_ctl_el2, CNTHP_CTL_EL2)
A64_RW(cnthp_cval_el2, CNTHP_CVAL_EL2)
A64_RW(cptr_el2, CPTR_EL2)
A64_RW(mdcr_el2, MDCR_EL2)
A64_RW(sctlr_el2, SCTLR_EL2)

/* GICv3 CPU interface (GIC spec IHI 0069, 12.2): physical at EL2, list registers. */
A64_RW(icc_iar1, S3_0_C12_C12_0)
A64_RW(icc_eoir1, S3_0_C12_C12_1)
A64_RW(icc_hppir1, S3_0_C12_C12_2)
A64_RW(icc_ctlr_el1, S3_0_C12_C12_4)
A64_RW(icc_igrpen1, S3_0_C12_C12_7)
A64_RW(icc_dir, S3_0_C12_C11_1)
A64_RW(icc_sgi1r, S3_0_C12_C11_5)
A64_RW(icc_pmr, S3_0_C4_C6_0)
A64_RW(icc_bpr1, S3_0_C12_C12_3)
A64_RW(icc_sre_el1, S3_0_C12_C12_5)
A64_RW(icc_sre_el2, S3_4_C12_C9_5)
A64_RW(ich_ap1r0, S3_4_C12_C9_0)
A64_RW(ich_hcr, S3_4_C12_C11_0)
A64_RW(ich_vtr, S3_4_C12_C11_1)
A64_RW(ich_misr, S3_4_C12_C11_2)
A64_RW(ich_elrsr, S3_4_C12_C11_5)
A64_RW(ich_vmcr, S3_4_C12_C11_7)
A64_RW(ich_lr0, S3_4_C12_C12_0)
A64_RW(ich_lr1, S3_4_C12_C12_1)
A64_RW(ich_lr2, S3_4_C12_C12_2)
A64_RW(ich_lr3, S3_4_C12_C12_3)

/* Stage-2 TLB maintenance: every VMID's EL1 entries, inner shareable. */
static inline void a64_tlbi_alle1is(void) {
    __asm__ volatile("dsb ishst\n\ttlbi alle1is\n\tdsb ish\n\tisb" ::: "memory");
}
/* x0/x1 etc. of an SMCCC call to firmware with an entry point (PSCI CPU_ON). */
static inline uint64_t a64_secondary_entry(void) { return (uint64_t)rumkv_secondary_start; }

/* Atomics on the vCPU's inject word (raised from any CPU). */
static inline void a64_atomic_or64(uint64_t *p, uint64_t v) { __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t a64_atomic_swap64(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t a64_atomic_load64(uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* Guest interrupt mask (PSTATE.I). */
static inline void a64_irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void a64_irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
#endif
