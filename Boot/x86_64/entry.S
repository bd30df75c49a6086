/*
 * entry.S (x86_64) - first instructions of Rumkv: multiboot2 to long mode.
 *
 * GRUB loads this ELF by its multiboot2 header and enters _start in 32-bit
 * protected mode with paging off, interrupts masked, eax = 0x36D76289 and
 * ebx = physical address of the multiboot2 information (Multiboot2 spec 3.3,
 * "I386 machine state"); esp and the GDT are undefined. We zero .bss, check
 * for long mode, identity-map the low 4 GiB with 2 MiB pages, enable PAE,
 * EFER.LME and paging (SDM Vol. 3A 9.8.5 "Initializing IA-32e Mode"), jump to
 * the 64-bit code segment, install the IDT (vectors.S) and call
 * rumkv_main(magic, info) in Swift. The image is linked and run at its
 * physical address (2 MiB): virtual = physical, low half.
 */
#define MB2_HEADER_MAGIC    0xE85250D6
#define MB2_ARCH_I386       0
#define CR0_PE              0x00000001
#define CR0_WP              0x00010000
#define CR0_PG              0x80000000
#define CR4_PAE             0x20
#define MSR_EFER            0xC0000080
#define EFER_LME            0x100
#define PTE_P_RW            0x3
#define PDE_2M              0x83            /* present, writable, page size */
#define COM1                0x3F8

/* Multiboot2 header (spec 3.1): 8-byte aligned within the first 32 KiB. */
    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Module alignment tag (type 6, optional): page-align the guest bundle. */
    .short 6, 1
    .long 8
    /* End tag. */
    .short 0, 0
    .long 8
mb2_header_end:

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl    $__boot_stack_top, %esp
    movl    %eax, %esi                      /* multiboot2 magic */
    movl    %ebx, %ebp                      /* multiboot2 information */

    movl    $__bss_start, %edi              /* zero .bss (page tables, stacks, globals) */
    movl    $__bss_end, %ecx
    subl    %edi, %ecx
    shrl    $2, %ecx
    xorl    %eax, %eax
    rep stosl

    movl    $0x80000000, %eax               /* long mode: CPUID.80000001h:EDX[29] */
    cpuid
    cmpl    $0x80000001, %eax
    jb      no_long_mode
    movl    $0x80000001, %eax
    cpuid
    btl     $29, %edx
    jnc     no_long_mode

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    movl    $(boot_pdpt + PTE_P_RW), boot_pml4
    movl    $(boot_pd + PTE_P_RW), %eax
    movl    $boot_pdpt, %edi
    movl    $4, %ecx
1:  movl    %eax, (%edi)
    addl    $0x1000, %eax
    addl    $8, %edi
    loop    1b
    movl    $PDE_2M, %eax                   /* PD entry i maps [i * 2 MiB, +2 MiB) */
    movl    $boot_pd, %edi
    movl    $2048, %ecx
2:  movl    %eax, (%edi)
    addl    $0x200000, %eax
    addl    $8, %edi
    loop    2b

    movl    $boot_pml4, %eax
    movl    %eax, %cr3
    movl    %cr4, %eax
    orl     $CR4_PAE, %eax
    movl    %eax, %cr4
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $EFER_LME, %eax
    wrmsr
    movl    %cr0, %eax
    orl     $(CR0_PG | CR0_WP | CR0_PE), %eax
    movl    %eax, %cr0                      /* IA-32e mode active (compatibility) */
    lgdt    boot_gdt_ptr
    ljmp    $0x08, $long_mode

/* No long mode: say so on COM1 like Hypervisor.refuse, then power off. */
no_long_mode:
    movl    $uart_setup, %esi               /* COM1: 115200 8N1 (the BIOS may leave 5 bits) */
0:  movw    (%esi), %dx
    testw   %dx, %dx
    jz      2f
    movb    2(%esi), %al
    outb    %al, %dx
    addl    $4, %esi
    jmp     0b
2:  movl    $no_long_mode_msg, %esi
3:  movzbl  (%esi), %ebx
    testl   %ebx, %ebx
    jz      5f
    movw    $(COM1 + 5), %dx
4:  inb     %dx, %al
    testb   $0x20, %al                      /* LSR.THRE */
    jz      4b
    movw    $COM1, %dx
    movl    %ebx, %eax
    outb    %al, %dx
    incl    %esi
    jmp     3b
5:  movw    $(COM1 + 5), %dx                /* drain: LSR.THRE and LSR.TEMT */
    inb     %dx, %al
    andb    $0x60, %al
    cmpb    $0x60, %al
    jne     5b
    movl    $bochs_shutdown, %esi           /* Bochs: "Shutdown" to port 0x8900 */
    movw    $0x8900, %dx
6:  movb    (%esi), %al
    testb   %al, %al
    jz      7f
    outb    %al, %dx
    incl    %esi
    jmp     6b
7:  movw    $0x604, %dx                     /* QEMU ACPI PM1a_CNT: SLP_EN, S5 */
    movw    $0x2000, %ax
    outw    %ax, %dx
8:  cli
    hlt
    jmp     8b

    .code64
long_mode:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    xorl    %eax, %eax
    movw    %ax, %fs
    movw    %ax, %gs
    leaq    __boot_stack_top(%rip), %rsp
    movl    %esi, %r12d                     /* 32-bit moves clear the upper halves */
    movl    %ebp, %r13d
    call    x86_install_traps
    movl    %r12d, %edi
    movl    %r13d, %esi
    xorl    %ebp, %ebp
    call    rumkv_main
9:  cli
    hlt
    jmp     9b

/*
 * Secondary CPUs (application processors). The BSP copies the 16-bit
 * trampoline below to a free page under 1 MiB (X86_TRAMPOLINE_BASE, SIPI
 * vector 0x08) and sends INIT-SIPI-SIPI through its local APIC (Smp.swift).
 * The AP starts in real mode at CS:IP = 0x0800:0000 (SDM Vol. 3A 9.4.4,
 * "startup IPI"), loads the BSP's GDT, enables PAE, points CR3 at the boot
 * page tables, sets EFER.LME and then CR0.PE and CR0.PG together (Bochs and
 * the SDM's IA-32e activation rule only require PAE and LME before PG), and
 * far-jumps into 64-bit code in the image. There it takes the stack the BSP
 * left in x86_ap_stack_top, loads the shared TSS (clearing the busy bit the
 * BSP's ltr set) and IDT, and calls rumkv_secondary_main(x86_ap_index).
 * One AP starts at a time, so the two words are not contended.
 */
#define X86_TRAMPOLINE_BASE 0x8000
#define TRAMP(sym) (sym - x86_ap_trampoline + X86_TRAMPOLINE_BASE)

    .section .text.entry, "ax"
    .code16
    .globl  x86_ap_trampoline
x86_ap_trampoline:
    cli
    cld
    xorw    %ax, %ax
    movw    %ax, %ds
    lgdtl   TRAMP(ap_gdt_ptr)
    movl    %cr4, %eax
    orl     $CR4_PAE, %eax
    movl    %eax, %cr4
    movl    $boot_pml4, %eax
    movl    %eax, %cr3
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $EFER_LME, %eax
    wrmsr
    movl    $(CR0_PG | CR0_WP | CR0_PE | 0x30), %eax    /* + NE, ET; caches on (CD, NW clear) */
    movl    %eax, %cr0
    ljmpl   $0x08, $ap_long_mode
    .balign 8
ap_gdt_ptr:
    .short  boot_gdt_end - boot_gdt - 1
    .long   boot_gdt
    .globl  x86_ap_trampoline_end
x86_ap_trampoline_end:

    .code64
ap_long_mode:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    xorl    %eax, %eax
    movw    %ax, %fs
    movw    %ax, %gs
    movq    x86_ap_stack_top(%rip), %rsp
    andb    $0xFD, boot_gdt+0x1D(%rip)      /* TSS type 0xB (busy) -> 0x9 (available) */
    movw    $0x18, %ax
    ltr     %ax
    lidt    x86_idt_ptr(%rip)
    movq    x86_ap_index(%rip), %rdi
    xorl    %ebp, %ebp
    call    rumkv_secondary_main
10: cli
    hlt
    jmp     10b

    .section .rodata.entry, "a"
    .balign 4
uart_setup:                                 /* { port, value } pairs, as Uart.initialize */
    .short  COM1 + 1, 0x00, COM1 + 3, 0x80, COM1 + 0, 0x01, COM1 + 1, 0x00
    .short  COM1 + 3, 0x03, COM1 + 2, 0x07, COM1 + 4, 0x03, 0, 0
no_long_mode_msg:
    .asciz  "\r\nrumkv: cannot run: the CPU has no long mode (CPUID.80000001h:EDX.LM = 0)\r\nrumkv: powering off\r\n"
    .globl  bochs_shutdown
bochs_shutdown:
    .asciz  "Shutdown"

/* GDT (SDM Vol. 3A 3.4.5): null, 64-bit code, data, 64-bit TSS (16 bytes, vectors.S). */
    .section .data.entry, "aw"
    .balign 16
    .globl  boot_gdt
boot_gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF              /* 0x08: code, L = 1, DPL 0 */
    .quad   0x00CF92000000FFFF              /* 0x10: data, writable */
    .quad   0, 0                            /* 0x18: TSS, filled by x86_install_traps */
boot_gdt_end:
boot_gdt_ptr:
    .short  boot_gdt_end - boot_gdt - 1
    .quad   boot_gdt

/* Handed from the BSP to the AP it is starting (Smp.swift). */
    .balign 8
    .globl  x86_ap_stack_top, x86_ap_index
x86_ap_stack_top: .quad 0
x86_ap_index:     .quad 0

    .section .bss.entry, "aw", @nobits
    .balign 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
/* VMXON regions (SDM Vol. 3C 24.11.5), one per CPU (at most 8): 4 KiB
 * aligned, revision id written by Swift. */
    .globl  x86_vmxon_region
x86_vmxon_region: .skip 8 * 4096
/* VMX pages shared by every vCPU (VCPU.swift fills them at boot): I/O bitmaps
 * A and B (every port exits), the MSR bitmap (every MSR exits), and the
 * guest boot tables (GuestBootTables: page tables and GDT, mapped read-only
 * into every guest at the port window). */
    .balign 4096
    .globl  x86_vmx_io_bitmaps
x86_vmx_io_bitmaps: .skip 2 * 4096
    .globl  x86_vmx_msr_bitmap
x86_vmx_msr_bitmap: .skip 4096
    .globl  x86_guest_boot_pages
x86_guest_boot_pages: .skip 8 * 4096
