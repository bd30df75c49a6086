/*
 * smp: a payload that drives a second vCPU of its guest through SBI.
 *
 * It exercises the hypervisor's multi-vCPU support from inside a guest:
 * HSM hart_start brings vCPU 1 up at an entry in this payload with its own
 * stack; vCPU 1 reports, waits in wfi until vCPU 0 sends it an IPI (SBI IPI
 * extension), acknowledges, and stops itself with HSM hart_stop; vCPU 0
 * watches hart_get_status go back to STOPPED and checks the HSM errors for a
 * vCPU that does not exist and for starting one that already runs. Every step
 * prints one line "smp: ..." that the emulator test reads. On aarch64 the
 * same steps use PSCI over HVC (CPU_ON, AFFINITY_INFO, CPU_OFF) and an SGI
 * written to ICC_SGI1R_EL1, which vCPU 1 polls for through its virtual CPU
 * interface (ICC_HPPIR1/IAR1/EOIR1) with interrupts masked in PSTATE. On
 * x86_64 they are Rumkv's VMCALLs RUM_HC_VCPU_START/STOP/STATUS and
 * RUM_HC_SEND_IPI; vCPU 1 loads its own IDT with a gate for the IPI vector
 * (0x22) and waits in `sti; hlt`.
 */
#include <stdint.h>
#include "rumpk.h"

typedef int64_t (*write_fn)(const void *, uint64_t);

/* Lines are assembled here and written with one call, so the other vCPU's
 * output can come between lines but never inside one. */
static char line[128];
static uint64_t line_len;

static void say(write_fn w, const char *s) {
    for (uint64_t n = 0; s[n] && line_len < sizeof line; n++) line[line_len++] = s[n];
    if (line_len > 0 && (line[line_len - 1] == '\n' || line_len == sizeof line)) {
        w(line, line_len);
        line_len = 0;
    }
}

static void say_num(write_fn w, int64_t v) {
    char buf[24];
    int i = 23, neg = v < 0;
    uint64_t u = neg ? (uint64_t)(-v) : (uint64_t)v;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) buf[--i] = '-';
    say(w, buf + i);
}

#if defined(__riscv)
struct sbiret { int64_t error; int64_t value; };

static struct sbiret sbi(uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
    register uint64_t r0 __asm__("a0") = a0, r1 __asm__("a1") = a1, r2 __asm__("a2") = a2;
    register uint64_t r6 __asm__("a6") = fid, r7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
    struct sbiret r = { (int64_t)r0, (int64_t)r1 };
    return r;
}

#define SBI_HSM   0x48534Dull
#define SBI_IPI   0x735049ull
#define SBI_DBCN  0x4442434Eull

static uint8_t stack1[8192] __attribute__((aligned(16)));
static volatile uint64_t reported_hart, got_ipi;

static void dbcn(const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    sbi(SBI_DBCN, 0, n, (uint64_t)(uintptr_t)s, 0);
}

void smp_secondary_main(uint64_t hartid, uint64_t opaque);

/* vCPU 1's first instruction: a1 = opaque = the top of its stack. */
__attribute__((naked)) void smp_secondary(void) {
    __asm__ volatile("mv sp, a1\n j smp_secondary_main");
}

void smp_secondary_main(uint64_t hartid, uint64_t opaque) {
    (void)opaque;
    dbcn("smp: vcpu 1 running\n");
    reported_hart = hartid + 1;
    __asm__ volatile("csrs sie, %0" :: "r"(1ull << 1));        /* SSIE: wake from wfi on an IPI */
    for (;;) {
        uint64_t sip;
        __asm__ volatile("csrr %0, sip" : "=r"(sip));
        if (sip & 2) break;
        __asm__ volatile("wfi");
    }
    __asm__ volatile("csrc sip, %0" :: "r"(2ull));
    got_ipi = 1;
    dbcn("smp: vcpu 1 got the IPI, stopping\n");
    sbi(SBI_HSM, 1, 0, 0, 0);                                    /* hart_stop: does not return */
    for (;;) __asm__ volatile("wfi");
}

static int wait_for(volatile uint64_t *flag, const rum_payload_services_t *s) {
    for (int i = 0; i < 2000 && !*flag; i++) s->sleep(s->timebase_hz / 1000);
    return *flag != 0;
}

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    write_fn w = s->write;
    struct sbiret r = sbi(SBI_HSM, 2, 1, 0, 0);
    say(w, "smp: vcpu 1 status before start "); say_num(w, r.value); say(w, "\n");
    r = sbi(SBI_HSM, 0, 1, (uint64_t)(uintptr_t)smp_secondary, (uint64_t)(uintptr_t)(stack1 + sizeof stack1));
    say(w, "smp: hart_start(1) error "); say_num(w, r.error); say(w, "\n");
    if (!wait_for(&reported_hart, s)) { say(w, "smp: FAILED vcpu 1 never ran\n"); return 1; }
    say(w, "smp: vcpu 1 reported hart id "); say_num(w, (int64_t)reported_hart - 1); say(w, "\n");
    r = sbi(SBI_HSM, 0, 1, (uint64_t)(uintptr_t)smp_secondary, 0);
    say(w, "smp: hart_start(1) again error "); say_num(w, r.error); say(w, "\n");
    r = sbi(SBI_IPI, 0, 1ull << 1, 0, 0);
    say(w, "smp: send_ipi(vcpu 1) error "); say_num(w, r.error); say(w, "\n");
    if (!wait_for(&got_ipi, s)) { say(w, "smp: FAILED vcpu 1 never saw the IPI\n"); return 1; }
    int64_t status = 0;
    for (int i = 0; i < 2000; i++) {
        status = sbi(SBI_HSM, 2, 1, 0, 0).value;
        if (status == 1) break;
        s->sleep(s->timebase_hz / 1000);
    }
    say(w, "smp: vcpu 1 status after hart_stop "); say_num(w, status); say(w, "\n");
    r = sbi(SBI_HSM, 0, 7, (uint64_t)(uintptr_t)smp_secondary, 0);
    say(w, "smp: hart_start(7) error "); say_num(w, r.error); say(w, "\n");
    r = sbi(SBI_HSM, 0, 1, 0x1000, 0);
    say(w, "smp: hart_start(1, bad entry) error "); say_num(w, r.error); say(w, "\n");
    say(w, "smp: done\n");
    return 0;
}
#elif defined(__aarch64__)
/* PSCI 1.1 over HVC #0 (Arm DEN 0022): x0 = function id, result in x0. */
static int64_t psci(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) ::
        "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
    return (int64_t)x0;
}

#define PSCI_CPU_OFF        0x84000002ull
#define PSCI_CPU_ON         0xC4000003ull
#define PSCI_AFFINITY_INFO  0xC4000004ull

static uint8_t stack1[8192] __attribute__((aligned(16)));
static volatile uint64_t reported_cpu, got_ipi;

void smp_secondary_main(uint64_t context);

/* vCPU 1's first instruction: x0 = the context id = the top of its stack. */
__attribute__((naked)) void smp_secondary(void) {
    __asm__ volatile("mov sp, x0\n b smp_secondary_main");
}

static void hvc_write(const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    register uint64_t x0 __asm__("x0") = RUM_SMCCC_HV_BASE | RUM_HC_CONSOLE_WRITE;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)s, x2 __asm__("x2") = n;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2) ::
        "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
}

void smp_secondary_main(uint64_t context) {
    (void)context;
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    hvc_write("smp: vcpu 1 running\n");
    reported_cpu = (mpidr & 0xFF) + 1;
    /* Group 1 on, every priority unmasked: a pending SGI becomes visible (and wakes wfi). */
    __asm__ volatile("msr S3_0_C4_C6_0, %0\n msr S3_0_C12_C12_7, %1\n isb" :: "r"(0xFFull), "r"(1ull));
    for (;;) {
        uint64_t id;
        __asm__ volatile("mrs %0, S3_0_C12_C12_2" : "=r"(id));          /* ICC_HPPIR1_EL1 */
        if ((id & 0xFFFFFF) < 1020) break;
        __asm__ volatile("wfi");
    }
    uint64_t id;
    __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(id));              /* ICC_IAR1_EL1: acknowledge */
    __asm__ volatile("msr S3_0_C12_C12_1, %0\n isb" :: "r"(id));        /* ICC_EOIR1_EL1 */
    got_ipi = 1;
    hvc_write("smp: vcpu 1 got the IPI, stopping\n");
    psci(PSCI_CPU_OFF, 0, 0, 0);                                         /* does not return */
    for (;;) __asm__ volatile("wfi");
}

static int wait_for(volatile uint64_t *flag, const rum_payload_services_t *s) {
    for (int i = 0; i < 2000 && !*flag; i++) s->sleep(s->timebase_hz / 1000);
    return *flag != 0;
}

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    write_fn w = s->write;
    uint64_t entry = (uint64_t)(uintptr_t)smp_secondary, top = (uint64_t)(uintptr_t)(stack1 + sizeof stack1);
    say(w, "smp: vcpu 1 status before start "); say_num(w, psci(PSCI_AFFINITY_INFO, 1, 0, 0)); say(w, "\n");
    say(w, "smp: cpu_on(1) "); say_num(w, psci(PSCI_CPU_ON, 1, entry, top)); say(w, "\n");
    if (!wait_for(&reported_cpu, s)) { say(w, "smp: FAILED vcpu 1 never ran\n"); return 1; }
    say(w, "smp: vcpu 1 reported mpidr aff0 "); say_num(w, (int64_t)reported_cpu - 1); say(w, "\n");
    say(w, "smp: cpu_on(1) again "); say_num(w, psci(PSCI_CPU_ON, 1, entry, top)); say(w, "\n");
    __asm__ volatile("msr S3_0_C12_C11_5, %0\n isb" :: "r"(1ull << 1));  /* ICC_SGI1R_EL1: SGI 0 to vCPU 1 */
    say(w, "smp: sgi sent to vcpu 1\n");
    if (!wait_for(&got_ipi, s)) { say(w, "smp: FAILED vcpu 1 never saw the IPI\n"); return 1; }
    int64_t status = 0;
    for (int i = 0; i < 2000; i++) {
        status = psci(PSCI_AFFINITY_INFO, 1, 0, 0);
        if (status == 1) break;
        s->sleep(s->timebase_hz / 1000);
    }
    say(w, "smp: vcpu 1 status after cpu_off "); say_num(w, status); say(w, "\n");
    say(w, "smp: cpu_on(7) "); say_num(w, psci(PSCI_CPU_ON, 7, entry, top)); say(w, "\n");
    say(w, "smp: cpu_on(1, bad entry) "); say_num(w, psci(PSCI_CPU_ON, 1, 0x1000, 0)); say(w, "\n");
    say(w, "smp: psci features(cpu_on) "); say_num(w, psci(0x8400000Aull, PSCI_CPU_ON, 0, 0)); say(w, "\n");
    say(w, "smp: unknown psci call "); say_num(w, psci(0x84000077ull, 0, 0, 0)); say(w, "\n");
    say(w, "smp: done\n");
    return 0;
}
#elif defined(__x86_64__)
/* Rumkv's VMCALLs (rumabi.h): rax = function, rdi/rsi/rdx = arguments, rax = result. */
static int64_t vmcall(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2) {
    __asm__ volatile("vmcall" : "+a"(fn) : "D"(a0), "S"(a1), "d"(a2) : "memory");
    return (int64_t)fn;
}

static uint8_t stack1[8192] __attribute__((aligned(16)));
__attribute__((used)) static volatile uint64_t reported_vcpu, got_ipi;
/* vCPU 1's own IDT: only vector RUM_X86_VECTOR_IPI (0x22) has a gate. */
static uint64_t idt1[2 * 0x23] __attribute__((aligned(16)));

void smp_secondary_main(uint64_t vcpu);

/* vCPU 1's first instruction: rdi = its vCPU number, rsi = arg = the top of its stack. */
__attribute__((naked)) void smp_secondary(void) {
    __asm__ volatile("movq %rsi, %rsp\n jmp smp_secondary_main");
}

/* The IPI vector: note it and return (iretq restores IF). */
__attribute__((naked)) void smp_ipi_handler(void) {
    __asm__ volatile("movq $1, got_ipi(%rip)\n iretq");
}

static void vc_write(const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    vmcall(RUM_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)s, n, 0);
}

void smp_secondary_main(uint64_t vcpu) {
    vc_write("smp: vcpu 1 running\n");
    reported_vcpu = vcpu + 1;
    uint64_t h = (uint64_t)(uintptr_t)smp_ipi_handler;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt1[2 * 0x22] = (h & 0xFFFF) | (uint64_t)cs << 16 | 0x8Eull << 40 | ((h >> 16) & 0xFFFF) << 48;
    idt1[2 * 0x22 + 1] = h >> 32;
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = { sizeof idt1 - 1, (uint64_t)(uintptr_t)idt1 };
    __asm__ volatile("lidt %0" :: "m"(d) : "memory");
    while (!got_ipi) __asm__ volatile("sti; hlt; cli" ::: "memory");   /* Rumkv wakes the hlt for the IPI */
    vc_write("smp: vcpu 1 got the IPI, stopping\n");
    vmcall(RUM_HC_VCPU_STOP, 0, 0, 0);                                   /* does not return */
    for (;;) __asm__ volatile("cli; hlt");
}

static int wait_for(volatile uint64_t *flag, const rum_payload_services_t *s) {
    for (int i = 0; i < 2000 && !*flag; i++) s->sleep(s->timebase_hz / 1000);
    return *flag != 0;
}

__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    if (s->magic != RUM_PAYLOAD_SERVICES_MAGIC) return 2;
    write_fn w = s->write;
    uint64_t entry = (uint64_t)(uintptr_t)smp_secondary, top = (uint64_t)(uintptr_t)(stack1 + sizeof stack1);
    say(w, "smp: vcpu 1 status before start "); say_num(w, vmcall(RUM_HC_VCPU_STATUS, 1, 0, 0)); say(w, "\n");
    say(w, "smp: vcpu_start(1) "); say_num(w, vmcall(RUM_HC_VCPU_START, 1, entry, top)); say(w, "\n");
    if (!wait_for(&reported_vcpu, s)) { say(w, "smp: FAILED vcpu 1 never ran\n"); return 1; }
    say(w, "smp: vcpu 1 reported vcpu id "); say_num(w, (int64_t)reported_vcpu - 1); say(w, "\n");
    say(w, "smp: vcpu_start(1) again "); say_num(w, vmcall(RUM_HC_VCPU_START, 1, entry, top)); say(w, "\n");
    say(w, "smp: send_ipi(vcpu 1) "); say_num(w, vmcall(RUM_HC_SEND_IPI, 1ull << 1, 0, 0)); say(w, "\n");
    if (!wait_for(&got_ipi, s)) { say(w, "smp: FAILED vcpu 1 never saw the IPI\n"); return 1; }
    int64_t status = 0;
    for (int i = 0; i < 2000; i++) {
        status = vmcall(RUM_HC_VCPU_STATUS, 1, 0, 0);
        if (status == 1) break;
        s->sleep(s->timebase_hz / 1000);
    }
    say(w, "smp: vcpu 1 status after vcpu_stop "); say_num(w, status); say(w, "\n");
    say(w, "smp: vcpu_start(7) "); say_num(w, vmcall(RUM_HC_VCPU_START, 7, entry, top)); say(w, "\n");
    say(w, "smp: vcpu_start(1, bad entry) "); say_num(w, vmcall(RUM_HC_VCPU_START, 1, 0x1000, 0)); say(w, "\n");
    say(w, "smp: send_ipi(vcpu 5) "); say_num(w, vmcall(RUM_HC_SEND_IPI, 1ull << 5, 0, 0)); say(w, "\n");
    say(w, "smp: done\n");
    return 0;
}
#else
__attribute__((section(".text.payload_main")))
int64_t payload_main(const rum_payload_services_t *s) {
    say(s->write, "smp: this payload runs on riscv64, aarch64 and x86_64 only\n");
    return 0;
}
#endif
