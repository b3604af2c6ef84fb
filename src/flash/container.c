// SPDX-License-Identifier: GPL-2.0-or-later
/* Container detection, the refusals by magic, and raw images. */
#include "flash/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/qcow2.h"
#include "format/tar.h"

#define ERR_MAX 1024

struct container {
	enum container_kind kind;
	const struct container_ops *ops;
	void *state;
	struct container_output out;
	uint64_t pos; /* raw: bytes seen */
	bool size_sent;
	char error[ERR_MAX];
};

const char *container_name(enum container_kind k)
{
	switch (k) {
	case CONTAINER_QCOW2: return "qcow2";
	case CONTAINER_TAR: return "tar";
	default: return "raw";
	}
}

static int refuse(char *why, size_t whylen, const char *format)
{
	snprintf(why, whylen,
		 "the image is %s, which reimage cannot write to a disk; convert it to a raw image "
		 "first: qemu-img convert -O raw IMAGE disk.img (then compress it, e.g. with zstd, "
		 "if you like)",
		 format);
	return -EPROTONOSUPPORT;
}

int container_detect(const uint8_t *b, size_t n, enum container_kind *ret, char *why,
		     size_t whylen)
{
	static const uint8_t vdi_sig[4] = { 0x7f, 0x10, 0xda, 0xbe };

	if (qcow2_has_magic(b, n)) {
		if (n >= 8 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 1)
			return refuse(why, whylen, "a qcow (version 1) image");
		*ret = CONTAINER_QCOW2;
		return 0;
	}
	if (n >= 4 && memcmp(b, "KDMV", 4) == 0)
		return refuse(why, whylen, "a VMDK (sparse extent) image");
	if (n >= 4 && memcmp(b, "COWD", 4) == 0)
		return refuse(why, whylen, "a VMDK (ESX COW) image");
	if (n >= 21 && memcmp(b, "# Disk DescriptorFile", 21) == 0)
		return refuse(why, whylen, "a VMDK descriptor");
	if (n >= 8 && memcmp(b, "vhdxfile", 8) == 0)
		return refuse(why, whylen, "a VHDX image");
	if (n >= 8 && memcmp(b, "conectix", 8) == 0)
		return refuse(why, whylen, "a VHD (dynamic or differencing) image");
	if (n >= 68 && memcmp(b + 64, vdi_sig, 4) == 0)
		return refuse(why, whylen, "a VirtualBox VDI image");
	if (n >= 4 && memcmp(b, "QED\0", 4) == 0)
		return refuse(why, whylen, "a QED image");
	if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) {
		snprintf(why, whylen,
			 "the image is a zip archive, which reimage cannot stream; unpack it "
			 "(unzip) and flash the disk image inside, or convert that with qemu-img "
			 "convert -O raw");
		return -EPROTONOSUPPORT;
	}
	if (tar_has_magic(b, n)) {
		*ret = CONTAINER_TAR;
		return 0;
	}
	*ret = CONTAINER_RAW;
	return 0;
}

int container_new(enum container_kind k, const struct container_options *o,
		  const struct container_output *out, const struct container_input *in,
		  struct container **ret)
{
	struct container *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->kind = k;
	c->out = *out;
	if (k == CONTAINER_QCOW2) {
		c->ops = &container_qcow2_ops;
		r = container_qcow2_new(out, in, c->error, sizeof(c->error), &c->state);
	} else if (k == CONTAINER_TAR) {
		c->ops = &container_tar_ops;
		r = container_tar_new(o, out, c->error, sizeof(c->error), &c->state);
	}
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void container_free(struct container *c)
{
	if (!c)
		return;
	if (c->ops && c->state)
		c->ops->free(c->state);
	free(c);
}

int container_feed(struct container *c, const uint8_t *buf, size_t n)
{
	int r;

	if (c->ops)
		return c->ops->feed(c->state, buf, n);
	if (n == 0)
		return 0;
	r = c->out.write(c->out.userdata, c->pos, buf, n);
	if (r < 0)
		return r;
	c->pos += n;
	return 0;
}

int container_finish(struct container *c, uint64_t *ret_size)
{
	if (c->ops)
		return c->ops->finish(c->state, ret_size);
	*ret_size = c->pos;
	return 0;
}

const char *container_error(const struct container *c)
{
	return c->error[0] ? c->error : "no error";
}
