/*
 * switch.S (x86_64) - the world switch into and out of VMX non-root operation.
 *
 * rumkv_vmx_enter(vcpu) saves the hypervisor's callee-saved registers and the
 * vCPU pointer on its stack, points HOST_RSP there and HOST_RIP at
 * rumkv_vmx_exit, loads the guest's general registers from the vCPU and
 * executes VMLAUNCH (first entry after a VMCLEAR) or VMRESUME. The VMCS must
 * be current. A VM exit arrives at rumkv_vmx_exit with the stack as we left
 * it and the guest's registers live: they are stored into the vCPU and the
 * call returns 0. A failed entry falls through and returns 1 (VMfailInvalid)
 * or 2 (VMfailValid). SDM Vol. 3C 26 "VM Entries", 27.5 host state.
 */
#include "vcpu.h"
#define VMCS_HOST_RSP   0x6C14
#define VMCS_HOST_RIP   0x6C16

    .section .text.vectors, "ax"
    .code64
    .globl  rumkv_vmx_enter
rumkv_vmx_enter:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    pushq   %rdi                            /* the vCPU, at HOST_RSP */
    movq    $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    leaq    rumkv_vmx_exit(%rip), %rdx
    movq    $VMCS_HOST_RIP, %rax
    vmwrite %rdx, %rax
    cmpq    $0, V_LAUNCHED(%rdi)            /* flags survive the movs below */
    movq    V_RAX(%rdi), %rax
    movq    V_RBX(%rdi), %rbx
    movq    V_RCX(%rdi), %rcx
    movq    V_RDX(%rdi), %rdx
    movq    V_RSI(%rdi), %rsi
    movq    V_RBP(%rdi), %rbp
    movq    V_R8(%rdi), %r8
    movq    V_R9(%rdi), %r9
    movq    V_R10(%rdi), %r10
    movq    V_R11(%rdi), %r11
    movq    V_R12(%rdi), %r12
    movq    V_R13(%rdi), %r13
    movq    V_R14(%rdi), %r14
    movq    V_R15(%rdi), %r15
    movq    V_RDI(%rdi), %rdi
    je      1f
    vmresume
    jmp     2f
1:  vmlaunch
2:  movl    $2, %eax                        /* VMfailValid unless CF says VMfailInvalid */
    jnc     3f
    movl    $1, %eax
3:  popq    %rdi
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

    .globl  rumkv_vmx_exit
rumkv_vmx_exit:
    pushq   %rdi                            /* the guest's rdi */
    movq    8(%rsp), %rdi                   /* the vCPU */
    movq    %rax, V_RAX(%rdi)
    movq    %rbx, V_RBX(%rdi)
    movq    %rcx, V_RCX(%rdi)
    movq    %rdx, V_RDX(%rdi)
    movq    %rsi, V_RSI(%rdi)
    movq    %rbp, V_RBP(%rdi)
    movq    %r8, V_R8(%rdi)
    movq    %r9, V_R9(%rdi)
    movq    %r10, V_R10(%rdi)
    movq    %r11, V_R11(%rdi)
    movq    %r12, V_R12(%rdi)
    movq    %r13, V_R13(%rdi)
    movq    %r14, V_R14(%rdi)
    movq    %r15, V_R15(%rdi)
    popq    %rax
    movq    %rax, V_RDI(%rdi)
    movq    $1, V_LAUNCHED(%rdi)
    xorl    %eax, %eax
    jmp     3b
