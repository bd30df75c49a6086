/*
 * trapframe.h (x86_64) - registers saved by the exception stubs (vectors.S).
 *
 * The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error
 * code (SDM Vol. 3A 6.14.2 "64-Bit Mode Stack Frame"); the stub pushes a zero
 * error code for the others, then the vector number, the fifteen general
 * registers and CR2. The assembly uses the TF_* offsets; Swift reads the struct.
 */
#ifndef RUMKV_X86_64_TRAPFRAME_H
#define RUMKV_X86_64_TRAPFRAME_H

#define TF_CR2      0x00
#define TF_RAX      0x78
#define TF_VECTOR   0x80
#define TF_ERROR    0x88
#define TF_RIP      0x90
#define TF_SIZE     0xB8

#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct x86_trap_frame {
    uint64_t cr2;       /* 0x00 page-fault linear address, read on entry */
    uint64_t r15;       /* 0x08 */
    uint64_t r14;       /* 0x10 */
    uint64_t r13;       /* 0x18 */
    uint64_t r12;       /* 0x20 */
    uint64_t r11;       /* 0x28 */
    uint64_t r10;       /* 0x30 */
    uint64_t r9;        /* 0x38 */
    uint64_t r8;        /* 0x40 */
    uint64_t rbp;       /* 0x48 */
    uint64_t rdi;       /* 0x50 */
    uint64_t rsi;       /* 0x58 */
    uint64_t rdx;       /* 0x60 */
    uint64_t rcx;       /* 0x68 */
    uint64_t rbx;       /* 0x70 */
    uint64_t rax;       /* 0x78 */
    uint64_t vector;    /* 0x80 pushed by the stub */
    uint64_t error;     /* 0x88 pushed by the CPU, or 0 by the stub */
    uint64_t rip;       /* 0x90 pushed by the CPU from here on */
    uint64_t cs;        /* 0x98 */
    uint64_t rflags;    /* 0xA0 */
    uint64_t rsp;       /* 0xA8 */
    uint64_t ss;        /* 0xB0 */
} x86_trap_frame_t;     /* 0xB8 */

_Static_assert(sizeof(x86_trap_frame_t) == TF_SIZE, "trap frame size");
_Static_assert(__builtin_offsetof(x86_trap_frame_t, cr2) == TF_CR2, "cr2 offset");
_Static_assert(__builtin_offsetof(x86_trap_frame_t, rax) == TF_RAX, "rax offset");
_Static_assert(__builtin_offsetof(x86_trap_frame_t, vector) == TF_VECTOR, "vector offset");
_Static_assert(__builtin_offsetof(x86_trap_frame_t, error) == TF_ERROR, "error offset");
_Static_assert(__builtin_offsetof(x86_trap_frame_t, rip) == TF_RIP, "rip offset");
#endif
#endif
