/*
 * shims.h (x86_64) - one static inline function per privileged instruction.
 *
 * Swift has no inline assembly; these are the only places the hypervisor
 * touches ports, MSRs, control registers or VMX instructions directly.
 * Nothing here has logic beyond the instruction itself (and, for VMX
 * instructions, reading the outcome from RFLAGS: SDM Vol. 3C 31.2
 * "Conventions": CF = 1 is VMfailInvalid, ZF = 1 is VMfailValid).
 */
#ifndef RUMKV_X86_64_SHIMS_H
#define RUMKV_X86_64_SHIMS_H
#include <stdint.h>
#include "trapframe.h"

/* Port I/O (SDM Vol. 1 ch. 19). */
static inline uint8_t x86_inb(uint16_t port) {
    uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v;
}
static inline void x86_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void x86_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }

/* 64-bit loads and stores that the compiler may not elide (MMIO, probes). */
static inline uint64_t x86_mmio_read64(uint64_t addr) { return *(volatile uint64_t *)addr; }
static inline void x86_mmio_write64(uint64_t addr, uint64_t v) { *(volatile uint64_t *)addr = v; }

/* Model-specific registers. */
static inline uint64_t x86_rdmsr(uint32_t msr) {
    uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void x86_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* CPUID leaf/subleaf. */
typedef struct x86_cpuid_result { uint32_t eax, ebx, ecx, edx; } x86_cpuid_result_t;
static inline x86_cpuid_result_t x86_cpuid(uint32_t leaf, uint32_t subleaf) {
    x86_cpuid_result_t r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

/* Control registers. */
static inline uint64_t x86_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void x86_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline uint64_t x86_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t x86_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void x86_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline uint64_t x86_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void x86_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

/* VMX (SDM Vol. 3C 31.3). Return 0 on success, 1 VMfailInvalid, 2 VMfailValid. */
static inline int x86_vmxon(uint64_t region) {
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(region) : "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}
static inline int x86_vmxoff(void) {
    uint8_t cf, zf;
    __asm__ volatile("vmxoff; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) :: "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}

/* VMCALL from a guest: rax = function, rdi/rsi/rdx = arguments, rax = result. */
static inline uint64_t x86_vmcall(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2) {
    __asm__ volatile("vmcall" : "+a"(fn) : "D"(a0), "S"(a1), "d"(a2) : "memory");
    return fn;
}

/* Descriptor tables and segments (SDM Vol. 3A 2.4). */
static inline void x86_lidt(uint64_t base, uint16_t limit) {
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = { limit, base };
    __asm__ volatile("lidt %0" :: "m"(d) : "memory");
}
static inline uint16_t x86_read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }

static inline uint64_t x86_rdtsc(void) {
    uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo;
}
static inline void x86_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void x86_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void x86_sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* STI's one-instruction shadow makes the pair atomic: an interrupt pending
 * before it is taken only once HLT waits (SDM Vol. 3A 6.8.3). */
static inline void x86_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void x86_pause(void) { __asm__ volatile("pause"); }
static inline void x86_int3(void) { __asm__ volatile("int3" ::: "memory"); }
static inline void x86_ud2(void) { __asm__ volatile("ud2" ::: "memory"); }
/* Bochs magic breakpoint (`magic_break: enabled=1`): a no-op elsewhere. */
static inline void x86_bochs_break(void) { __asm__ volatile("xchg %%bx, %%bx" ::: "memory"); }

/* VMCS instructions (SDM Vol. 3C 31.3); same return convention as x86_vmxon. */
static inline int x86_vmclear(uint64_t vmcs) {
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(vmcs) : "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}
static inline int x86_vmptrld(uint64_t vmcs) {
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(vmcs) : "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}
static inline uint64_t x86_vmread(uint64_t field) {
    uint64_t v; __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc"); return v;
}
static inline int x86_vmwrite(uint64_t field, uint64_t value) {
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %3, %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "r"(field), "rm"(value) : "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}
/* VMLAUNCH with no VMCS (a hostile guest's attempt; the hypervisor uses switch.S). */
static inline void x86_vmlaunch_attempt(void) { __asm__ volatile("vmlaunch" ::: "cc", "memory"); }
/* INVEPT type 2 (all contexts): descriptor {eptp, 0}. */
static inline void x86_invept_all(void) {
    struct { uint64_t eptp, zero; } d = { 0, 0 };
    uint64_t type = 2;
    __asm__ volatile("invept %0, %1" :: "m"(d), "r"(type) : "cc", "memory");
}

/* Descriptor-table and task registers, for the VMCS host state. */
static inline uint64_t x86_sgdt_base(void) {
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d; __asm__ volatile("sgdt %0" : "=m"(d)); return d.base;
}
static inline uint64_t x86_sidt_base(void) {
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d; __asm__ volatile("sidt %0" : "=m"(d)); return d.base;
}
static inline uint16_t x86_str(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_es(void) { uint16_t v; __asm__ volatile("mov %%es, %0" : "=r"(v)); return v; }
static inline void x86_outb_port(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }

/* Atomics on a vCPU's pending-interrupt word (any CPU may raise). */
static inline void x86_atomic_or64(uint64_t *p, uint64_t v) { __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t x86_atomic_swap64(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline void x86_atomic_and64(uint64_t *p, uint64_t v) { __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }

/* 32-bit device register access. */
static inline uint32_t x86_mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void x86_mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

/* Shared VMX pages in .bss (entry.S): I/O bitmaps A and B, the MSR bitmap, guest boot tables. */
extern char x86_vmx_io_bitmaps[], x86_vmx_msr_bitmap[], x86_guest_boot_pages[];
static inline uint64_t x86_io_bitmaps_address(void) { return (uint64_t)x86_vmx_io_bitmaps; }
static inline uint64_t x86_msr_bitmap_address(void) { return (uint64_t)x86_vmx_msr_bitmap; }
static inline uint64_t x86_guest_boot_pages_address(void) { return (uint64_t)x86_guest_boot_pages; }

/* Linker-script symbols bounding the hypervisor image; the VMXON region (entry.S). */
extern char __image_start[], __image_end[], x86_vmxon_region[];
static inline uint64_t x86_image_start(void) { return (uint64_t)__image_start; }
static inline uint64_t x86_image_end(void) { return (uint64_t)__image_end; }
static inline uint64_t x86_vmxon_region_address(void) { return (uint64_t)x86_vmxon_region; }
/* Secondary-CPU start (entry.S): the real-mode trampoline's bytes, and the
 * two words the BSP hands to the AP it starts. */
extern char x86_ap_trampoline[], x86_ap_trampoline_end[];
extern uint64_t x86_ap_stack_top, x86_ap_index;
static inline uint64_t x86_ap_trampoline_address(void) { return (uint64_t)x86_ap_trampoline; }
static inline uint64_t x86_ap_trampoline_size(void) { return (uint64_t)(x86_ap_trampoline_end - x86_ap_trampoline); }
static inline void x86_set_ap_start(uint64_t stack, uint64_t index) {
    x86_ap_stack_top = stack; x86_ap_index = index; __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
/* A word another CPU writes (the AP's start status). */
static inline uint64_t x86_atomic_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void x86_atomic_store64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
#endif
