/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flash pipeline: source → (SHA-256 of the published bytes) → decompress → (SHA-256 of the
 * image) → sink, one thread per stage, joined by bounded chunk queues. The image's first MiB
 * and what lands in the target's last MiB are held back and written only after every check
 * passed and the body is durable (fail closed; see flash/sink.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash/progress.h"
#include "format/minisign.h"
#include "flash/source.h"

#define FLASH_COMP_CHUNK (256U << 10)
#define FLASH_COMP_CHUNKS 16
#define FLASH_IMG_CHUNK (1U << 20)
#define FLASH_IMG_CHUNKS 16

/* Process exit codes, documented in docs/reimage-flash.1.md. */
enum flash_exit {
	FLASH_EXIT_OK = 0,
	FLASH_EXIT_INTERNAL = 1,
	FLASH_EXIT_USAGE = 2,
	FLASH_EXIT_SOURCE = 3,
	FLASH_EXIT_VERIFY = 4,
	FLASH_EXIT_DATA = 5,
	FLASH_EXIT_TARGET = 6,
	FLASH_EXIT_WRITE = 7,
	FLASH_EXIT_SIGNAL_BASE = 128, /* interrupted by signal N: 128 + N, as a shell reports it */
	FLASH_EXIT_INTERRUPTED = 130, /* SIGINT */
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
