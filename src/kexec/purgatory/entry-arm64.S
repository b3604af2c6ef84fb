/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The purgatory's entry on arm64. The kernel's relocate_kernel jumps here with the MMU and
 * caches off after copying the segments into place; it passes nothing we need (for kexec_load
 * images it has no device tree address to give). Set up a stack, check the segments' SHA-256,
 * then enter the new kernel as Documentation/arm64/booting.rst asks: x0 = physical address of
 * the device tree, x1 = x2 = x3 = 0. On a mismatch, stop here: a corrupted kernel must not run,
 * and there is no console to say so this early (the kernel's own purgatory spins the same way). */
	.section .text.entry, "ax"
	.globl _start
_start:
	msr	daifset, #0xf		/* no interrupts until the new kernel wants them */
	adr	x9, stack_top
	mov	sp, x9
	bl	purgatory_verify
	cbnz	w0, .Lmismatch
	adrp	x9, purgatory_params
	add	x9, x9, :lo12:purgatory_params
	ldr	x10, [x9, #8]		/* kernel_entry */
	ldr	x0, [x9, #16]		/* dtb */
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x10
.Lmismatch:
	wfe
	b	.Lmismatch

	.section .data.stack, "aw"
	.balign	16
stack:
	.space	16384
stack_top:

	.section .note.GNU-stack, "", %progbits
