/*
 * libc.c - the freestanding C runtime functions that compiled Swift and C
 * code call implicitly (memset, memcpy, memmove, memcmp). Built with
 * -ffreestanding -fno-builtin so the compiler does not turn these loops back
 * into calls to themselves. Aligned bulk work goes 8 bytes at a time: guest
 * RAM is zeroed on every (re)start, and blink recovery has a 2 ms budget.
 * Shared by every image on every architecture; on x86_64 the aligned words
 * go through `rep stosq` / `rep movsq` (SDM Vol. 1 7.3.9.3, fast-string
 * operation), one instruction for the whole run.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n && ((uintptr_t)d & 7)) { *d++ = (unsigned char)c; n--; }
    uint64_t w = (unsigned char)c;
    w |= w << 8; w |= w << 16; w |= w << 32;
    uint64_t *q = (uint64_t *)d;
#if defined(__x86_64__)
    /* x86: one `rep stosq` (fast-string operation) for the aligned words. */
    size_t words = n / 8;
    __asm__ volatile("rep stosq" : "+D"(q), "+c"(words) : "a"(w) : "memory");
    n &= 7;
#endif
    for (; n >= 64; n -= 64, q += 8) {
        q[0] = w; q[1] = w; q[2] = w; q[3] = w; q[4] = w; q[5] = w; q[6] = w; q[7] = w;
    }
    for (; n >= 8; n -= 8) *q++ = w;
    d = (unsigned char *)q;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
        while (n && ((uintptr_t)d & 7)) { *d++ = *s++; n--; }
        uint64_t *qd = (uint64_t *)d;
        const uint64_t *qs = (const uint64_t *)s;
#if defined(__x86_64__)
        size_t words = n / 8;
        __asm__ volatile("rep movsq" : "+D"(qd), "+S"(qs), "+c"(words) :: "memory");
        n &= 7;
#endif
        for (; n >= 8; n -= 8) *qd++ = *qs++;
        d = (unsigned char *)qd; s = (const unsigned char *)qs;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    d += n; s += n;
    while (n--) *--d = *--s;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
