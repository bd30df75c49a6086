/*
 * entry.S (x86_64 guest) - Rumpk's first instructions and its exception stubs.
 *
 * Entered in 64-bit mode at RUM_GUEST_RAM_GPA, identity-mapped, interrupts
 * masked, with rdi = vCPU id and rsi = the SysTable's guest-physical address
 * (the hand-off a0/a1 carry on riscv64). Sets up the stack, zeroes .bss and
 * calls rumpk_main(rdi, rsi). Each exception stub pushes a zero error code
 * where the CPU pushes none, then its vector, and calls
 * rumpk_trap(vector, error code, rip, cr2) on the boot stack: every guest
 * trap is fatal. Port.swift builds the IDT from rumpk_trap_stubs and
 * rumpk_interrupt_stubs (vectors 0x20-0x22, below).
 */
    .section .text.entry, "ax"
    .code64
    .globl _start
_start:
    cli
    cld
    leaq    __stack_top(%rip), %rsp
    movq    %rdi, %r12
    movq    %rsi, %r13
    leaq    __bss_start(%rip), %rdi
    leaq    __bss_end(%rip), %rcx
    subq    %rdi, %rcx
    shrq    $3, %rcx
    xorl    %eax, %eax
    rep stosq
    movq    %r12, %rdi
    movq    %r13, %rsi
    xorl    %ebp, %ebp
    call    rumpk_main
1:  hlt
    jmp     1b

.macro STUB n, cpu_pushes_error
    .balign 16
rumpk_stub_\n:
    .if \cpu_pushes_error == 0
    pushq   $0
    .endif
    pushq   $\n
    jmp     rumpk_trap_common
.endm

    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    STUB \n, 0
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    STUB \n, 1
    .endr

rumpk_trap_common:
    popq    %rdi                            /* vector */
    popq    %rsi                            /* error code */
    movq    (%rsp), %rdx                    /* rip */
    movq    %cr2, %rcx
    leaq    __stack_top(%rip), %rsp
    call    rumpk_trap
2:  hlt
    jmp     2b

/*
 * Interrupt vectors 0x20-0x22, injected by Rumkv (rumabi.h RUM_X86_VECTOR_*:
 * timer, doorbell, IPI). The CPU aligned rsp to 16 before pushing its 5-word
 * frame; 9 saved caller-saved registers keep the call 16-byte aligned.
 * rumpk_interrupt(vector) only posts events; iretq restores IF.
 */
.macro ISTUB n
    .balign 16
rumpk_istub_\n:
    pushq   %rdi
    movl    $\n, %edi
    jmp     rumpk_interrupt_common
.endm
    ISTUB 32
    ISTUB 33
    ISTUB 34

rumpk_interrupt_common:
    pushq   %rax
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    cld
    call    rumpk_interrupt
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rax
    popq    %rdi
    iretq

    .section .rodata.entry, "a"
    .balign 8
    .globl  rumpk_interrupt_stubs
rumpk_interrupt_stubs:
    .quad   rumpk_istub_32, rumpk_istub_33, rumpk_istub_34
    .globl  rumpk_trap_stubs
rumpk_trap_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad   rumpk_stub_\n
    .endr

    .section .bss.rumpk_events, "aw", @nobits
    .balign 8
    .globl rumpk_events
rumpk_events:
    .skip   8

    .section .bss.idt, "aw", @nobits
    .balign 16
    .globl  rumpk_idt
rumpk_idt:
    .skip   48 * 16
