/* guest.h (riscv64) - symbols and instructions of the Rumpk guest image used from Swift.
 *
 * The guest runs in VS-mode, where the supervisor CSRs it names (sstatus,
 * sie, sip) are the hypervisor's vsstatus/vsie/vsip (RISC-V Privileged Spec
 * v1.12, 8.2.x): bit 1 is the software interrupt (a doorbell), bit 5 the
 * timer, bit 9 the external interrupt (the virtual PLIC). rumpk_events is
 * the word the trap handler posts interrupt events into (Guest/riscv64/entry.S,
 * .bss); the scheduler takes them with one AMO.
 */
#ifndef RUMPK_RISCV64_GUEST_H
#define RUMPK_RISCV64_GUEST_H
#include <stdint.h>
extern char rumpk_trap_vector[];
static inline uint64_t rumpk_trap_vector_address(void) { return (uint64_t)rumpk_trap_vector; }

extern uint64_t rumpk_events;
static inline void rumpk_post_events(uint64_t bits) { __atomic_fetch_or(&rumpk_events, bits, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_take_events(void) { return __atomic_exchange_n(&rumpk_events, 0, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_peek_events(void) { return __atomic_load_n(&rumpk_events, __ATOMIC_SEQ_CST); }

/* sstatus.SIE (bit 1): interrupts taken at all. */
static inline void rv_guest_enable_interrupts(void) { __asm__ volatile("csrsi 0x100, 2" ::: "memory"); }
static inline void rv_guest_disable_interrupts(void) { __asm__ volatile("csrci 0x100, 2" ::: "memory"); }
/* sie: which interrupts are enabled (and wake wfi). */
static inline void rv_guest_sie_set(uint64_t bits) { __asm__ volatile("csrs 0x104, %0" :: "r"(bits) : "memory"); }
static inline void rv_guest_sie_clear(uint64_t bits) { __asm__ volatile("csrc 0x104, %0" :: "r"(bits) : "memory"); }
/* Orders memory and device (I/O) accesses: descriptors before a notify, a used index before its entries. */
static inline void rv_guest_fence_io(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }

/* The attack suite's privileged instructions, one each, as raw words so the
 * test knows the exact encoding the hypervisor must report. A VS-mode guest
 * may execute none of them: H-extension CSRs and instructions raise a
 * virtual-instruction exception (to the hypervisor), M-mode ones an illegal
 * instruction (delegated to the guest itself). */
static inline void rv_attack_csrr_hstatus(void) { __asm__ volatile(".word 0x60002573" ::: "a0", "memory"); }   /* csrr a0, hstatus */
static inline void rv_attack_csrw_hgatp(void) { __asm__ volatile(".word 0x68001073" ::: "memory"); }          /* csrw hgatp, zero */
static inline void rv_attack_hfence_gvma(void) { __asm__ volatile(".word 0x62000073" ::: "memory"); }         /* hfence.gvma */
static inline void rv_attack_hlv_d(void) { __asm__ volatile("li a1, 0\n.word 0x6C05C573" ::: "a0", "a1", "memory"); } /* hlv.d a0, (a1) */
static inline void rv_attack_csrr_htimedelta(void) { __asm__ volatile(".word 0x60502573" ::: "a0", "memory"); } /* csrr a0, htimedelta */
static inline void rv_attack_csrr_mstatus(void) { __asm__ volatile(".word 0x30002573" ::: "a0", "memory"); }  /* csrr a0, mstatus */
static inline void rv_attack_mret(void) { __asm__ volatile(".word 0x30200073" ::: "memory"); }                /* mret */
#endif
