/*
 * fastcalls.h (aarch64) - the HVCs answered in the EL2 vector itself.
 *
 * These calls touch no state and have constant answers, so the lower-EL
 * synchronous vector (vectors.S, rumkv_hvc_fast) answers them with x0/x1 as
 * its only scratch registers: no world switch back to the hypervisor, no EL1
 * context or list-register save, no scheduler. Every other HVC, every SMC
 * and every other exception takes the full exit (switch.S, rumkv_guest_exit).
 *
 * One entry per call: F(function id, x0, x1, writes_x1). The answers are the
 * ones the portable decoder gives (Hypervisor/aarch64/Decoders.swift,
 * SMCCC.decode and SMCCC.registers): a host test
 * (Tests/AArch64DecoderTests, FastCallTableTests) reads this list and checks
 * each entry against them. PSCI/SMCCC answers leave x1 alone (writes_x1 = 0),
 * Rumkv's vendor calls return x0 = RUM_HC_OK and x1 = the value. The first
 * entry is compared first: keep the null call (RUM_HC_VERSION) there.
 */
#ifndef RUMKV_AARCH64_FASTCALLS_H
#define RUMKV_AARCH64_FASTCALLS_H

#define A64_FAST_CALLS(F) \
    F(0xC6000000, 0, 1, 1)      /* RUM_SMCCC_HV_BASE | RUM_HC_VERSION: RUM_HC_OK, RUM_HC_ABI_VERSION */ \
    F(0x84000000, 0x10001, 0, 0) /* PSCI_VERSION: 1.1 */ \
    F(0x80000000, 0x10001, 0, 0) /* SMCCC_VERSION: 1.1 */ \
    F(0x84000006, 2, 0, 0)      /* PSCI MIGRATE_INFO_TYPE: no Trusted OS */

#endif
