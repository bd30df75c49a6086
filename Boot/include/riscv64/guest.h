/* guest.h (riscv64) - symbols of the Rumpk guest image used from Swift. */
#ifndef RUMPK_RISCV64_GUEST_H
#define RUMPK_RISCV64_GUEST_H
#include <stdint.h>
extern char rumpk_trap_vector[];
static inline uint64_t rumpk_trap_vector_address(void) { return (uint64_t)rumpk_trap_vector; }
#endif
