/*
 * uartbench: what one access to the emulated NS16550 costs its guest.
 *
 * For `rumkv bench` (configs/bench/riscv64-uart.toml: a Rumpk guest given
 * virtual_devices = ["ns16550"]). Under QEMU -icount the retired-instruction
 * counter counts every privilege level, so the delta around one load of LSR
 * (0x10000000 + 5) or one store to THR is the whole round trip: the
 * guest-page fault, the hypervisor's trap fast path (decode, lock, the
 * register model, the console backlog for THR) and the return. Medians of
 * 64, minus the cost of reading the counter. Prints
 *   BENCH uart_poll_instructions=N
 *   BENCH uart_putc_instructions=N
 *   BENCH uart_done
 * Other architectures print a line saying it is riscv64 only.
 */
#include <stdint.h>
#include "rumpk.h"

static void put_str(char *out, uint64_t *k, const char *s) { while (*s) out[(*k)++] = *s++; }
static void put_dec(char *out, uint64_t *k, uint64_t v) {
    char buf[24];
    int i = 0;
    do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i > 0) out[(*k)++] = buf[--i];
}

#if defined(__riscv)
static inline uint64_t instret(void) { uint64_t v; __asm__ volatile("rdinstret %0" : "=r"(v)); return v; }

static uint64_t median(uint64_t *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) { uint64_t t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    return v[n / 2];
}

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    volatile uint8_t *uart = (volatile uint8_t *)0x10000000ul;
    uint64_t samples[64];
    uint64_t a = instret(), b = instret(), bias = b - a;
    for (int i = 0; i < 64; i++) {
        a = instret();
        (void)uart[5];                                  /* LSR */
        b = instret();
        samples[i] = b - a - bias;
    }
    uint64_t poll = median(samples, 64);
    static const char text[] = "uartbench: 64 characters through THR, timed one by one ...........\n";
    for (int i = 0; i < 64; i++) {
        a = instret();
        uart[0] = (uint8_t)text[i];                     /* THR */
        b = instret();
        samples[i] = b - a - bias;
    }
    uart[0] = '\n';
    uint64_t putc = median(samples, 64);
    char out[160];
    uint64_t k = 0;
    put_str(out, &k, "BENCH uart_poll_instructions="); put_dec(out, &k, poll);
    put_str(out, &k, "\nBENCH uart_putc_instructions="); put_dec(out, &k, putc);
    put_str(out, &k, "\nBENCH uart_done\n");
    s->write(out, k);
    return 0;
}
#else
__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    char out[48];
    uint64_t k = 0;
    put_str(out, &k, "uartbench: riscv64 only\n");
    (void)put_dec;
    s->write(out, k);
    return 0;
}
#endif
