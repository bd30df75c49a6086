/*
 * vectors.S (aarch64) - hypervisor exception vectors.
 *
 * Two tables of 16 entries (Arm ARM, "Exception vectors": current EL with
 * SP_EL0, current EL with SP_ELx, lower EL AArch64, lower EL AArch32; each
 * synchronous, IRQ, FIQ, SError), 0x80 bytes apart, 2 KiB aligned: one for
 * EL2, where Rumkv runs, and one for EL1, used only when the CPU was started
 * without EL2 so that a fault on the refusal path is still reported. Every
 * entry pushes an a64_trap_frame (Boot/include/aarch64/trapframe.h) with all
 * general registers, ELR, SPSR, ESR, FAR and its slot number, calls
 * rumkv_trap(frame) in Swift and, if that returns, restores the (possibly
 * modified) frame and returns with eret. In the EL2 table the lower-EL
 * slots (8-15) are guest exits instead: they push the guest's x0/x1 and go
 * to rumkv_guest_exit (switch.S) with the slot number; the synchronous one
 * (slot 8) first lets rumkv_hvc_fast answer the constant HVCs of
 * fastcalls.h in place.
 */
#include "trapframe.h"
#include "vcpu.h"
#include "fastcalls.h"

.macro VENTRY el, slot
    .balign 0x80
    sub     sp, sp, #TF_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\slot
    b       trap_common_\el
.endm

.macro VGUEST slot
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x0, #\slot
    b       rumkv_guest_exit
.endm

.macro VGUEST_SYNC
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mrs     x1, esr_el2
    lsr     x1, x1, #26             /* EC */
    cmp     x1, #0x16               /* HVC from AArch64 */
    b.eq    rumkv_hvc_fast
    mov     x0, #8
    b       rumkv_guest_exit
.endm

.macro VTABLE el
    .balign 0x800
    .globl  rumkv_vectors_\el
rumkv_vectors_\el:
    VENTRY  \el, 0
    VENTRY  \el, 1
    VENTRY  \el, 2
    VENTRY  \el, 3
    VENTRY  \el, 4
    VENTRY  \el, 5
    VENTRY  \el, 6
    VENTRY  \el, 7
.ifc \el, el2
    VGUEST_SYNC
    .irp slot, 9, 10, 11, 12, 13, 14, 15
    VGUEST  \slot
    .endr
.else
    .irp slot, 8, 9, 10, 11, 12, 13, 14, 15
    VENTRY  \el, \slot
    .endr
.endif
.endm

/* x0 = slot, x0/x1 already saved at the frame's start. */
.macro TRAP_COMMON el
trap_common_\el:
    str     x0, [sp, #TF_VECTOR]
    stp     x2, x3, [sp, #2*8]
    stp     x4, x5, [sp, #4*8]
    stp     x6, x7, [sp, #6*8]
    stp     x8, x9, [sp, #8*8]
    stp     x10, x11, [sp, #10*8]
    stp     x12, x13, [sp, #12*8]
    stp     x14, x15, [sp, #14*8]
    stp     x16, x17, [sp, #16*8]
    stp     x18, x19, [sp, #18*8]
    stp     x20, x21, [sp, #20*8]
    stp     x22, x23, [sp, #22*8]
    stp     x24, x25, [sp, #24*8]
    stp     x26, x27, [sp, #26*8]
    stp     x28, x29, [sp, #28*8]
    add     x0, sp, #TF_SIZE        /* sp before this exception */
    stp     x30, x0, [sp, #30*8]
    mrs     x0, elr_\el
    mrs     x1, spsr_\el
    stp     x0, x1, [sp, #TF_ELR]
    mrs     x0, esr_\el
    mrs     x1, far_\el
    stp     x0, x1, [sp, #TF_ESR]
    mov     x0, sp
    bl      rumkv_trap
    ldp     x0, x1, [sp, #TF_ELR]
    msr     elr_\el, x0
    msr     spsr_\el, x1
    ldp     x2, x3, [sp, #2*8]
    ldp     x4, x5, [sp, #4*8]
    ldp     x6, x7, [sp, #6*8]
    ldp     x8, x9, [sp, #8*8]
    ldp     x10, x11, [sp, #10*8]
    ldp     x12, x13, [sp, #12*8]
    ldp     x14, x15, [sp, #14*8]
    ldp     x16, x17, [sp, #16*8]
    ldp     x18, x19, [sp, #18*8]
    ldp     x20, x21, [sp, #20*8]
    ldp     x22, x23, [sp, #22*8]
    ldp     x24, x25, [sp, #24*8]
    ldp     x26, x27, [sp, #26*8]
    ldp     x28, x29, [sp, #28*8]
    ldr     x30, [sp, #30*8]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #TF_SIZE
    eret
.endm

    .section .text.vectors, "ax"
    VTABLE  el2
    VTABLE  el1
    TRAP_COMMON el2
    TRAP_COMMON el1

/*
 * The HVC fast path. x0 = the guest's function id, x1 free, the guest's
 * x0/x1 pushed at [sp], the vCPU pointer at [sp, #16] (switch.S). Each entry
 * of A64_FAST_CALLS compares the id and, on a match, counts the call in
 * fast_calls (it is a hypercall in `stats`), writes the answer and erets:
 * ELR_EL2 is already past the HVC, and nothing else was touched, so nothing
 * else needs saving. No match: the full exit, as slot 8.
 */
.macro MOV32 reg, value
.if ((\value) >> 32) != 0
    .error "fast-call constants are 32-bit"
.endif
    movz    \reg, #((\value) & 0xFFFF)
.if ((\value) >> 16) != 0
    movk    \reg, #(((\value) >> 16) & 0xFFFF), lsl #16
.endif
.endm

.macro FAST_CALL fid, r0, r1, writes_x1
    MOV32   x1, \fid
    cmp     x0, x1
    b.ne    1f
    ldr     x0, [sp, #16]
    ldr     x1, [x0, #VC_FAST_CALLS]
    add     x1, x1, #1
    str     x1, [x0, #VC_FAST_CALLS]
.if \writes_x1
    add     sp, sp, #16
    MOV32   x1, \r1
.else
    ldp     x0, x1, [sp], #16
.endif
    MOV32   x0, \r0
    eret
1:
.endm

#define A64_FAST_CASE(fid, r0, r1, writes_x1) FAST_CALL fid, r0, r1, writes_x1 ;

    .section .text, "ax"
    .globl  rumkv_hvc_fast
rumkv_hvc_fast:
    A64_FAST_CALLS(A64_FAST_CASE)
    mov     x0, #8
    b       rumkv_guest_exit
