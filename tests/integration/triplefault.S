/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A "kernel" that triple-faults on purpose: ember loads it as a 64-bit ELF
 * (no PVH note) at 16 MiB and jumps to _start in long mode.  Loading an IDT
 * with limit 0 makes the next exception undeliverable: #UD -> #GP (vector
 * beyond the IDT limit) -> #DF -> shutdown.  ember must report the triple
 * fault and exit non-zero instead of hanging or spinning.
 */
	.text
	.code64
	.globl _start
_start:
	lidt	empty_idt(%rip)
	ud2
	/* Not reached; keep the CPU busy rather than running off the end. */
1:	hlt
	jmp	1b

	.section .rodata
	.balign 16
empty_idt:
	.word	0		/* limit */
	.quad	0		/* base */

	.section .note.GNU-stack, "", @progbits
