/*
 * exec.S (x86_64 guest) - entering a payload and making its code fetchable.
 *
 * rumpk_payload_call(entry, services) tail-calls entry(services): the
 * payload's return goes straight back to the caller. x86 keeps instruction
 * fetch coherent with stores on the same CPU once a branch is taken (SDM
 * Vol. 3A 8.1.3, "Handling Self- and Cross-Modifying Code"), so
 * rumpk_sync_icache only has to exist. Contract: Shared/include/rumpk.h.
 */
    .section .text.exec, "ax"
    .code64

    .globl rumpk_payload_call
rumpk_payload_call:
    movq    %rdi, %rax
    movq    %rsi, %rdi
    jmp     *%rax

    .globl rumpk_sync_icache
rumpk_sync_icache:
    ret
