/*
 * rumabi.h - the one definition of the Rumkv/Rumpk guest ABI.
 *
 * Every structure that crosses a boundary (hypervisor <-> guest, guest <->
 * guest, host tool <-> hypervisor) is laid out here, with explicit padding, a
 * byte offset per field and compile-time assertions on every size and offset.
 * Swift imports this header (module CRumABI); a C guest can include it as is;
 * assembly reads offsets from the RUM_*_OFF macros. docs/abi.md describes the
 * same layouts in prose. All multi-byte fields are little-endian.
 */
#ifndef RUMABI_H
#define RUMABI_H

#include <stdint.h>

/* Revision 2: the device table describes the interrupt controller by kind and
 * regions; SysTable devtable/test_payload replace reserved words; bundle cpu_mask.
 * Revision 3: SysTable last_fault* (how the previous instance ended) replace the
 * last reserved words.
 * Revision 4: the bundle guest entry (now 120 bytes) carries the guest's boot
 * protocol, RAM base, load address, device tree and virtual devices. */
#define RUM_ABI_REVISION        4u

/* ------------------------------------------------------------------------ */
/* CmdPacket: the canonical 32-byte command record carried by ION rings.     */
/* Field order is fixed by the Rumpk design: kind, explicit pad, arg, id.    */
/* ------------------------------------------------------------------------ */

typedef struct rum_cmd_packet {
    uint32_t kind;          /* 0x00 command number (RUM_CMD_*) */
    uint32_t _pad;          /* 0x04 explicit padding, always zero */
    uint64_t arg;           /* 0x08 command argument */
    uint64_t id_lo;         /* 0x10 128-bit id, low half (SipHash provenance) */
    uint64_t id_hi;         /* 0x18 128-bit id, high half */
} rum_cmd_packet_t;         /* 0x20 */

#define RUM_CMD_NOP             0x000u
#define RUM_CMD_PING            0x100u
#define RUM_CMD_PONG            0x101u
#define RUM_CMD_SYS_EXEC        0x400u
#define RUM_CMD_SYS_EXIT        0x401u

/* ------------------------------------------------------------------------ */
/* Memory range and device descriptors used inside the SysTable.            */
/* ------------------------------------------------------------------------ */

typedef struct rum_mem_range {
    uint64_t base;          /* 0x00 guest-physical base */
    uint64_t size;          /* 0x08 size in bytes */
} rum_mem_range_t;          /* 0x10 */

#define RUM_CONSOLE_NONE        0u
#define RUM_CONSOLE_HYPERCALL   1u   /* output through RUM_HC_CONSOLE_WRITE / SBI DBCN */

typedef struct rum_channel_desc {
    uint64_t shm_base;      /* 0x00 guest-physical base of the shared region */
    uint32_t shm_size;      /* 0x08 bytes */
    uint16_t peer_id;       /* 0x0C guest id of the other end */
    uint8_t  doorbell;      /* 0x0E doorbell number for RUM_HC_DOORBELL */
    uint8_t  side;          /* 0x0F RUM_CHANNEL_SIDE_*: this guest's index in the header's arrays */
} rum_channel_desc_t;       /* 0x10 */

#define RUM_CHANNEL_SIDE_A      0u   /* the bundle channel's guest_a: writes ring_offset[0] */
#define RUM_CHANNEL_SIDE_B      1u   /* guest_b: writes ring_offset[1] */

#define RUM_SYSTABLE_MEM_RANGES 4
#define RUM_SYSTABLE_CHANNELS   2

/* ------------------------------------------------------------------------ */
/* SysTable: handed by the hypervisor to each guest (240 bytes).            */
/* ------------------------------------------------------------------------ */

#define RUM_SYSTABLE_MAGIC      0x53594B52u   /* "RKYS" little-endian bytes 52 4B 59 53 */

typedef struct rum_systable {
    uint32_t magic;                 /* 0x00 RUM_SYSTABLE_MAGIC */
    uint16_t revision;              /* 0x04 RUM_ABI_REVISION */
    uint16_t size;                  /* 0x06 sizeof(rum_systable_t) = 240 */
    uint32_t guest_id;              /* 0x08 hypervisor's id for this guest */
    uint32_t vcpu_count;            /* 0x0C vCPUs given to the guest */
    char     name[16];              /* 0x10 NUL-padded guest name */
    uint64_t sip_id_lo;             /* 0x20 SipHash-2-4 guest id, low */
    uint64_t sip_id_hi;             /* 0x28 SipHash-2-4 guest id, high */
    uint32_t mem_count;             /* 0x30 valid entries in mem[] */
    uint32_t flags;                 /* 0x34 RUM_SYSTABLE_F_* */
    rum_mem_range_t mem[RUM_SYSTABLE_MEM_RANGES]; /* 0x38 guest RAM ranges */
    uint32_t console_kind;          /* 0x78 RUM_CONSOLE_* */
    uint32_t hypercall_abi;         /* 0x7C hypercall ABI version (RUM_HC_ABI_VERSION) */
    uint32_t channel_count;         /* 0x80 valid entries in channels[] */
    uint32_t _pad0;                 /* 0x84 explicit padding */
    rum_channel_desc_t channels[RUM_SYSTABLE_CHANNELS]; /* 0x88 */
    uint64_t timebase_hz;           /* 0xA8 frequency of the guest's time counter */
    uint64_t boot_time;             /* 0xB0 counter value when the guest was (re)started */
    uint64_t payload_base;          /* 0xB8 guest-physical payload store (tar), 0 if none */
    uint64_t payload_size;          /* 0xC0 bytes */
    uint32_t restart_count;         /* 0xC8 times this guest was restarted */
    uint32_t _pad1;                 /* 0xCC explicit padding */
    uint64_t devtable;              /* 0xD0 guest-physical address of the device table (rum_device_table_t) */
    uint32_t test_payload;          /* 0xD8 test payload number (test builds' hostile guests), else 0 */
    uint32_t _pad2;                 /* 0xDC explicit padding */
    uint32_t last_fault;            /* 0xE0 RUM_FAULT_*: how the previous instance ended, RUM_FAULT_NONE if not by a fault */
    uint32_t last_fault_access;     /* 0xE4 RUM_ACCESS_* of a stage-2 fault, else 0 */
    uint64_t last_fault_address;    /* 0xE8 faulting guest-physical address (stage-2), else the trap's detail */
} rum_systable_t;                   /* 0xF0 = 240 */

/* How the previous instance of a guest ended, as the hypervisor recorded it. */
#define RUM_FAULT_NONE                  0u
#define RUM_FAULT_ILLEGAL_INSTRUCTION   1u
#define RUM_FAULT_VIRTUAL_INSTRUCTION   2u   /* a hypervisor-only instruction or register */
#define RUM_FAULT_MISALIGNED            3u
#define RUM_FAULT_ACCESS                4u
#define RUM_FAULT_UNKNOWN               5u
#define RUM_FAULT_CRASH_REPORT          6u   /* the guest reported its own crash */
#define RUM_FAULT_STAGE2                7u   /* guest-physical address not mapped for that access */

#define RUM_ACCESS_READ                 0u
#define RUM_ACCESS_WRITE                1u
#define RUM_ACCESS_EXECUTE              2u

#define RUM_SYSTABLE_F_VERBOSE  (1u << 0)   /* guest may log more than its ready line */
#define RUM_SYSTABLE_F_PINNED   (1u << 1)   /* vCPUs own their harts exclusively */

/* ------------------------------------------------------------------------ */
/* NPL payload header (128 bytes). Signature: Ed25519 over the header with  */
/* the signature field zeroed, followed by the body (docs/abi.md).          */
/* ------------------------------------------------------------------------ */

#define RUM_NPL_MAGIC           0x4C504E7Fu   /* bytes 7F 'N' 'P' 'L' */
#define RUM_NPL_VERSION         1u
#define RUM_NPL_ARCH_ARM64      0xAAu
#define RUM_NPL_ARCH_X86_64     0xEEu
#define RUM_NPL_ARCH_RISCV64    0x55u

typedef struct rum_npl_header {
    uint32_t magic;                 /* 0x00 bytes 7F 4E 50 4C */
    uint8_t  version;               /* 0x04 RUM_NPL_VERSION */
    uint8_t  arch;                  /* 0x05 RUM_NPL_ARCH_* */
    uint16_t flags;                 /* 0x06 RUM_NPL_F_* */
    uint8_t  signature[64];         /* 0x08 Ed25519 signature */
    uint64_t body_size;             /* 0x48 bytes following the header */
    uint8_t  reserved[48];          /* 0x50 zero */
} rum_npl_header_t;                 /* 0x80 = 128 */

#define RUM_NPL_F_ELF           (1u << 0)   /* body is an ELF64 executable */
#define RUM_NPL_F_GUEST_IMAGE   (1u << 1)   /* body is a guest kernel image */

/* ------------------------------------------------------------------------ */
/* Hypercalls. On riscv64 they are SBI calls to extension RUM_SBI_EXT_ID    */
/* (a7 = EID, a6 = FID); on aarch64 HVC #0 (x0 = SMCCC id); on x86 VMCALL */
/* (rax = FID). Arguments in a0-a2 / x1-x3 / rdi,rsi,rdx.                   */
/* ------------------------------------------------------------------------ */

#define RUM_HC_ABI_VERSION      1u
#define RUM_SBI_EXT_ID          0x0A52554Du   /* firmware range, "RUM" */
/* aarch64: x0 = RUM_SMCCC_HV_BASE | RUM_HC_*: an SMC64 fast call to owner 6,  */
/* "vendor specific hypervisor service" (Arm DEN 0028, SMCCC 6.2). Results:  */
/* x0 = RUM_HC_OK or RUM_HC_ERR_*, x1 = value. Other ids are PSCI/SMCCC.    */
#define RUM_SMCCC_HV_BASE       0xC6000000u

#define RUM_HC_VERSION          0u   /* returns RUM_HC_ABI_VERSION */
#define RUM_HC_CONSOLE_WRITE    1u   /* (gpa, len) -> bytes written */
#define RUM_HC_YIELD            2u   /* give up the rest of the time slice */
#define RUM_HC_DOORBELL         3u   /* (doorbell) raise the peer's channel interrupt */
#define RUM_HC_EXIT             4u   /* (code) the guest stops itself */
#define RUM_HC_CONSOLE_READ     5u   /* (gpa, len) -> bytes of typed input read (aarch64 HVC, x86_64 VMCALL; riscv64 uses SBI DBCN) */
#define RUM_HC_SET_TIMER        6u   /* (deadline) x86_64 only: one-shot guest timer at TSC value deadline (UINT64_MAX disarms), */
                                     /* delivered as vector RUM_X86_VECTOR_TIMER; riscv64 has SBI TIME, aarch64 its virtual timer */
/* x86_64 only (riscv64 has SBI HSM/IPI, aarch64 PSCI and SGIs): a guest's own vCPUs. */
#define RUM_HC_VCPU_START       7u   /* (vcpu, entry, arg) start an offline vCPU: rip = entry, rdi = vcpu, rsi = arg */
#define RUM_HC_VCPU_STOP        8u   /* the calling vCPU goes offline (does not return) */
#define RUM_HC_VCPU_STATUS      9u   /* (vcpu) -> 0 on, 1 off */
#define RUM_HC_SEND_IPI         10u  /* (vcpu mask) inject RUM_X86_VECTOR_IPI into each named vCPU */
/* x86_64 vectors Rumkv injects (external interrupts, event injection). */
#define RUM_X86_VECTOR_TIMER    0x20u
#define RUM_X86_VECTOR_DOORBELL 0x21u
#define RUM_X86_VECTOR_IPI      0x22u

#define RUM_HC_OK               0
#define RUM_HC_ERR_UNSUPPORTED  (-2)
#define RUM_HC_ERR_INVALID      (-3)
#define RUM_HC_ERR_ADDRESS      (-5)


/* ------------------------------------------------------------------------ */
/* Boot bundle: what `rumkv bundle` produces from a config and the images,  */
/* loaded by the emulator as the initrd. A header, `guest_count` guest      */
/* entries, then the images (each 4 KiB aligned, offsets from bundle start).*/
/* ------------------------------------------------------------------------ */

#define RUM_BUNDLE_MAGIC        0x424B5552u   /* "RUKB" */
#define RUM_BUNDLE_MAX_GUESTS   8
#define RUM_BUNDLE_MAX_VCPUS    16    /* vCPUs of all guests together */
#define RUM_GUEST_NAME_MAX      16

typedef struct rum_bundle_header {
    uint32_t magic;                 /* 0x00 RUM_BUNDLE_MAGIC */
    uint16_t revision;              /* 0x04 RUM_ABI_REVISION */
    uint16_t header_size;           /* 0x06 sizeof(rum_bundle_header_t) */
    uint32_t total_size;            /* 0x08 bytes of the whole bundle */
    uint32_t guest_count;           /* 0x0C entries following the header */
    uint32_t guest_entry_size;      /* 0x10 sizeof(rum_bundle_guest_t) */
    uint32_t flags;                 /* 0x14 zero */
    uint16_t device_count;          /* 0x18 rum_bundle_device_t entries after the guests */
    uint16_t channel_count;         /* 0x1A rum_bundle_channel_t entries after the devices */
    uint32_t reserved;              /* 0x1C zero */
} rum_bundle_header_t;              /* 0x20 */

#define RUM_GUEST_F_AUTOSTART   (1u << 0)   /* start at boot */
#define RUM_GUEST_F_PINNED      (1u << 1)   /* vCPUs own their harts exclusively */
#define RUM_GUEST_F_VERBOSE     (1u << 2)   /* SysTable verbose flag */
#define RUM_GUEST_F_TEST        (1u << 3)   /* guest runs its test payload (hostile tests) */

/* Boot protocols (rum_bundle_guest_t.boot). */
#define RUM_BOOT_RUMPK          0u   /* Rumpk: image at the RAM base, a0 = vCPU, a1 = SysTable */
#define RUM_BOOT_LINUX          1u   /* Linux/U-Boot: a0 = hart id, a1 = the guest's device tree */

/* Virtual devices a guest sees (rum_bundle_guest_t.vdevices). */
#define RUM_VDEV_NS16550        (1u << 0)   /* an emulated NS16550 at uart_gpa, wired to the guest's console */
#define RUM_VUART_SIZE          0x100ull    /* its register window: 8 byte-wide registers (reg-shift 0), the rest reads 0 */

#define RUM_RESTART_NEVER       0u   /* a crashed guest stays stopped */
#define RUM_RESTART_ON_CRASH    1u   /* restart after a fault, not after a clean exit */
#define RUM_RESTART_ALWAYS      2u   /* restart after any stop the guest caused */

typedef struct rum_bundle_guest {
    char     name[RUM_GUEST_NAME_MAX];  /* 0x00 NUL-padded; [a-z0-9_-], starts with a letter */
    uint32_t image_offset;          /* 0x10 from bundle start, 4 KiB aligned */
    uint32_t image_size;            /* 0x14 bytes */
    uint64_t memory_size;           /* 0x18 guest RAM bytes, multiple of 2 MiB */
    uint64_t cpu_mask;              /* 0x20 CPUs the vCPUs may run on (bit n = CPU index n) */
    uint32_t vcpus;                 /* 0x28 1..8 */
    uint32_t flags;                 /* 0x2C RUM_GUEST_F_* */
    uint32_t restart_policy;        /* 0x30 RUM_RESTART_* */
    uint32_t payload;               /* 0x34 test payload number when RUM_GUEST_F_TEST, else 0 */
    uint32_t store_offset;          /* 0x38 payload store (tar of NPL payloads), 4 KiB aligned; 0 if none */
    uint32_t store_size;            /* 0x3C bytes */
    uint32_t boot;                  /* 0x40 RUM_BOOT_* */
    uint32_t vdevices;              /* 0x44 RUM_VDEV_* */
    uint64_t ram_base;              /* 0x48 guest-physical RAM base, 2 MiB aligned, >= RUM_GUEST_RAM_GPA */
    uint64_t entry;                 /* 0x50 guest-physical load address of the image, also its entry */
    uint64_t dtb_gpa;               /* 0x58 guest-physical address the device tree is copied to (RUM_BOOT_LINUX), else 0 */
    uint32_t dtb_offset;            /* 0x60 the device tree in the bundle, 4 KiB aligned; 0 if none */
    uint32_t dtb_size;              /* 0x64 bytes */
    uint64_t uart_gpa;              /* 0x68 base of the virtual NS16550 (RUM_VDEV_NS16550), else 0 */
    uint64_t reserved;              /* 0x70 zero */
} rum_bundle_guest_t;               /* 0x78 = 120 */

/* Device assignment: one platform device (MMIO window and interrupt) given */
/* to one guest. The window is mapped into that guest's stage-2 at the same */
/* address (guest-physical == host-physical) and nowhere else.             */
#define RUM_BUNDLE_MAX_DEVICES  8
#define RUM_DEVICE_UNOWNED      0xFFFFFFFFu
#define RUM_DEVICE_F_DMA        (1u << 0)   /* bus master: owner gets an identity DMA window */

typedef struct rum_bundle_device {
    char     name[RUM_GUEST_NAME_MAX];  /* 0x00 NUL-padded */
    uint64_t mmio_base;             /* 0x10 4 KiB aligned */
    uint64_t mmio_size;             /* 0x18 multiple of 4 KiB */
    uint32_t irq;                   /* 0x20 interrupt source (PLIC), 0 = none */
    uint32_t owner;                 /* 0x24 guest index or RUM_DEVICE_UNOWNED */
    uint32_t flags;                 /* 0x28 RUM_DEVICE_F_* */
    uint32_t reserved;              /* 0x2C zero */
} rum_bundle_device_t;              /* 0x30 = 48 */

/* Channel: shared memory between two guests holding two ION rings, with a */
/* doorbell each way (RUM_HC_DOORBELL).                                     */
#define RUM_BUNDLE_MAX_CHANNELS 8

typedef struct rum_bundle_channel {
    char     name[RUM_GUEST_NAME_MAX];  /* 0x00 */
    uint32_t guest_a;               /* 0x10 guest index of side A */
    uint32_t guest_b;               /* 0x14 guest index of side B */
    uint32_t size;                  /* 0x18 shared bytes, multiple of 4 KiB */
    uint32_t reserved;              /* 0x1C zero */
} rum_bundle_channel_t;             /* 0x20 = 32 */

/* The guest's device table: in the SysTable page at offset 0x100 (GPA     */
/* RUM_GUEST_SYSTABLE_GPA + 0x100), read-only.                              */
#define RUM_DEVTABLE_MAGIC      0x56444B52u   /* "RKDV" */
#define RUM_DEVTABLE_OFFSET     0x100u
#define RUM_DEVTABLE_MAX        8

typedef struct rum_guest_device {
    char     name[RUM_GUEST_NAME_MAX];  /* 0x00 */
    uint64_t mmio_base;             /* 0x10 guest-physical (== host-physical) */
    uint64_t mmio_size;             /* 0x18 */
    uint32_t irq;                   /* 0x20 source number on the guest's virtual interrupt controller */
    uint32_t flags;                 /* 0x24 RUM_DEVICE_F_* */
} rum_guest_device_t;               /* 0x28 = 40 */

/* The guest's interrupt controller, by kind, with its register regions.  */
#define RUM_IRQCHIP_NONE        0u
#define RUM_IRQCHIP_PLIC        1u   /* regions[0]: PLIC (SiFive layout), context n = vCPU n */
#define RUM_IRQCHIP_GICV3       2u   /* regions[0]: distributor, regions[1]: redistributors (one per vCPU) */
#define RUM_IRQCHIP_X86_APIC    3u   /* regions[0]: local APIC, regions[1]: I/O APIC */

typedef struct rum_irqchip {
    uint32_t kind;                  /* 0x00 RUM_IRQCHIP_* */
    uint32_t region_count;          /* 0x04 valid entries in regions[] */
    rum_mem_range_t regions[2];     /* 0x08 guest-physical register regions */
} rum_irqchip_t;                    /* 0x28 = 40 */

typedef struct rum_device_table {
    uint32_t magic;                 /* 0x00 RUM_DEVTABLE_MAGIC */
    uint32_t count;                 /* 0x04 valid entries */
    uint64_t dma_base;              /* 0x08 identity DMA window (GPA == HPA), 0 if none */
    uint64_t dma_size;              /* 0x10 */
    rum_irqchip_t irqchip;          /* 0x18 the guest's virtual interrupt controller */
    rum_guest_device_t devices[RUM_DEVTABLE_MAX]; /* 0x40 */
} rum_device_table_t;               /* 0x180 = 384 */

/* Channel shared region header (first 64 bytes of the shared memory).      */
/* Written by the hypervisor: state and generation of each side, so a peer */
/* sees the other side go down and come back (then resets its rings).      */
#define RUM_CHANNEL_MAGIC       0x48434B52u   /* "RKCH" */
typedef struct rum_channel_header {
    uint32_t magic;                 /* 0x00 RUM_CHANNEL_MAGIC */
    uint32_t revision;              /* 0x04 RUM_ABI_REVISION */
    uint32_t state[2];              /* 0x08 side A, side B: 1 up, 0 down */
    uint32_t generation[2];         /* 0x10 incremented at every (re)start of that side */
    uint32_t doorbells[2];          /* 0x18 doorbells rung towards side A, side B */
    uint32_t ring_offset[2];        /* 0x20 ring written by A (read by B), by B (read by A) */
    uint32_t ring_size;             /* 0x28 bytes per ring area */
    uint32_t reserved[5];           /* 0x2C zero */
} rum_channel_header_t;             /* 0x40 = 64 */
#define RUM_GUEST_CHANNEL_GPA   0x7F000000ull /* channel n at + n * 64 KiB */
#define RUM_GUEST_CHANNEL_STRIDE 0x10000ull

/* Each guest image in a bundle is an NPL payload (rum_npl_header_t with    */
/* RUM_NPL_F_GUEST_IMAGE) whose body is the flat kernel image; the          */
/* hypervisor verifies it against its built-in trusted keys before every    */
/* start. The payload store, if any, is copied to the top of guest RAM and  */
/* described by SysTable.payload_base/payload_size.                         */

/* Guest-physical layout every guest sees (docs/abi.md):                   */
#define RUM_GUEST_SYSTABLE_GPA  0x7FFFF000ull /* read-only page below RAM */
#define RUM_GUEST_RAM_GPA       0x80000000ull /* default RAM base (QEMU virt's); Rumpk's image is loaded and entered here */
#define RUM_GUEST_RAM_GPA_LIMIT (1ull << 40)  /* guest RAM ends at or below this (within Sv39x4 / a 40-bit IPA) */
#define RUM_GUEST_DTB_MAX       0x10000u      /* largest guest device tree a bundle may carry */

/* ------------------------------------------------------------------------ */
/* Compile-time layout checks: any drift fails every build that includes us. */
/* ------------------------------------------------------------------------ */

#define RUM_ASSERT_OFF(T, f, off) \
    _Static_assert(__builtin_offsetof(T, f) == (off), #T "." #f " offset")

_Static_assert(sizeof(rum_cmd_packet_t) == 32, "CmdPacket is 32 bytes");
RUM_ASSERT_OFF(rum_cmd_packet_t, kind, 0x00);
RUM_ASSERT_OFF(rum_cmd_packet_t, _pad, 0x04);
RUM_ASSERT_OFF(rum_cmd_packet_t, arg, 0x08);
RUM_ASSERT_OFF(rum_cmd_packet_t, id_lo, 0x10);
RUM_ASSERT_OFF(rum_cmd_packet_t, id_hi, 0x18);

_Static_assert(sizeof(rum_mem_range_t) == 16, "mem range is 16 bytes");
_Static_assert(sizeof(rum_channel_desc_t) == 16, "channel desc is 16 bytes");
RUM_ASSERT_OFF(rum_channel_desc_t, shm_base, 0x00);
RUM_ASSERT_OFF(rum_channel_desc_t, shm_size, 0x08);
RUM_ASSERT_OFF(rum_channel_desc_t, peer_id, 0x0C);
RUM_ASSERT_OFF(rum_channel_desc_t, doorbell, 0x0E);
RUM_ASSERT_OFF(rum_channel_desc_t, side, 0x0F);

_Static_assert(sizeof(rum_systable_t) == 240, "SysTable is 240 bytes");
RUM_ASSERT_OFF(rum_systable_t, magic, 0x00);
RUM_ASSERT_OFF(rum_systable_t, revision, 0x04);
RUM_ASSERT_OFF(rum_systable_t, size, 0x06);
RUM_ASSERT_OFF(rum_systable_t, guest_id, 0x08);
RUM_ASSERT_OFF(rum_systable_t, vcpu_count, 0x0C);
RUM_ASSERT_OFF(rum_systable_t, name, 0x10);
RUM_ASSERT_OFF(rum_systable_t, sip_id_lo, 0x20);
RUM_ASSERT_OFF(rum_systable_t, sip_id_hi, 0x28);
RUM_ASSERT_OFF(rum_systable_t, mem_count, 0x30);
RUM_ASSERT_OFF(rum_systable_t, flags, 0x34);
RUM_ASSERT_OFF(rum_systable_t, mem, 0x38);
RUM_ASSERT_OFF(rum_systable_t, console_kind, 0x78);
RUM_ASSERT_OFF(rum_systable_t, hypercall_abi, 0x7C);
RUM_ASSERT_OFF(rum_systable_t, channel_count, 0x80);
RUM_ASSERT_OFF(rum_systable_t, _pad0, 0x84);
RUM_ASSERT_OFF(rum_systable_t, channels, 0x88);
RUM_ASSERT_OFF(rum_systable_t, timebase_hz, 0xA8);
RUM_ASSERT_OFF(rum_systable_t, boot_time, 0xB0);
RUM_ASSERT_OFF(rum_systable_t, payload_base, 0xB8);
RUM_ASSERT_OFF(rum_systable_t, payload_size, 0xC0);
RUM_ASSERT_OFF(rum_systable_t, restart_count, 0xC8);
RUM_ASSERT_OFF(rum_systable_t, _pad1, 0xCC);
RUM_ASSERT_OFF(rum_systable_t, devtable, 0xD0);
RUM_ASSERT_OFF(rum_systable_t, test_payload, 0xD8);
RUM_ASSERT_OFF(rum_systable_t, _pad2, 0xDC);
RUM_ASSERT_OFF(rum_systable_t, last_fault, 0xE0);
RUM_ASSERT_OFF(rum_systable_t, last_fault_access, 0xE4);
RUM_ASSERT_OFF(rum_systable_t, last_fault_address, 0xE8);

_Static_assert(sizeof(rum_npl_header_t) == 128, "NPL header is 128 bytes");
RUM_ASSERT_OFF(rum_npl_header_t, magic, 0x00);
RUM_ASSERT_OFF(rum_npl_header_t, version, 0x04);
RUM_ASSERT_OFF(rum_npl_header_t, arch, 0x05);
RUM_ASSERT_OFF(rum_npl_header_t, flags, 0x06);
RUM_ASSERT_OFF(rum_npl_header_t, signature, 0x08);
RUM_ASSERT_OFF(rum_npl_header_t, body_size, 0x48);
RUM_ASSERT_OFF(rum_npl_header_t, reserved, 0x50);

_Static_assert(sizeof(rum_bundle_header_t) == 32, "bundle header is 32 bytes");
RUM_ASSERT_OFF(rum_bundle_header_t, magic, 0x00);
RUM_ASSERT_OFF(rum_bundle_header_t, revision, 0x04);
RUM_ASSERT_OFF(rum_bundle_header_t, header_size, 0x06);
RUM_ASSERT_OFF(rum_bundle_header_t, total_size, 0x08);
RUM_ASSERT_OFF(rum_bundle_header_t, guest_count, 0x0C);
RUM_ASSERT_OFF(rum_bundle_header_t, guest_entry_size, 0x10);
RUM_ASSERT_OFF(rum_bundle_header_t, flags, 0x14);
RUM_ASSERT_OFF(rum_bundle_header_t, device_count, 0x18);
RUM_ASSERT_OFF(rum_bundle_header_t, channel_count, 0x1A);
RUM_ASSERT_OFF(rum_bundle_header_t, reserved, 0x1C);

_Static_assert(sizeof(rum_bundle_device_t) == 48, "bundle device is 48 bytes");
RUM_ASSERT_OFF(rum_bundle_device_t, mmio_base, 0x10);
RUM_ASSERT_OFF(rum_bundle_device_t, mmio_size, 0x18);
RUM_ASSERT_OFF(rum_bundle_device_t, irq, 0x20);
RUM_ASSERT_OFF(rum_bundle_device_t, owner, 0x24);
RUM_ASSERT_OFF(rum_bundle_device_t, flags, 0x28);
_Static_assert(sizeof(rum_bundle_channel_t) == 32, "bundle channel is 32 bytes");
RUM_ASSERT_OFF(rum_bundle_channel_t, guest_a, 0x10);
RUM_ASSERT_OFF(rum_bundle_channel_t, guest_b, 0x14);
RUM_ASSERT_OFF(rum_bundle_channel_t, size, 0x18);
_Static_assert(sizeof(rum_guest_device_t) == 40, "guest device is 40 bytes");
_Static_assert(sizeof(rum_irqchip_t) == 40, "irqchip descriptor is 40 bytes");
RUM_ASSERT_OFF(rum_irqchip_t, regions, 0x08);
_Static_assert(sizeof(rum_device_table_t) == 384, "device table is 384 bytes");
RUM_ASSERT_OFF(rum_device_table_t, irqchip, 0x18);
RUM_ASSERT_OFF(rum_device_table_t, devices, 0x40);
_Static_assert(RUM_DEVTABLE_OFFSET + sizeof(rum_device_table_t) <= 4096, "device table fits the SysTable page");
_Static_assert(sizeof(rum_channel_header_t) == 64, "channel header is 64 bytes");
RUM_ASSERT_OFF(rum_channel_header_t, state, 0x08);
RUM_ASSERT_OFF(rum_channel_header_t, generation, 0x10);
RUM_ASSERT_OFF(rum_channel_header_t, doorbells, 0x18);
RUM_ASSERT_OFF(rum_channel_header_t, ring_offset, 0x20);
RUM_ASSERT_OFF(rum_channel_header_t, ring_size, 0x28);

_Static_assert(sizeof(rum_bundle_guest_t) == 120, "bundle guest entry is 120 bytes");
RUM_ASSERT_OFF(rum_bundle_guest_t, name, 0x00);
RUM_ASSERT_OFF(rum_bundle_guest_t, image_offset, 0x10);
RUM_ASSERT_OFF(rum_bundle_guest_t, image_size, 0x14);
RUM_ASSERT_OFF(rum_bundle_guest_t, memory_size, 0x18);
RUM_ASSERT_OFF(rum_bundle_guest_t, cpu_mask, 0x20);
RUM_ASSERT_OFF(rum_bundle_guest_t, vcpus, 0x28);
RUM_ASSERT_OFF(rum_bundle_guest_t, flags, 0x2C);
RUM_ASSERT_OFF(rum_bundle_guest_t, restart_policy, 0x30);
RUM_ASSERT_OFF(rum_bundle_guest_t, payload, 0x34);
RUM_ASSERT_OFF(rum_bundle_guest_t, store_offset, 0x38);
RUM_ASSERT_OFF(rum_bundle_guest_t, store_size, 0x3C);
RUM_ASSERT_OFF(rum_bundle_guest_t, boot, 0x40);
RUM_ASSERT_OFF(rum_bundle_guest_t, vdevices, 0x44);
RUM_ASSERT_OFF(rum_bundle_guest_t, ram_base, 0x48);
RUM_ASSERT_OFF(rum_bundle_guest_t, entry, 0x50);
RUM_ASSERT_OFF(rum_bundle_guest_t, dtb_gpa, 0x58);
RUM_ASSERT_OFF(rum_bundle_guest_t, dtb_offset, 0x60);
RUM_ASSERT_OFF(rum_bundle_guest_t, dtb_size, 0x64);
RUM_ASSERT_OFF(rum_bundle_guest_t, uart_gpa, 0x68);
RUM_ASSERT_OFF(rum_bundle_guest_t, reserved, 0x70);

#endif /* RUMABI_H */
