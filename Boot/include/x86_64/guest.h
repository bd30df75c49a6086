/*
 * guest.h (x86_64) - symbols of the Rumpk guest image used from Swift.
 *
 * Guest/x86_64/entry.S provides a 32-entry IDT in .bss and one stub per
 * exception vector; Port.swift fills the gates and loads the IDT.
 */
#ifndef RUMPK_X86_64_GUEST_H
#define RUMPK_X86_64_GUEST_H
#include <stdint.h>
extern uint64_t rumpk_idt[64];
extern const uint64_t rumpk_trap_stubs[32];
static inline uint64_t *_Nonnull rumpk_idt_address(void) { return rumpk_idt; }
static inline uint64_t rumpk_trap_stub(unsigned vector) { return rumpk_trap_stubs[vector & 31]; }
#endif
