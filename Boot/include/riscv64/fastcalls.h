/*
 * fastcalls.h (riscv64) - the SBI calls answered at the top of the guest trap.
 *
 * These calls touch no state but one CSR and have constant answers, so
 * switch.S (rumkv_guest_trap) answers them with t5 as its only scratch
 * register, before any guest register is saved: no call into Swift, no
 * world switch, no scheduler. Every other ecall and every other trap takes
 * the full path (the Swift fast path, then the exit).
 *
 * RV_FAST_BASE(F): F(fid, a1) for SBI BASE (EID 0x10) functions whose answer
 * is a0 = 0 (SBI_SUCCESS), a1 = the constant. The answers are the ones the
 * decoder gives (Hypervisor/riscv64/Decoders.swift, SBIExtension.baseConstant);
 * a host test (Tests/RISCV64DecoderTests, FastCallTableTests) reads this list
 * and checks each entry. probe_extension (fid 3) depends on a0: not here.
 * The first entry is compared first: keep the null call (get_spec_version) there.
 * TIME set_timer (EID 0x54494D45, fid 0) writes vstimecmp from a0 and
 * answers a0 = a1 = 0.
 */
#ifndef RUMKV_RISCV64_FASTCALLS_H
#define RUMKV_RISCV64_FASTCALLS_H

#define RV_SBI_BASE_EID 0x10
#define RV_SBI_TIME_EID 0x54494D45

#define RV_FAST_BASE(F) \
    F(0, 0x2000000)     /* get_spec_version: SBI 2.0 */ \
    F(1, 0x52554B)      /* get_impl_id: "RUK", Rumkv */ \
    F(2, 0x10000)       /* get_impl_version: 1.0 */ \
    F(4, 0)             /* get_mvendorid */ \
    F(5, 0)             /* get_marchid */ \
    F(6, 0)             /* get_mimpid */

#endif
