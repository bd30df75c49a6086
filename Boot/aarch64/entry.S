/*
 * entry.S (aarch64) - first instructions of Rumkv.
 *
 * QEMU (`-machine virt,virtualization=on -kernel rumkv.elf`) enters _start on
 * the boot CPU at EL2, MMU and caches off, interrupts masked. For an ELF
 * image QEMU treats the image as "not Linux" and passes x0 = 0: the device
 * tree is not in a register but at the base of RAM (0x40000000 on virt),
 * where the loader puts it whenever the image leaves room below itself;
 * hypervisor.ld links us 2 MiB above it for that. Checked on QEMU 7.2 with a
 * probe image: x0 = x1 = 0, CurrentEL = EL2 (EL1 without virtualization=on),
 * MPIDR = 0x80000000, and the word at 0x40000000 is the FDT magic. Firmware
 * that follows the Linux arm64 boot protocol passes the DTB in x0 instead;
 * rumkv_main takes x0 and falls back to the base of RAM when it is 0.
 *
 * Only the boot CPU runs this: with PSCI emulated by QEMU (method "smc" or
 * "hvc" in /psci) the secondaries start powered off until a PSCI CPU_ON
 * (verified: -smp 4 prints one CPU's output), as the Linux boot protocol
 * requires of any firmware. The EL is not judged here: the vectors for the
 * current EL (EL2, else EL1) are installed so that rumkv_main can read
 * CurrentEL, print a refusal over the UART and power off through PSCI.
 *
 * Before any Swift code runs, every CPU turns its MMU on (at EL2, or at EL1
 * on the refusal path) with one identity map, __page_table: 512 level-1
 * blocks of 1 GiB (39-bit VA = PA, 4 KiB granule, PS = 40 bits). GiB 0 (QEMU
 * virt's flash and MMIO: GIC, UART, virtio, PCIe windows) and GiB 256 and up
 * (the high GIC redistributors and PCIe) are Device-nGnRnE and execute-never;
 * the rest, where RAM is, is Normal Non-cacheable. Non-cacheable keeps the
 * hypervisor coherent with guests that run with their own MMU and caches off
 * (as Rumpk does), exactly as with the MMU off; but Normal memory allows
 * unaligned accesses, so Rumkv's Swift is built without -mstrict-align
 * (tools/RumkvBuild/Arch.swift, 10 KiB smaller), and its exclusive loads and
 * stores (SpinLock, atomics) are on Normal memory, where the architecture
 * defines them, instead of Device memory.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    /* The arm64 Image header (Linux Documentation/arch/arm64/booting.rst),
     * so that QEMU boots the flat rumkv.bin as a Linux image: it then loads
     * it at RAM + text_offset (where hypervisor.ld links it), loads the
     * initrd (the boot bundle), names it in /chosen and passes x0 = DTB. */
    b       0f                      /* code0 */
    .long   0                       /* code1 */
    .quad   0x200000                /* text_offset: RAM base + 2 MiB */
    .quad   __image_size            /* image_size, .bss included */
    .quad   0xA                     /* flags: little-endian, 4 KiB pages, anywhere */
    .quad   0, 0, 0
    .ascii  "ARM\x64"              /* magic */
    .long   0
0:  mov     x19, x0                 /* boot argument: DTB address or 0 */
    msr     daifset, #0xf
    msr     spsel, #1               /* run on SP_ELx, as exceptions do */
    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    1f
    adrp    x2, rumkv_vectors_el2
    add     x2, x2, :lo12:rumkv_vectors_el2
    msr     vbar_el2, x2
    b       2f
1:  adrp    x2, rumkv_vectors_el1
    add     x2, x2, :lo12:rumkv_vectors_el1
    msr     vbar_el1, x2
2:  isb
    bl      rumkv_page_table_build
    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    7f
    bl      rumkv_mmu_on_el2
    b       8f
7:  bl      rumkv_mmu_on_el1
8:  adrp    x2, __boot_stack_top
    add     x2, x2, :lo12:__boot_stack_top
    mov     sp, x2
    adrp    x2, __bss_start
    add     x2, x2, :lo12:__bss_start
    adrp    x3, __bss_end
    add     x3, x3, :lo12:__bss_end
3:  cmp     x2, x3
    b.hs    4f
    str     xzr, [x2], #8
    b       3b
4:  mov     x0, x19
    bl      rumkv_main
5:  wfi
    b       5b

/*
 * A secondary CPU, started by PSCI CPU_ON (Hypervisor/aarch64/VCPU.swift,
 * startSecondary) at EL2 with x0 = the context id: the top of the stack the
 * core allocated for it. It calls rumkv_secondary_main(MPIDR_EL1).
 */
    .globl rumkv_secondary_start
rumkv_secondary_start:
    msr     daifset, #0xf
    msr     spsel, #1
    adrp    x2, rumkv_vectors_el2
    add     x2, x2, :lo12:rumkv_vectors_el2
    msr     vbar_el2, x2
    isb
    bl      rumkv_mmu_on_el2        /* the boot CPU built the table */
    mov     sp, x0
    mrs     x0, mpidr_el1
    bl      rumkv_secondary_main
6:  wfi
    b       6b

/* Identity-map block descriptors (Arm ARM D8.3): valid block, AF, and
 * AttrIndx 1 (MAIR attr1 = 0x44, Normal Inner/Outer Non-cacheable) with
 * SH = inner, or AttrIndx 0 (attr0 = 0x00, Device-nGnRnE) with XN (bit 54:
 * XN at EL2, UXN at EL1). AP = 00: read/write at the translation regime's EL. */
#define PT_NORMAL   0x705
#define PT_DEVICE   0x401
#define MAIR_VALUE  0x4400
/* TCR_EL2: RES1 bits 31 and 23, PS = 2 (40 bits), TG0 = 4 KiB, walks
 * non-cacheable, T0SZ = 25 (39-bit VA: the walk starts at level 1). */
#define TCR_EL2_LO  0x0019
#define TCR_EL2_HI  0x8082
/* TCR_EL1: IPS = 2 (bits 34:32), TG1 = 4 KiB, EPD1 (no TTBR1 walks), T0SZ = 25. */
#define TCR_EL1_LO  0x0019
#define TCR_EL1_HI  0x8080
#define TCR_EL1_IPS 0x2

/* Fills __page_table (boot CPU, MMU still off). Clobbers x2-x5. */
rumkv_page_table_build:
    adrp    x2, __page_table
    add     x2, x2, :lo12:__page_table
    mov     x3, #0
1:  lsl     x4, x3, #30
    cbz     x3, 2f
    cmp     x3, #256
    b.hs    2f
    mov     x5, #PT_NORMAL
    b       3f
2:  mov     x5, #PT_DEVICE
    orr     x5, x5, #(1 << 54)
3:  orr     x4, x4, x5
    str     x4, [x2, x3, lsl #3]
    add     x3, x3, #1
    cmp     x3, #512
    b.lo    1b
    dsb     sy
    ret

/* MMU on at EL2 with __page_table. Clobbers x2. */
    .globl  rumkv_mmu_on_el2
rumkv_mmu_on_el2:
    mov     x2, #MAIR_VALUE
    msr     mair_el2, x2
    movz    x2, #TCR_EL2_LO
    movk    x2, #TCR_EL2_HI, lsl #16
    msr     tcr_el2, x2
    adrp    x2, __page_table
    add     x2, x2, :lo12:__page_table
    msr     ttbr0_el2, x2
    isb
    tlbi    alle2
    dsb     sy
    isb
    mrs     x2, sctlr_el2
    orr     x2, x2, #1              /* M */
    bic     x2, x2, #2              /* A: no alignment checks */
    msr     sctlr_el2, x2
    isb
    ret

/* The same at EL1 (a CPU started without EL2: the refusal path). */
rumkv_mmu_on_el1:
    mov     x2, #MAIR_VALUE
    msr     mair_el1, x2
    movz    x2, #TCR_EL1_LO
    movk    x2, #TCR_EL1_HI, lsl #16
    movk    x2, #TCR_EL1_IPS, lsl #32
    msr     tcr_el1, x2
    adrp    x2, __page_table
    add     x2, x2, :lo12:__page_table
    msr     ttbr0_el1, x2
    isb
    tlbi    vmalle1
    dsb     sy
    isb
    mrs     x2, sctlr_el1
    orr     x2, x2, #1
    bic     x2, x2, #2
    msr     sctlr_el1, x2
    isb
    ret
