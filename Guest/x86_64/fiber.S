/*
 * fiber.S (x86_64 guest) - switching between Rumpk fibers.
 *
 * A fiber's saved context lives on its own stack: rbp, rbx and r12-r15 (the
 * System V AMD64 callee-saved registers; the image uses no SSE) pushed
 * above the return address. rumpk_fiber_switch pushes them, stores rsp
 * through rdi, loads rsi and pops the frame found there. rumpk_fiber_prepare
 * builds a first 56-byte frame whose return address is rumpk_fiber_start,
 * placed so that rsp is 16-byte aligned at rumpk_fiber_start's call (psABI
 * 3.2.2). Contract: Shared/include/rumpk.h.
 */
    .section .text.fiber, "ax"
    .code64

    .globl rumpk_fiber_switch
rumpk_fiber_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

/* rdi = stack top (16-byte aligned) -> rax = the rsp to switch to. */
    .globl rumpk_fiber_prepare
rumpk_fiber_prepare:
    leaq    -72(%rdi), %rax
    movq    $0, 0(%rax)
    movq    $0, 8(%rax)
    movq    $0, 16(%rax)
    movq    $0, 24(%rax)
    movq    $0, 32(%rax)
    movq    $0, 40(%rax)
    leaq    rumpk_fiber_start(%rip), %rcx
    movq    %rcx, 48(%rax)
    ret

rumpk_fiber_start:
    xorl    %ebp, %ebp
    call    rumpk_fiber_entry
1:  hlt
    jmp     1b
