/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container layer, between decompression and the sink: it sees the (decompressed) image
 * stream in order and maps it to disk offsets. raw maps byte for byte; qcow2 scatters its
 * clusters and leaves zero runs for the rest; tar picks one member (expanding GNU sparse maps).
 * Formats that cannot be written are refused by magic before anything is written (VMDK, VHD,
 * VHDX, VDI, QED, qcow version 1, zip), naming the format and `qemu-img convert -O raw`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum container_kind {
	CONTAINER_RAW,
	CONTAINER_QCOW2,
	CONTAINER_TAR,
};

/* How many first bytes container_detect wants (fewer at the end of a short stream is fine). */
#define CONTAINER_DETECT_SIZE 4096U

/* Where the disk image goes. Each guest byte range is written or zeroed at most once, at any
 * offset, in any order (qcow2 clusters come in file order). */
struct container_output {
	void *userdata;
	/* The disk image's size, as soon as it is known and before any write or zero. */
	int (*size)(void *userdata, uint64_t size);
	int (*write)(void *userdata, uint64_t off, const uint8_t *buf, size_t len);
	/* [off, off+len) must read back as zeros. */
	int (*zero)(void *userdata, uint64_t off, uint64_t len);
};

/* Random access to the published file (a file, or an http(s) URL through Range requests), when
 * the stream is the file itself (not compressed around the container). Reads exactly len bytes
 * at off: 0, -EIO when the file is shorter, or another -errno with a message in why. */
struct container_input {
	void *userdata;
	int (*read_at)(void *userdata, uint64_t off, uint8_t *buf, size_t len, char *why,
		       size_t whylen);
};

struct container_options {
	const char *member; /* tar: the member to write; NULL: the only regular file */
};

struct container;

/* Look at the first bytes of the image stream. Returns 0 with *ret set, or -EPROTONOSUPPORT
 * with why naming a format that cannot be written and how to convert it. */
int container_detect(const uint8_t *buf, size_t n, enum container_kind *ret, char *why,
		     size_t whylen);
const char *container_name(enum container_kind k);

/* input may be NULL (standard input, a compressed stream): qcow2 tables are then read from the
 * stream itself and must come before the data they map. 0 or -ENOMEM. */
int container_new(enum container_kind k, const struct container_options *o,
		  const struct container_output *out, const struct container_input *in,
		  struct container **ret);
void container_free(struct container *c);

/* The next n bytes of the stream. 0; -EBADMSG for corrupt or inconsistent data; -EPROTONOSUPPORT
 * for a layout or feature that cannot be streamed; -EFBIG over a memory cap; the output's or
 * input's negative return. container_error() says more. */
int container_feed(struct container *c, const uint8_t *buf, size_t n);

/* The stream ended. Writes what is still due (trailing zero runs) and sets the image size.
 * 0, -EPIPE (truncated), or as container_feed. */
int container_finish(struct container *c, uint64_t *ret_size);

const char *container_error(const struct container *c);

/* Per-format implementations (container-qcow2.c, container-tar.c). */
struct container_ops {
	int (*feed)(void *state, const uint8_t *buf, size_t n);
	int (*finish)(void *state, uint64_t *ret_size);
	void (*free)(void *state);
};
int container_qcow2_new(const struct container_output *out, const struct container_input *in,
			char *err, size_t errlen, void **ret);
extern const struct container_ops container_qcow2_ops;
int container_tar_new(const struct container_options *o, const struct container_output *out,
		      char *err, size_t errlen, void **ret);
extern const struct container_ops container_tar_ops;
