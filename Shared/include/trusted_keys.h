/*
 * trusted_keys.h - the Ed25519 public keys an image trusts.
 *
 * The table is generated at build time from the build's signing key
 * (tools/RumkvBuild/Keys.swift) and linked into the hypervisor and guest
 * images; nothing loaded at run time can add to it.
 */
#ifndef RUM_TRUSTED_KEYS_H
#define RUM_TRUSTED_KEYS_H
#define RUM_TRUSTED_KEYS_MAX 4
extern const unsigned char rum_trusted_keys[RUM_TRUSTED_KEYS_MAX * 32];
extern const unsigned int rum_trusted_key_count;
static inline const unsigned char *rum_trusted_keys_base(void) { return rum_trusted_keys; }
static inline unsigned int rum_trusted_keys_count(void) { return rum_trusted_key_count; }
#endif
