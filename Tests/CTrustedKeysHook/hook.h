/*
 * hook.h - writable views of the trusted-key table, for host tests only.
 *
 * The host build links Shared/include/trusted_keys_host.c, which trusts no
 * key, so no image verifies. The core tests install their own test key into
 * that table (FakeGuestHost.installTestKey) through these two addresses;
 * nothing outside the test binary uses them.
 */
#ifndef RUM_TRUSTED_KEYS_HOOK_H
#define RUM_TRUSTED_KEYS_HOOK_H
extern const unsigned char rum_trusted_keys[];
extern const unsigned int rum_trusted_key_count;
static inline unsigned char *rum_test_trusted_keys(void) { return (unsigned char *)rum_trusted_keys; }
static inline unsigned int *rum_test_trusted_key_count(void) { return (unsigned int *)&rum_trusted_key_count; }
#endif
