/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flash pipeline: source → (SHA-256 of the published bytes) → decompress → (SHA-256 of the
 * image) → sink, one thread per stage, joined by bounded chunk queues. The image's first MiB
 * and what lands in the target's last MiB are held back and written only after every check
 * passed and the body is durable (fail closed; see flash/sink.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/exit-codes.h"
#include "flash/progress.h"
#include "format/minisign.h"
#include "flash/source.h"

#define FLASH_COMP_CHUNK (256U << 10)
#define FLASH_COMP_CHUNKS 16
#define FLASH_IMG_CHUNK (1U << 20)
#define FLASH_IMG_CHUNKS 16

/* Process exit codes: the flash pipeline's names for the shared table in basic/exit-codes.h
 * (documented in reimage(1)). An interrupted run reports 128 + the signal; the pipeline says
 * FLASH_EXIT_INTERRUPTED and the command turns it into that. */
enum flash_exit {
	FLASH_EXIT_OK = EXIT_OK,
	FLASH_EXIT_INTERNAL = EXIT_FAILED,
	FLASH_EXIT_USAGE = EXIT_USAGE,
	FLASH_EXIT_SOURCE = EXIT_SOURCE,
	FLASH_EXIT_VERIFY = EXIT_VERIFY,
	FLASH_EXIT_DATA = EXIT_DATA,
	FLASH_EXIT_TARGET = EXIT_TARGET,
	FLASH_EXIT_WRITE = EXIT_WRITE,
	FLASH_EXIT_SIGNAL_BASE = EXIT_SIGNAL_BASE, /* interrupted by signal N: 128 + N */
	FLASH_EXIT_INTERRUPTED = EXIT_SIGNAL_BASE + 2, /* SIGINT */
};

struct flash_options {
	const char *src; /* URL, path or "-" */
	const char *dst; /* block device or file */
	const char *member; /* tar: the member that holds the disk image; NULL: the only one */
	char *const *headers;
	size_t n_headers;

	bool have_sha256; /* of the bytes as published */
	uint8_t sha256[32];
	char sha256_origin[256]; /* "--sha256" or "SHA256SUMS entry for NAME" */
	bool have_minisig;	 /* a minisign signature of the bytes as published */
	struct minisign_pubkey minisign_key;
	struct minisign_sig minisign_sig;
	bool have_image_sha256;	 /* of the decompressed image */
	uint8_t image_sha256[32];
	bool verify; /* read back and compare */

	unsigned retries;
	uint64_t retry_for_ms;
	uint64_t connect_timeout_ms;
	uint64_t stall_timeout_ms;
	uint64_t low_speed;
	struct source_tls tls; /* for SRC and a --sums URL */

	/* called once, just before the target is first changed (the flasher records the write
	 * there, so that its PID 1 can zero the ends if the writing process dies) */
	void (*on_touch)(void *userdata);
	void *on_touch_userdata;
};

struct flash_result {
	int exit_code;	    /* enum flash_exit */
	int error;	    /* negative errno of the first failure, 0 on success */
	char message[2048]; /* what failed and what happened to the target */
	uint64_t in, out, written, zeroed;
	bool touched; /* the target was changed (and, on failure, its ends zeroed) */
	char format[16];
};

/* Run the whole job. Returns 0 on success or the negative errno of the first failure; in both
 * cases res is filled. *interrupted (set by a signal handler to the signal's number) stops the
 * run as a failure with exit code 128 + that number. SIGPIPE is blocked in the pipeline's own
 * threads (a server closing a TLS connection must not end the run; libcurl retries). */
int flash_run(const struct flash_options *o, struct progress *p, const volatile int *interrupted,
	      struct flash_result *res);
