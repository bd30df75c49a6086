/*
 * shims.h (riscv64) - one static inline function per privileged instruction.
 *
 * Swift has no inline assembly; these are the only places the hypervisor
 * touches CSRs, SBI or MMIO directly. CSRs are named by number so that the
 * assembler needs no H-extension support (RISC-V Privileged Spec v1.12,
 * table 2.2-2.5). Nothing here has logic beyond the instruction itself.
 */
#ifndef RUMKV_RISCV64_SHIMS_H
#define RUMKV_RISCV64_SHIMS_H
#include <stdint.h>
#include "trapframe.h"

#define RV_CSR_READ(num) ({ uint64_t v_; __asm__ volatile("csrr %0, " #num : "=r"(v_)); v_; })
#define RV_CSR_WRITE(num, val) __asm__ volatile("csrw " #num ", %0" :: "r"((uint64_t)(val)) : "memory")

static inline uint64_t rv_read_sstatus(void) { return RV_CSR_READ(0x100); }
static inline void rv_set_sstatus(uint64_t bits) { __asm__ volatile("csrs 0x100, %0" :: "r"(bits) : "memory"); }
static inline void rv_clear_sstatus(uint64_t bits) { __asm__ volatile("csrc 0x100, %0" :: "r"(bits) : "memory"); }
static inline void rv_write_stvec(uint64_t v) { RV_CSR_WRITE(0x105, v); }
static inline uint64_t rv_read_time(void) { return RV_CSR_READ(0xC01); }
static inline void rv_clear_sie_bit(void) { __asm__ volatile("csrci 0x100, 2" ::: "memory"); }

/* H-extension CSRs: hstatus 0x600, hgatp 0x680. Trap if H is absent. */
static inline uint64_t rv_read_hstatus(void) { return RV_CSR_READ(0x600); }
static inline uint64_t rv_read_hgatp(void) { return RV_CSR_READ(0x680); }
static inline void rv_write_hgatp(uint64_t v) { RV_CSR_WRITE(0x680, v); }
static inline uint64_t rv_read_htval(void) { return RV_CSR_READ(0x643); }

static inline void rv_wfi(void) { __asm__ volatile("wfi"); }
static inline void rv_pause(void) { __asm__ volatile(".insn i 0x0F, 0, x0, x0, 0x010"); }
static inline void rv_ebreak(void) { __asm__ volatile("ebreak"); }
static inline void rv_fence(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

/* Byte-wide MMIO (NS16550 registers). */
static inline uint8_t rv_mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void rv_mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }

/* SBI call (SBI spec v2.0 ch. 3): a7 = extension, a6 = function. */
struct rv_sbiret { int64_t error; int64_t value; };
static inline struct rv_sbiret rv_sbi_call(uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
    register uint64_t r_a0 __asm__("a0") = a0;
    register uint64_t r_a1 __asm__("a1") = a1;
    register uint64_t r_a2 __asm__("a2") = a2;
    register uint64_t r_a6 __asm__("a6") = fid;
    register uint64_t r_a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    struct rv_sbiret ret = { (int64_t)r_a0, (int64_t)r_a1 };
    return ret;
}

/* Linker-script symbols bounding the hypervisor image. */
extern char __image_start[], __image_end[];
static inline uint64_t rv_image_start(void) { return (uint64_t)__image_start; }
static inline uint64_t rv_image_end(void) { return (uint64_t)__image_end; }
#endif

/* ---- guest hosting (H-extension) ---- */
#include "vcpu.h"
static inline void rv_write_hstatus(uint64_t v) { RV_CSR_WRITE(0x600, v); }
static inline void rv_write_hedeleg(uint64_t v) { RV_CSR_WRITE(0x602, v); }
static inline void rv_write_hideleg(uint64_t v) { RV_CSR_WRITE(0x603, v); }
static inline void rv_write_hcounteren(uint64_t v) { RV_CSR_WRITE(0x606, v); }
static inline void rv_write_henvcfg(uint64_t v) { RV_CSR_WRITE(0x60A, v); }
static inline uint64_t rv_read_hvip(void) { return RV_CSR_READ(0x645); }
static inline void rv_write_hvip(uint64_t v) { RV_CSR_WRITE(0x645, v); }
static inline uint64_t rv_read_vsstatus(void) { return RV_CSR_READ(0x200); }
static inline void rv_write_vsstatus(uint64_t v) { RV_CSR_WRITE(0x200, v); }
static inline uint64_t rv_read_vsie(void) { return RV_CSR_READ(0x204); }
static inline void rv_write_vsie(uint64_t v) { RV_CSR_WRITE(0x204, v); }
static inline uint64_t rv_read_vstvec(void) { return RV_CSR_READ(0x205); }
static inline void rv_write_vstvec(uint64_t v) { RV_CSR_WRITE(0x205, v); }
static inline uint64_t rv_read_vsscratch(void) { return RV_CSR_READ(0x240); }
static inline void rv_write_vsscratch(uint64_t v) { RV_CSR_WRITE(0x240, v); }
static inline uint64_t rv_read_vsepc(void) { return RV_CSR_READ(0x241); }
static inline void rv_write_vsepc(uint64_t v) { RV_CSR_WRITE(0x241, v); }
static inline uint64_t rv_read_vscause(void) { return RV_CSR_READ(0x242); }
static inline void rv_write_vscause(uint64_t v) { RV_CSR_WRITE(0x242, v); }
static inline uint64_t rv_read_vstval(void) { return RV_CSR_READ(0x243); }
static inline void rv_write_vstval(uint64_t v) { RV_CSR_WRITE(0x243, v); }
static inline uint64_t rv_read_vsatp(void) { return RV_CSR_READ(0x280); }
static inline void rv_write_vsatp(uint64_t v) { RV_CSR_WRITE(0x280, v); }
static inline uint64_t rv_read_vstimecmp(void) { return RV_CSR_READ(0x24D); }
static inline void rv_write_vstimecmp(uint64_t v) { RV_CSR_WRITE(0x24D, v); }
static inline void rv_write_stimecmp(uint64_t v) { RV_CSR_WRITE(0x14D, v); }
static inline uint64_t rv_read_stimecmp(void) { return RV_CSR_READ(0x14D); }
static inline void rv_write_sie(uint64_t v) { RV_CSR_WRITE(0x104, v); }
static inline uint64_t rv_read_sip(void) { return RV_CSR_READ(0x144); }
static inline void rv_clear_sip_ssip(void) { __asm__ volatile("csrci 0x144, 2" ::: "memory"); }
static inline uint64_t rv_read_tp(void) { uint64_t v; __asm__ volatile("mv %0, tp" : "=r"(v)); return v; }
static inline void rv_write_tp(uint64_t v) { __asm__ volatile("mv tp, %0" :: "r"(v)); }
static inline void rv_hfence_gvma_all(void) { __asm__ volatile(".insn r 0x73, 0, 0x31, x0, x0, x0" ::: "memory"); }
static inline void rv_hfence_vvma_all(void) { __asm__ volatile(".insn r 0x73, 0, 0x11, x0, x0, x0" ::: "memory"); }
extern char _secondary_start[];
static inline uint64_t rv_secondary_entry(void) { return (uint64_t)_secondary_start; }
static inline uint64_t rv_mmio_read64(uint64_t addr) { return *(volatile uint64_t *)addr; }
static inline void rv_mmio_write64(uint64_t addr, uint64_t v) { *(volatile uint64_t *)addr = v; }
static inline void rv_illegal(void) { __asm__ volatile(".word 0"); }
static inline uint64_t rv_read_instret(void) { return RV_CSR_READ(0xC02); }

/* Atomics used across harts (one AMO instruction each). */
static inline void rv_atomic_or64(uint64_t *p, uint64_t v) { __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t rv_atomic_swap64(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }

/* HLVX.HU: read 16 bits of guest memory as the guest would fetch them
 * (VS-stage and G-stage translation; RISC-V Privileged Spec v1.12, 8.3). */
static inline uint64_t rv_hlvx_hu(uint64_t addr) {
    uint64_t v;
    __asm__ volatile(".insn r 0x73, 0x4, 0x32, %0, %1, x3" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
static inline uint32_t rv_mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void rv_mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
