/*
 * fpcheck: a payload that checks its guest's FP registers are its own.
 *
 * Rumkv gives each riscv64 vCPU its own f-registers and fcsr (the hart's are
 * restored when another vCPU's were loaded and saved when the guest made
 * them dirty). This payload turns the FPU on (sstatus.FS = Initial, its own
 * VS-level sstatus), fills f0..f31 and fcsr with values derived from its
 * SipHash id (different in every guest), sleeps so that other guests run on
 * the same hart, and reads them back, many times. It prints one line
 * "fpcheck: rounds N mismatches M first F" that the emulator test reads;
 * two guests running it on one hart see M = 0 only if neither ever saw the
 * other's values. Other architectures get a line saying it is riscv64 only.
 */
#include <stdint.h>
#include "rumpk.h"

static void say_hex(char *out, uint64_t *k, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    out[(*k)++] = '0'; out[(*k)++] = 'x';
    for (int i = 60; i >= 0; i -= 4) out[(*k)++] = digits[(v >> i) & 15];
}

static void say_dec(char *out, uint64_t *k, uint64_t v) {
    char buf[24];
    int i = 0;
    do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i > 0) out[(*k)++] = buf[--i];
}

static void say_str(char *out, uint64_t *k, const char *s) { while (*s) out[(*k)++] = *s++; }

#if defined(__riscv)
#define FP_SET(n) __asm__ volatile(".option push\n.option arch, +d\nfmv.d.x f" #n ", %0\n.option pop" :: "r"(base + n))
#define FP_GET(n) __asm__ volatile(".option push\n.option arch, +d\nfmv.x.d %0, f" #n "\n.option pop" : "=r"(got[n]))

static void fill(uint64_t base) {
    FP_SET(0); FP_SET(1); FP_SET(2); FP_SET(3); FP_SET(4); FP_SET(5); FP_SET(6); FP_SET(7);
    FP_SET(8); FP_SET(9); FP_SET(10); FP_SET(11); FP_SET(12); FP_SET(13); FP_SET(14); FP_SET(15);
    FP_SET(16); FP_SET(17); FP_SET(18); FP_SET(19); FP_SET(20); FP_SET(21); FP_SET(22); FP_SET(23);
    FP_SET(24); FP_SET(25); FP_SET(26); FP_SET(27); FP_SET(28); FP_SET(29); FP_SET(30); FP_SET(31);
    __asm__ volatile(".option push\n.option arch, +f\nfscsr %0\n.option pop" :: "r"(base & 0xFF));
}

static uint64_t check(uint64_t base) {
    uint64_t got[32], fcsr, bad = 0;
    FP_GET(0); FP_GET(1); FP_GET(2); FP_GET(3); FP_GET(4); FP_GET(5); FP_GET(6); FP_GET(7);
    FP_GET(8); FP_GET(9); FP_GET(10); FP_GET(11); FP_GET(12); FP_GET(13); FP_GET(14); FP_GET(15);
    FP_GET(16); FP_GET(17); FP_GET(18); FP_GET(19); FP_GET(20); FP_GET(21); FP_GET(22); FP_GET(23);
    FP_GET(24); FP_GET(25); FP_GET(26); FP_GET(27); FP_GET(28); FP_GET(29); FP_GET(30); FP_GET(31);
    __asm__ volatile(".option push\n.option arch, +f\nfrcsr %0\n.option pop" : "=r"(fcsr));
    for (int i = 0; i < 32; i++) bad += got[i] != base + (uint64_t)i;
    return bad + (fcsr != (base & 0xFF));
}

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    __asm__ volatile("csrs sstatus, %0" :: "r"(1ull << 13));        /* FS = Initial: the FPU is on */
    uint64_t seed = s->id_lo & ~0xFFull, mismatches = 0, first = 0;
    const uint64_t rounds = 300;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t base = seed + (r << 8);
        fill(base);
        s->sleep(s->timebase_hz / 2000);                            /* 0.5 ms: the hart's other guest runs */
        uint64_t bad = check(base);
        if (bad && !mismatches) first = r + 1;
        mismatches += bad;
    }
    char out[128];
    uint64_t k = 0;
    say_str(out, &k, "fpcheck: rounds "); say_dec(out, &k, rounds);
    say_str(out, &k, " mismatches "); say_dec(out, &k, mismatches);
    say_str(out, &k, " first "); say_dec(out, &k, first);
    say_str(out, &k, " seed "); say_hex(out, &k, seed);
    out[k++] = '\n';
    s->write(out, k);
    return mismatches ? 1 : 0;
}
#else
__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    char out[64];
    uint64_t k = 0;
    say_str(out, &k, "fpcheck: riscv64 only\n");
    s->write(out, k);
    (void)say_hex; (void)say_dec;
    return 0;
}
#endif
