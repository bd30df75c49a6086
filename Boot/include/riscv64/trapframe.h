/*
 * trapframe.h (riscv64) - registers saved by the trap vector (vectors.S).
 * The assembly uses the TF_* offsets; Swift reads the struct.
 */
#ifndef RUMKV_RISCV64_TRAPFRAME_H
#define RUMKV_RISCV64_TRAPFRAME_H
#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct rv_trap_frame {
    uint64_t x[32];     /* 0x000 x0..x31 (x0 slot holds the trapped sp) */
    uint64_t sepc;      /* 0x100 */
    uint64_t sstatus;   /* 0x108 */
    uint64_t scause;    /* 0x110 */
    uint64_t stval;     /* 0x118 */
    uint64_t htval;     /* 0x120 (0 when H is absent) */
    uint64_t htinst;    /* 0x128 */
} rv_trap_frame_t;
_Static_assert(sizeof(rv_trap_frame_t) == 0x130, "trap frame size");
#endif
#define TF_SEPC     0x100
#define TF_SSTATUS  0x108
#define TF_SCAUSE   0x110
#define TF_STVAL    0x118
#define TF_SIZE     0x130
#endif
