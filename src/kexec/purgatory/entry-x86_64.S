/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The purgatory's entry on x86_64. The kernel's relocate_kernel returns here in 64-bit mode,
 * with interrupts off and every RAM page identity-mapped, after copying the segments into
 * place; its GDT may be gone with the old kernel. Load our own GDT with the selectors the
 * 64-bit boot protocol wants (__BOOT_CS 0x10, __BOOT_DS 0x18; Documentation/x86/boot.rst),
 * set up a stack, check the segments' SHA-256, then enter the kernel's 64-bit entry with %rsi
 * = boot_params. On a mismatch, halt: a corrupted kernel must not run. */
	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	leaq	stack_top(%rip), %rsp
	leaq	gdt(%rip), %rax
	movq	%rax, gdt_desc + 2(%rip)
	lgdt	gdt_desc(%rip)
	pushq	$0x10
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	call	purgatory_verify
	testl	%eax, %eax
	jnz	.Lmismatch
	leaq	purgatory_params(%rip), %rbx
	movq	16(%rbx), %rsi		/* boot_params */
	movq	8(%rbx), %rax		/* the kernel's 64-bit entry */
	xorl	%ebx, %ebx
	xorl	%ebp, %ebp
	xorl	%edi, %edi
	jmp	*%rax
.Lmismatch:
	hlt
	jmp	.Lmismatch

	.section .data.gdt, "aw"
	.balign	16
gdt:
	.quad	0
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x10: 64-bit code, ring 0 */
	.quad	0x00cf92000000ffff	/* 0x18: flat data */
gdt_end:
	.balign	16
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	0

	.section .data.stack, "aw"
	.balign	16
	.space	16384
stack_top:

	.section .note.GNU-stack, "", %progbits
