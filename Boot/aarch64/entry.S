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
    adrp    x2, __boot_stack_top
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
    mov     sp, x0
    mrs     x0, mpidr_el1
    bl      rumkv_secondary_main
6:  wfi
    b       6b
