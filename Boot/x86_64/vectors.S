/*
 * vectors.S (x86_64) - the hypervisor's IDT, TSS and exception stubs.
 *
 * x86_install_traps fills a 32-entry IDT with 64-bit interrupt gates for the
 * architectural exceptions (SDM Vol. 3A 6.14.1, table 6-1) and loads a TSS
 * whose IST1 stack serves #DF, so a stack overflow still reaches the handler
 * (SDM Vol. 3A 6.14.5). Vectors past 31 are outside the IDT limit and arrive
 * as #GP with the IDT bit set in the error code. Each stub pushes a zero error
 * code where the CPU pushes none, then its vector; x86_trap_common saves all
 * registers and CR2 into an x86_trap_frame (trapframe.h), calls
 * rumkv_trap(frame) in Swift and, if it returns, restores and iretq's.
 */
#include "trapframe.h"

    .section .text.vectors, "ax"
    .code64

.macro VECTOR n, cpu_pushes_error
    .balign 16
x86_vector_\n:
    .if \cpu_pushes_error == 0
    pushq   $0
    .endif
    pushq   $\n
    jmp     x86_trap_common
.endm

    VECTOR 0, 0
    VECTOR 1, 0
    VECTOR 2, 0
    VECTOR 3, 0
    VECTOR 4, 0
    VECTOR 5, 0
    VECTOR 6, 0
    VECTOR 7, 0
    VECTOR 8, 1
    VECTOR 9, 0
    VECTOR 10, 1
    VECTOR 11, 1
    VECTOR 12, 1
    VECTOR 13, 1
    VECTOR 14, 1
    VECTOR 15, 0
    VECTOR 16, 0
    VECTOR 17, 1
    VECTOR 18, 0
    VECTOR 19, 0
    VECTOR 20, 0
    VECTOR 21, 1
    VECTOR 22, 0
    VECTOR 23, 0
    VECTOR 24, 0
    VECTOR 25, 0
    VECTOR 26, 0
    VECTOR 27, 0
    VECTOR 28, 0
    VECTOR 29, 1
    VECTOR 30, 1
    VECTOR 31, 0

x86_trap_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %cr2, %rax
    pushq   %rax
    movq    %rsp, %rdi                      /* rumkv_trap(frame) */
    movq    %rsp, %rbx                      /* callee-saved: survives the call */
    andq    $-16, %rsp                      /* SysV: 16-byte aligned at the call */
    cld
    call    rumkv_trap
    movq    %rbx, %rsp
    addq    $8, %rsp                        /* cr2 */
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    addq    $16, %rsp                       /* vector, error code */
    iretq

/* Gate i: offset[15:0] | selector 0x08 << 16 | IST << 32 | 0x8E << 40 | offset[31:16] << 48. */
    .globl  x86_install_traps
x86_install_traps:
    leaq    x86_df_stack_top(%rip), %rax    /* TSS.IST1 at offset 0x24 (SDM 3A 7.7) */
    movq    %rax, x86_tss+0x24(%rip)
    movw    $0x68, x86_tss+0x66(%rip)       /* I/O map base past the limit: no bitmap */
    leaq    x86_tss(%rip), %rax             /* 64-bit TSS descriptor (SDM 3A 7.2.3) */
    movq    %rax, %rcx
    andq    $0xFFFFFF, %rcx
    shlq    $16, %rcx
    orq     $0x67, %rcx                     /* limit */
    movq    $0x89, %rdx                     /* present, type 9: available 64-bit TSS */
    shlq    $40, %rdx
    orq     %rdx, %rcx
    movq    %rax, %rdx
    shrq    $24, %rdx
    andq    $0xFF, %rdx
    shlq    $56, %rdx
    orq     %rdx, %rcx
    movq    %rcx, boot_gdt+0x18(%rip)
    shrq    $32, %rax
    movq    %rax, boot_gdt+0x20(%rip)
    movw    $0x18, %ax
    ltr     %ax

    leaq    x86_vector_table(%rip), %rsi
    leaq    x86_idt(%rip), %rdi
    xorl    %ecx, %ecx
1:  movq    (%rsi,%rcx,8), %rax             /* stub address */
    movq    %rax, %rdx
    andq    $0xFFFF, %rdx
    orq     $(0x08 << 16), %rdx
    movq    $0x8E, %r8                      /* present, DPL 0, 64-bit interrupt gate */
    shlq    $40, %r8
    orq     %r8, %rdx
    movq    %rax, %r8
    shrq    $16, %r8
    andq    $0xFFFF, %r8
    shlq    $48, %r8
    orq     %r8, %rdx
    cmpl    $8, %ecx                        /* #DF runs on IST1 */
    jne     2f
    movq    $1, %r8
    shlq    $32, %r8
    orq     %r8, %rdx
2:  movq    %rcx, %r8
    shlq    $4, %r8
    movq    %rdx, (%rdi,%r8)
    shrq    $32, %rax
    movq    %rax, 8(%rdi,%r8)
    incl    %ecx
    cmpl    $32, %ecx
    jb      1b
    lidt    x86_idt_ptr(%rip)
    ret

    .section .rodata.vectors, "a"
    .balign 8
x86_vector_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad   x86_vector_\n
    .endr

    .section .data.vectors, "aw"
    .balign 16
    .globl  x86_idt_ptr
x86_idt_ptr:
    .short  32 * 16 - 1
    .quad   x86_idt

    .section .bss.vectors, "aw", @nobits
    .balign 4096
x86_idt:    .skip 32 * 16
    .balign 128
x86_tss:    .skip 0x68
    .balign 16
x86_df_stack: .skip 8192
x86_df_stack_top:
