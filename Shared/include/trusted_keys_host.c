/*
 * trusted_keys_host.c - an empty trusted-key table for host builds.
 *
 * SwiftPM compiles this into the host-side CRumABI target so that host tests
 * of the core link; it trusts nothing. Bare-metal images never include it:
 * the image builder links a table generated from the build's signing key.
 */
#include "trusted_keys.h"
const unsigned char rum_trusted_keys[RUM_TRUSTED_KEYS_MAX * 32] = { 0 };
const unsigned int rum_trusted_key_count = 0;
