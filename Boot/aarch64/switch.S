/*
 * switch.S (aarch64) - entering a guest at EL1 and coming back.
 *
 * rumkv_vcpu_enter(vcpu) saves the hypervisor's callee-saved registers and
 * sp in the vCPU, pushes the vCPU pointer on the EL2 stack, loads the
 * guest's registers, ELR_EL2 and SPSR_EL2 and erets. SP_EL2 is untouched
 * while the guest runs, so an exception from it (vectors.S, lower-EL slots)
 * finds the vCPU pointer at the top of the stack: rumkv_guest_exit saves the
 * guest's registers and syndrome and returns from rumkv_vcpu_enter. The EL1
 * system registers are loaded and saved in Swift around this (VCPU.swift).
 */
#include "vcpu.h"

    .section .text, "ax"
    .globl rumkv_vcpu_enter
rumkv_vcpu_enter:
    stp     x19, x20, [x0, #VC_HOST + 0*8]
    stp     x21, x22, [x0, #VC_HOST + 2*8]
    stp     x23, x24, [x0, #VC_HOST + 4*8]
    stp     x25, x26, [x0, #VC_HOST + 6*8]
    stp     x27, x28, [x0, #VC_HOST + 8*8]
    stp     x29, x30, [x0, #VC_HOST + 10*8]
    str     x0, [sp, #-16]!         /* the vCPU, for rumkv_guest_exit */
    mov     x1, sp
    str     x1, [x0, #VC_HOST_SP]
    ldp     x1, x2, [x0, #VC_PC]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    ldp     x2, x3, [x0, #2*8]
    ldp     x4, x5, [x0, #4*8]
    ldp     x6, x7, [x0, #6*8]
    ldp     x8, x9, [x0, #8*8]
    ldp     x10, x11, [x0, #10*8]
    ldp     x12, x13, [x0, #12*8]
    ldp     x14, x15, [x0, #14*8]
    ldp     x16, x17, [x0, #16*8]
    ldp     x18, x19, [x0, #18*8]
    ldp     x20, x21, [x0, #20*8]
    ldp     x22, x23, [x0, #22*8]
    ldp     x24, x25, [x0, #24*8]
    ldp     x26, x27, [x0, #26*8]
    ldp     x28, x29, [x0, #28*8]
    ldr     x30, [x0, #30*8]
    ldp     x0, x1, [x0, #0]
    eret

/* From a lower-EL vector: x0 = slot, the guest's x0/x1 pushed on the stack
 * (16 bytes), the vCPU pointer just above them. */
    .globl rumkv_guest_exit
rumkv_guest_exit:
    ldr     x1, [sp, #16]
    str     x0, [x1, #VC_VECTOR]
    stp     x2, x3, [x1, #2*8]
    stp     x4, x5, [x1, #4*8]
    stp     x6, x7, [x1, #6*8]
    stp     x8, x9, [x1, #8*8]
    stp     x10, x11, [x1, #10*8]
    stp     x12, x13, [x1, #12*8]
    stp     x14, x15, [x1, #14*8]
    stp     x16, x17, [x1, #16*8]
    stp     x18, x19, [x1, #18*8]
    stp     x20, x21, [x1, #20*8]
    stp     x22, x23, [x1, #22*8]
    stp     x24, x25, [x1, #24*8]
    stp     x26, x27, [x1, #26*8]
    stp     x28, x29, [x1, #28*8]
    str     x30, [x1, #30*8]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x1, #0]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x1, #VC_PC]
    mrs     x2, esr_el2
    mrs     x3, far_el2
    stp     x2, x3, [x1, #VC_ESR]
    mrs     x2, hpfar_el2
    str     x2, [x1, #VC_HPFAR]
    mov     x0, x1
    ldr     x1, [x0, #VC_HOST_SP]
    add     sp, x1, #16             /* drop the vCPU pointer */
    ldp     x19, x20, [x0, #VC_HOST + 0*8]
    ldp     x21, x22, [x0, #VC_HOST + 2*8]
    ldp     x23, x24, [x0, #VC_HOST + 4*8]
    ldp     x25, x26, [x0, #VC_HOST + 6*8]
    ldp     x27, x28, [x0, #VC_HOST + 8*8]
    ldp     x29, x30, [x0, #VC_HOST + 10*8]
    ret
