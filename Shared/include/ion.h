/*
 * ion.h - ION rings: single-producer single-consumer rings of CmdPackets.
 *
 * An ION ring is one contiguous region: a 192-byte header (magic, ABI
 * revision, capacity, then the consumer's `head` and the producer's `tail`,
 * each on its own 64-byte cache line, Disruptor style) followed by
 * `capacity` slots of rum_cmd_packet_t. `head` and `tail` are free-running
 * 64-bit counters: the ring holds `tail - head` packets, slot i is
 * `slots[i & (capacity - 1)]`. Only the producer writes `tail`, only the
 * consumer writes `head`; a packet is published by the release store of
 * `tail` (its bytes are visible before the new tail) and given back by the
 * release store of `head` (its slot is read before the slot is reused).
 *
 * The region may be shared with a party that does not play by the rules, so
 * the push/pop functions take the capacity mask from the caller's own
 * validated copy (never from the header again) and pop reports a ring whose
 * counters are impossible (`tail - head > capacity`) instead of reading it.
 * docs/abi.md ("ION rings") describes the same layout in prose.
 */
#ifndef RUM_ION_H
#define RUM_ION_H

#include <stdint.h>
#include "rumabi.h"

#define RUM_ION_MAGIC           0x314E4F49u   /* bytes 'I' 'O' 'N' '1' */
#define RUM_ION_MAX_CAPACITY    (1u << 16)

typedef struct rum_ion_ring {
    uint32_t magic;             /* 0x00 RUM_ION_MAGIC */
    uint16_t revision;          /* 0x04 RUM_ABI_REVISION */
    uint16_t slot_size;         /* 0x06 sizeof(rum_cmd_packet_t) = 32 */
    uint32_t capacity;          /* 0x08 slots, a power of two, 1..RUM_ION_MAX_CAPACITY */
    uint32_t _pad0;             /* 0x0C explicit padding */
    uint8_t  _pad1[48];         /* 0x10 rest of the first cache line */
    uint64_t head;              /* 0x40 packets consumed (written by the consumer only) */
    uint8_t  _pad2[56];         /* 0x48 */
    uint64_t tail;              /* 0x80 packets produced (written by the producer only) */
    uint8_t  _pad3[56];         /* 0x88 */
} rum_ion_ring_t;               /* 0xC0 = 192, then the slots */

#define RUM_ION_SLOTS_OFF       0xC0u

_Static_assert(sizeof(rum_ion_ring_t) == RUM_ION_SLOTS_OFF, "ION header is 192 bytes");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, magic) == 0x00, "rum_ion_ring_t.magic offset");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, revision) == 0x04, "rum_ion_ring_t.revision offset");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, slot_size) == 0x06, "rum_ion_ring_t.slot_size offset");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, capacity) == 0x08, "rum_ion_ring_t.capacity offset");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, head) == 0x40, "rum_ion_ring_t.head offset");
_Static_assert(__builtin_offsetof(rum_ion_ring_t, tail) == 0x80, "rum_ion_ring_t.tail offset");

/* Results of rum_ion_pop. */
#define RUM_ION_EMPTY           0
#define RUM_ION_OK              1
#define RUM_ION_CORRUPT         (-1)

/* Bytes a ring of `capacity` slots occupies (header and slots). */
static inline uint64_t rum_ion_bytes(uint32_t capacity) {
    return RUM_ION_SLOTS_OFF + (uint64_t)capacity * sizeof(rum_cmd_packet_t);
}

static inline rum_cmd_packet_t *rum_ion_slot(rum_ion_ring_t *r, uint64_t index, uint32_t mask) {
    return (rum_cmd_packet_t *)((char *)r + RUM_ION_SLOTS_OFF) + (index & mask);
}

/* The ring's magic, acquire-loaded: a consumer that sees RUM_ION_MAGIC also
 * sees the rest of the header the producer wrote before rum_ion_publish. */
static inline uint32_t rum_ion_magic(rum_ion_ring_t *r) {
    return __atomic_load_n(&r->magic, __ATOMIC_ACQUIRE);
}

/* Release-stores the magic last when formatting a ring another party attaches to. */
static inline void rum_ion_publish(rum_ion_ring_t *r, uint32_t magic) {
    __atomic_store_n(&r->magic, magic, __ATOMIC_RELEASE);
}

/* A full fence (loads and stores on both sides of it are ordered). The
 * doorbell rule needs it: the producer's tail store before its head load, the
 * consumer's head store before its last tail load, so at least one side sees
 * the other's update (Dekker) and a waiting consumer is never left unwoken. */
static inline void rum_ion_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* Packets in the ring as the caller sees it now (a snapshot). */
static inline uint64_t rum_ion_count(rum_ion_ring_t *r) {
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    return tail - head;
}

/* Producer: copies *p into the next slot and publishes it. Returns 1, or 0
 * if the ring is full (nothing is written). `mask` = capacity - 1. */
static inline int rum_ion_push(rum_ion_ring_t *r, uint32_t mask, const rum_cmd_packet_t *p) {
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);   /* ours: no ordering needed */
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);   /* slot reads done before reuse */
    if (tail - head > (uint64_t)mask) return 0;
    *rum_ion_slot(r, tail, mask) = *p;
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);        /* publish the slot */
    return 1;
}

/* Consumer: copies the oldest packet to *out and frees its slot. Returns
 * RUM_ION_OK, RUM_ION_EMPTY, or RUM_ION_CORRUPT if the counters say more
 * than `mask + 1` packets are queued (the ring is then left untouched). */
static inline int rum_ion_pop(rum_ion_ring_t *r, uint32_t mask, rum_cmd_packet_t *out) {
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);   /* ours */
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);   /* slot bytes visible after this */
    if (tail == head) return RUM_ION_EMPTY;
    if (tail - head > (uint64_t)mask + 1) return RUM_ION_CORRUPT;
    *out = *rum_ion_slot(r, head, mask);
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);        /* give the slot back */
    return RUM_ION_OK;
}

#endif /* RUM_ION_H */
