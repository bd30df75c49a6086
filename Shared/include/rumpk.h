/*
 * rumpk.h - what Rumpk offers the payloads it runs, and its assembly hooks.
 *
 * A payload (docs/design/004-rumpk-payloads.md) is an ELF64 executable linked
 * to run inside the payload window [RUM_PAYLOAD_WINDOW_GPA,
 * + RUM_PAYLOAD_WINDOW_SIZE) of guest RAM. Rumpk enters it as
 *     int64_t entry(const rum_payload_services_t *services)
 * (a0 / x0 / rdi) on a fiber of its own; it ends by returning or by calling
 * services->exit, and either way the code reaches the kernel. The table is
 * the payload's whole view of the kernel: plain C function pointers, so a
 * payload in C or Embedded Swift uses it alike. riscv64 payloads must not
 * change gp or tp (the kernel's global and thread pointers).
 *
 * The second half declares the per-architecture assembly of the guest image
 * (Guest/<arch>/fiber.S and exec.S) and the symbols of its linker script, so
 * the portable kernel can call them; payloads have no use for them.
 */
#ifndef RUMPK_H
#define RUMPK_H

#include <stdint.h>
#include "rumabi.h"

/* ------------------------------------------------------------------------ */
/* Payload ABI                                                               */
/* ------------------------------------------------------------------------ */

#define RUM_PAYLOAD_WINDOW_GPA      (RUM_GUEST_RAM_GPA + 0x100000ull)  /* RAM + 1 MiB */
#define RUM_PAYLOAD_WINDOW_SIZE     0x100000ull                        /* 1 MiB (less if the store reaches into it) */
#define RUM_PAYLOAD_SERVICES_MAGIC  0x53565052u   /* bytes 'R' 'P' 'V' 'S' */
#define RUM_PAYLOAD_NAME_MAX        16

typedef struct rum_payload_services {
    uint32_t magic;                 /* 0x00 RUM_PAYLOAD_SERVICES_MAGIC */
    uint16_t revision;              /* 0x04 RUM_ABI_REVISION */
    uint16_t size;                  /* 0x06 sizeof(rum_payload_services_t) = 96 */
    uint64_t run;                   /* 0x08 1 for the first exec of this payload in this instance, then 2, ... */
    uint64_t arg;                   /* 0x10 CmdPacket.arg of the exec command */
    uint64_t id_lo;                 /* 0x18 the payload's SipHash id (CmdPacket.id), low */
    uint64_t id_hi;                 /* 0x20 high */
    char     name[RUM_PAYLOAD_NAME_MAX]; /* 0x28 NUL-padded payload name */
    /* 0x38 writes len bytes to the guest console; returns bytes written or a negative error */
    int64_t (*write)(const void *buf, uint64_t len);
    /* 0x40 ends the payload with `code` (0 = success); does not return */
    void (*exit)(int64_t code);
    /* 0x48 lets the kernel's other fibers run, then returns */
    void (*yield)(void);
    /* 0x50 sleeps for at least `ticks` of the guest counter */
    void (*sleep)(uint64_t ticks);
    uint64_t timebase_hz;           /* 0x58 ticks per second of the guest counter */
} rum_payload_services_t;           /* 0x60 = 96 */

_Static_assert(sizeof(rum_payload_services_t) == 96, "payload service table is 96 bytes");
RUM_ASSERT_OFF(rum_payload_services_t, run, 0x08);
RUM_ASSERT_OFF(rum_payload_services_t, arg, 0x10);
RUM_ASSERT_OFF(rum_payload_services_t, id_lo, 0x18);
RUM_ASSERT_OFF(rum_payload_services_t, name, 0x28);
RUM_ASSERT_OFF(rum_payload_services_t, write, 0x38);
RUM_ASSERT_OFF(rum_payload_services_t, exit, 0x40);
RUM_ASSERT_OFF(rum_payload_services_t, yield, 0x48);
RUM_ASSERT_OFF(rum_payload_services_t, sleep, 0x50);
RUM_ASSERT_OFF(rum_payload_services_t, timebase_hz, 0x58);

/* Commands of Rumpk's own rings (beside RUM_CMD_SYS_EXEC / RUM_CMD_SYS_EXIT, */
/* docs/design/004-rumpk-payloads.md), in the range 0x480-0x4FF.            */
#define RUMPK_CMD_EXEC_REFUSED      0x480u   /* reply: exec refused, arg = reason code */

/* ------------------------------------------------------------------------ */
/* Guest image internals (defined by Guest/<arch>/*.S, guest.ld, Port.swift) */
/* ------------------------------------------------------------------------ */

/* Saves the callee-saved registers and return address on the current stack,
 * stores the stack pointer in *save_sp, switches to next_sp and resumes what
 * was saved there (by an earlier switch or by rumpk_fiber_prepare). */
void rumpk_fiber_switch(uint64_t *save_sp, uint64_t next_sp);
/* Builds a first frame below stack_top that resumes into rumpk_fiber_entry()
 * (@_cdecl in each port's Port.swift); returns the stack pointer to switch to. */
uint64_t rumpk_fiber_prepare(uint64_t stack_top);
/* Calls a payload: entry(services), on the current (fiber) stack. */
int64_t rumpk_payload_call(uint64_t entry, const rum_payload_services_t *services);
/* Makes stores to [base, base + len) visible to instruction fetch. */
void rumpk_sync_icache(uint64_t base, uint64_t len);

/* Static memory of the image for fiber stacks and rings (guest.ld). */
extern char __rumpk_arena_start[];
extern char __rumpk_arena_end[];
extern char __rumpk_image_end[];
static inline uint64_t rumpk_arena_start(void) { return (uint64_t)(uintptr_t)__rumpk_arena_start; }
static inline uint64_t rumpk_arena_end(void) { return (uint64_t)(uintptr_t)__rumpk_arena_end; }
/* First byte after everything the kernel image uses (code, data, bss, stacks). */
static inline uint64_t rumpk_image_end(void) { return (uint64_t)(uintptr_t)__rumpk_image_end; }

#endif /* RUMPK_H */
