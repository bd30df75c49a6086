/*
 * trapframe.h (aarch64) - registers saved by the exception vectors (vectors.S).
 *
 * One frame per exception, built on the stack of the EL that takes it. The
 * assembly uses the TF_* offsets, Swift reads the struct; the static asserts
 * keep the two in step. 0x130 bytes keeps sp 16-byte aligned, as SP
 * alignment checking requires (Arm ARM, SCTLR_ELx.SA).
 */
#ifndef RUMKV_AARCH64_TRAPFRAME_H
#define RUMKV_AARCH64_TRAPFRAME_H
#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct a64_trap_frame {
    uint64_t x[31];     /* 0x000 x0..x30 */
    uint64_t sp;        /* 0x0F8 sp before the exception (same-EL exceptions) */
    uint64_t elr;       /* 0x100 ELR_ELx: preferred return address */
    uint64_t spsr;      /* 0x108 SPSR_ELx: PSTATE at the exception */
    uint64_t esr;       /* 0x110 ESR_ELx: exception syndrome */
    uint64_t far;       /* 0x118 FAR_ELx: faulting address (aborts only) */
    uint64_t vector;    /* 0x120 vector-table slot 0..15 (Arm ARM, "Exception vectors") */
    uint64_t _pad;      /* 0x128 keeps the frame a multiple of 16 bytes */
} a64_trap_frame_t;
_Static_assert(sizeof(a64_trap_frame_t) == 0x130, "trap frame size");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, sp) == 0x0F8, "TF_SP");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, elr) == 0x100, "TF_ELR");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, spsr) == 0x108, "TF_SPSR");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, esr) == 0x110, "TF_ESR");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, far) == 0x118, "TF_FAR");
_Static_assert(__builtin_offsetof(a64_trap_frame_t, vector) == 0x120, "TF_VECTOR");
#endif
#define TF_SP       0x0F8
#define TF_ELR      0x100
#define TF_SPSR     0x108
#define TF_ESR      0x110
#define TF_FAR      0x118
#define TF_VECTOR   0x120
#define TF_SIZE     0x130

/* Vector-table slots (vector offset / 0x80): group * 4 + kind. */
#define TV_SYNC     0
#define TV_IRQ      1
#define TV_FIQ      2
#define TV_SERROR   3
#endif
