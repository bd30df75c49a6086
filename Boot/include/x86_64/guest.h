/*
 * guest.h (x86_64) - symbols of the Rumpk guest image used from Swift.
 *
 * Guest/x86_64/entry.S provides a 48-entry IDT in .bss, one stub per
 * exception vector and one per injected interrupt vector (0x20-0x22);
 * Port.swift fills the gates and loads the IDT.
 */
#ifndef RUMPK_X86_64_GUEST_H
#define RUMPK_X86_64_GUEST_H
#include <stdint.h>
extern uint64_t rumpk_idt[96];
extern const uint64_t rumpk_trap_stubs[32];
extern const uint64_t rumpk_interrupt_stubs[3];
/* Vectors 0x20 + i for i < 3 (timer, doorbell, IPI). */
static inline uint64_t rumpk_interrupt_stub(unsigned i) { return rumpk_interrupt_stubs[i < 3 ? i : 0]; }
static inline uint64_t *_Nonnull rumpk_idt_address(void) { return rumpk_idt; }
static inline uint64_t rumpk_trap_stub(unsigned vector) { return rumpk_trap_stubs[vector & 31]; }

/* Event bits the interrupt handler posts and the scheduler takes (Guest/Kernel/Interrupts.swift). */
extern uint64_t rumpk_events;
static inline void rumpk_post_events(uint64_t bits) { __atomic_fetch_or(&rumpk_events, bits, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_take_events(void) { return __atomic_exchange_n(&rumpk_events, 0, __ATOMIC_SEQ_CST); }
static inline uint64_t rumpk_peek_events(void) { return __atomic_load_n(&rumpk_events, __ATOMIC_SEQ_CST); }
#endif
