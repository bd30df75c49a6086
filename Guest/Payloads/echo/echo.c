/*
 * echo: a payload that reads what a person types at its guest's console.
 *
 * While `console <guest>` is attached, Rumkv queues typed bytes for the
 * guest; this payload reads them with SBI DBCN read (riscv64) or Rumkv's
 * RUM_HC_CONSOLE_READ over HVC (aarch64) or VMCALL (x86_64: rax = number,
 * rdi = buffer, rsi = length, rax = bytes or the error), collects a line and answers it in
 * upper case ("echo: HELLO"), until a line "quit". It shows the input half of
 * the virtual console end to end.
 */
#include <stdint.h>
#include "rumpk.h"

#if defined(__riscv)
static int64_t dbcn_read(void *buf, uint64_t len) {
    register uint64_t a0 __asm__("a0") = len, a1 __asm__("a1") = (uint64_t)(uintptr_t)buf, a2 __asm__("a2") = 0;
    register uint64_t a6 __asm__("a6") = 1, a7 __asm__("a7") = 0x4442434Eull;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    return (int64_t)a0 == 0 ? (int64_t)a1 : (int64_t)a0;     /* bytes read, or the SBI error */
}
#elif defined(__aarch64__)
static int64_t dbcn_read(void *buf, uint64_t len) {
    register uint64_t x0 __asm__("x0") = RUM_SMCCC_HV_BASE | RUM_HC_CONSOLE_READ;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)buf, x2 __asm__("x2") = len;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2) ::
        "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
    return (int64_t)x0 == RUM_HC_OK ? (int64_t)x1 : (int64_t)x0;    /* bytes read, or the error */
}
#elif defined(__x86_64__)
static int64_t dbcn_read(void *buf, uint64_t len) {
    uint64_t rax = RUM_HC_CONSOLE_READ;
    __asm__ volatile("vmcall" : "+a"(rax) : "D"((uint64_t)(uintptr_t)buf), "S"(len), "d"(0ull) : "memory");
    return (int64_t)rax;                                     /* bytes read, or the error */
}
#endif

#if defined(__riscv) || defined(__aarch64__) || defined(__x86_64__)

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    static const char ready[] = "echo: ready, type a line (quit ends)\n";
    s->write(ready, sizeof ready - 1);
    char line[80];
    uint64_t n = 0;
    for (;;) {
        char buf[16];
        int64_t got = dbcn_read(buf, sizeof buf);
        if (got <= 0) { s->sleep(s->timebase_hz / 100); continue; }
        for (int64_t i = 0; i < got; i++) {
            char c = buf[i];
            if (c == '\r' || c == '\n') {
                if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't') {
                    static const char bye[] = "echo: bye\n";
                    s->write(bye, sizeof bye - 1);
                    return 0;
                }
                char out[96] = "echo: ";
                uint64_t k = 6;
                for (uint64_t j = 0; j < n; j++) out[k++] = (line[j] >= 'a' && line[j] <= 'z') ? line[j] - 32 : line[j];
                out[k++] = '\n';
                s->write(out, k);
                n = 0;
            } else if (n < sizeof line) {
                line[n++] = c;
            }
        }
    }
}
#else
__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    static const char msg[] = "echo: console input is read through SBI DBCN, HVC or VMCALL: riscv64, aarch64 and x86_64 only\n";
    s->write(msg, sizeof msg - 1);
    return 0;
}
#endif
