/*
 * vcpu.h (x86_64) - a vCPU's state outside its VMCS, shared with switch.S.
 *
 * The general registers VMX does not keep in the VMCS (all but rsp), the
 * guest rip/rsp/rflags mirrored around each entry, what the last exit left
 * in the VMCS (read once into these fields), and the port's bookkeeping.
 * The assembly uses the V_* offsets; Swift uses the struct.
 */
#ifndef RUMKV_X86_64_VCPU_H
#define RUMKV_X86_64_VCPU_H

#define V_RAX       0x00
#define V_RBX       0x08
#define V_RCX       0x10
#define V_RDX       0x18
#define V_RSI       0x20
#define V_RDI       0x28
#define V_RBP       0x30
#define V_R8        0x38
#define V_R9        0x40
#define V_R10       0x48
#define V_R11       0x50
#define V_R12       0x58
#define V_R13       0x60
#define V_R14       0x68
#define V_R15       0x70
#define V_LAUNCHED  0x78

#ifndef __ASSEMBLER__
#include <stdint.h>
typedef struct x86_vcpu {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;         /* 0x00 */
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;      /* 0x38 */
    uint64_t launched;      /* 0x78 VMLAUNCH done since the last VMCLEAR */
    uint64_t vmcs;          /* host-physical VMCS page */
    uint64_t rip, rsp, rflags;
    uint64_t cr3;           /* guest CR3, kept across VMCLEAR by the VMCS itself */
    uint32_t exit_reason;
    uint32_t instruction_length;
    uint64_t qualification;
    uint64_t guest_physical;
    uint64_t index;         /* vCPU number within its guest */
    uint64_t needs_setup;   /* vcpuReset ran: the VMCS is rewritten at the next entry */
    uint64_t inject;        /* pending virtual interrupts (atomic, any CPU) */
    uint64_t pending_exception; /* bit 31 valid | error-code flag bit 11 | vector: injected at the next entry */
    uint64_t call_site;     /* 0 VMCALL, 1 OUT to COM1, 2 IN from COM1: how a call result is written back */
    uint64_t fast_calls;    /* exits answered in the port's run loop */
    uint64_t fs_base, gs_base;
    uint32_t com1_state[2]; /* the VirtualCOM1 registers */
    uint64_t timer_deadline; /* RUM_HC_SET_TIMER: TSC value of the guest's one-shot timer, 0 if disarmed */
    uint64_t injected;      /* virtual interrupts injected (all vectors) */
    uint64_t clear_shadow;  /* HLT was skipped: drop its STI shadow from the interruptibility state at entry */
} x86_vcpu_t;

_Static_assert(__builtin_offsetof(x86_vcpu_t, rax) == V_RAX, "rax offset");
_Static_assert(__builtin_offsetof(x86_vcpu_t, rdi) == V_RDI, "rdi offset");
_Static_assert(__builtin_offsetof(x86_vcpu_t, r15) == V_R15, "r15 offset");
_Static_assert(__builtin_offsetof(x86_vcpu_t, launched) == V_LAUNCHED, "launched offset");

/* Enters the guest (VMLAUNCH if !launched, else VMRESUME). 0 after a VM exit,
 * 1 VMfailInvalid, 2 VMfailValid (read the VM-instruction error). */
int rumkv_vmx_enter(x86_vcpu_t *v);
#endif
#endif
