// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the bundle format (trailer, meta, bzImage header) and the verified reader. */
#include <sys/mman.h>
#include <unistd.h>

#include "bundle/reader.h"
#include "crypto/digest.h"
#include "format/bundle.h"
#include "tests.h"

/* a small file: 100 bytes of "loader", then the five sections back to back */
static const char *const sect[] = { "KERNEL-BYTES", "INITRD-BYTES-LONGER",
				    "dst = /dev/vda\ndst-serial = S1\nsecrets = no\n",
				    "plan text\n", "quiet" };
#define LOADER 100

static void upd(void *ctx, const uint8_t *b, size_t n)
{
	digest_update(ctx, b, n);
}

static void fin(void *ctx, uint8_t out[32])
{
	digest_final(ctx, out, 32);
}

/* Build the file into buf; returns its size. */
static size_t make_bundle(uint8_t *buf, struct bundle_trailer *t)
{
	struct digest *d;
	size_t o = LOADER;

	memset(t, 0, sizeof(*t));
	memset(buf, 0x7f, LOADER);
	t->loader_size = LOADER;
	for (int s = 0; s < _BUNDLE_SECTION_MAX; s++) {
		t->offset[s] = o;
		t->length[s] = strlen(sect[s]);
		memcpy(buf + o, sect[s], strlen(sect[s]));
		o += strlen(sect[s]);
	}
	t->file_size = o + BUNDLE_TRAILER_SIZE;
	bundle_trailer_write(t, buf + o);
	ASSERT_EQ(digest_new_sha256(&d), 0);
	digest_update(d, buf, o + BUNDLE_DIGEST_OFFSET);
	digest_final(d, t->sha256, 32);
	digest_free(d);
	bundle_trailer_write(t, buf + o);
	return o + BUNDLE_TRAILER_SIZE;
}

static int read_buf(const uint8_t *buf, size_t len, struct bundle_contents *c, char *kernel,
		    char *why, size_t whylen)
{
	int fd = memfd_create("t", 0), kfd = memfd_create("k", 0), ifd = memfd_create("i", 0);
	struct digest *d;
	struct bundle_hash h = { NULL, upd, fin };
	int r;

	ASSERT_TRUE(fd >= 0 && kfd >= 0 && ifd >= 0);
	ASSERT_EQ(write(fd, buf, len), (ssize_t)len);
	ASSERT_EQ(digest_new_sha256(&d), 0);
	h.ctx = d;
	r = bundle_read(fd, &h, kfd, ifd, c, why, whylen);
	if (r == 0 && kernel) {
		ssize_t n = pread(kfd, kernel, 64, 0);
		kernel[n > 0 ? n : 0] = 0;
	}
	digest_free(d);
	close(fd);
	close(kfd);
	close(ifd);
	return r;
}

TEST(trailer_round_trip)
{
	uint8_t buf[1024], *tail;
	struct bundle_trailer t, u;
	size_t len = make_bundle(buf, &t);

	tail = buf + len - BUNDLE_TRAILER_SIZE;
	ASSERT_EQ(bundle_trailer_parse(tail, BUNDLE_TRAILER_SIZE, len, &u), 0);
	ASSERT_EQ(u.file_size, len);
	ASSERT_EQ(u.loader_size, LOADER);
	ASSERT_EQ(u.offset[BUNDLE_INITRD], LOADER + strlen(sect[0]));
	ASSERT_EQ(u.length[BUNDLE_CMDLINE], 5);
	ASSERT_TRUE(memcmp(u.sha256, t.sha256, 32) == 0);
	ASSERT_STREQ(bundle_section_name(BUNDLE_META), "meta");
}

TEST(trailer_refusals)
{
	uint8_t buf[1024], bad[BUNDLE_TRAILER_SIZE];
	struct bundle_trailer t, u;
	size_t len = make_bundle(buf, &t);
	const uint8_t *tail = buf + len - BUNDLE_TRAILER_SIZE;

	/* not a bundle, short input, another version */
	ASSERT_EQ(bundle_trailer_parse(tail, 10, len, &u), -ENOMSG);
	memcpy(bad, tail, sizeof(bad));
	bad[159] ^= 1;
	ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -ENOMSG);
	memcpy(bad, tail, sizeof(bad));
	bad[148] = 2;
	ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EPROTONOSUPPORT);
	memcpy(bad, tail, sizeof(bad));
	bad[144] = 161;
	ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
	/* the file is shorter / longer than recorded */
	ASSERT_EQ(bundle_trailer_parse(tail, BUNDLE_TRAILER_SIZE, len - 1, &u), -EIO);
	ASSERT_EQ(bundle_trailer_parse(tail, BUNDLE_TRAILER_SIZE, len + 1, &u), -EBADMSG);
	/* reserved bytes */
	memcpy(bad, tail, sizeof(bad));
	bad[100] = 1;
	ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
	/* a section past the end, overflowing, overlapping, out of order, empty kernel */
	{
		struct bundle_trailer w = t;
		w.length[BUNDLE_CMDLINE] = 1000;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
		w = t;
		w.offset[BUNDLE_INFO] = UINT64_MAX - 2;
		w.length[BUNDLE_INFO] = 10;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
		w = t;
		w.offset[BUNDLE_INITRD] -= 1;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
		w = t;
		w.length[BUNDLE_KERNEL] = 0;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
		w = t;
		w.loader_size = 10;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
		w = t;
		w.length[BUNDLE_CMDLINE] = BUNDLE_CMDLINE_MAX + 1;
		bundle_trailer_write(&w, bad);
		ASSERT_EQ(bundle_trailer_parse(bad, sizeof(bad), len, &u), -EBADMSG);
	}
}

TEST(meta)
{
	struct bundle_meta m = { 0 }, n;
	char buf[1024];
	int l;

	snprintf(m.kernel_version, sizeof(m.kernel_version), "6.1.0-1-amd64");
	snprintf(m.dst, sizeof(m.dst), "/dev/nvme0n1");
	snprintf(m.dst_serial, sizeof(m.dst_serial), "S N 1");
	m.dst_size = 512ULL << 20;
	m.secrets = true;
	l = bundle_meta_format(&m, buf, sizeof(buf));
	ASSERT_TRUE(l > 0);
	ASSERT_EQ(bundle_meta_parse(buf, (size_t)l, &n), 0);
	ASSERT_STREQ(n.dst, "/dev/nvme0n1");
	ASSERT_STREQ(n.dst_serial, "S N 1");
	ASSERT_STREQ(n.kernel_version, "6.1.0-1-amd64");
	ASSERT_EQ(n.dst_size, 512ULL << 20);
	ASSERT_TRUE(n.secrets);
	ASSERT_EQ(bundle_meta_format(&m, buf, 20), -ENOBUFS);
#define BAD(s) ASSERT_EQ(bundle_meta_parse(s, strlen(s), &n), -EBADMSG)
	BAD("");
	BAD("kernel-version = 6\n");			  /* no dst */
	BAD("dst = vda\n");				  /* not /dev/ */
	BAD("dst = /dev/vda\ndst = /dev/vdb\n");	  /* repeated */
	BAD("dst = /dev/vda\ncolour = blue\n");		  /* unknown */
	BAD("dst = /dev/vda\ndst-size = 12x\n");	  /* number */
	BAD("dst = /dev/vda\nsecrets = maybe\n");	  /* yes/no */
	BAD("dst = /dev/v\x01" "da\n");			  /* control character */
	BAD("dst /dev/vda\n");				  /* no '=' */
#undef BAD
	ASSERT_EQ(bundle_meta_parse("# c\n\n dst\t= /dev/vda \n", 21, &n), 0);
	ASSERT_STREQ(n.dst, "/dev/vda");
	ASSERT_EQ(bundle_meta_parse("dst = /dev/vda\0x", 16, &n), -EBADMSG);
}

TEST(kernel_probe)
{
	static uint8_t k[4096];
	char v[64];

	memset(k, 0, sizeof(k));
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, sizeof(v)), -ENOEXEC);
	k[0x1fe] = 0x55, k[0x1ff] = 0xaa;
	memcpy(k + 0x202, "HdrS", 4);
	k[0x1f1] = 4;		   /* setup sectors */
	k[0x206] = 0x0f, k[0x207] = 0x02; /* protocol 2.15 */
	k[0x236] = 3;		   /* 64-bit, above 4G */
	k[0x20e] = 0x00, k[0x20f] = 0x02; /* version string at 0x400 */
	memcpy(k + 0x400, "6.1.0-56-cloud-amd64 (debian) #1 SMP", 36);
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, sizeof(v)), 0);
	ASSERT_STREQ(v, "6.1.0-56-cloud-amd64");
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, 8), -EBADMSG); /* does not fit */
	k[0x20f] = 0x0a;					     /* beyond the setup sectors */
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, sizeof(v)), -EBADMSG);
	k[0x20f] = 0x02;
	k[0x236] = 1; /* not loadable above 4 GiB */
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, sizeof(v)), -EPROTONOSUPPORT);
	k[0x236] = 3;
	k[0x206] = 0x0b; /* protocol 2.11 */
	ASSERT_EQ(bundle_kernel_probe(k, sizeof(k), v, sizeof(v)), -EPROTONOSUPPORT);
	ASSERT_EQ(bundle_kernel_probe(k, 100, v, sizeof(v)), -ENOEXEC);
}

TEST(reader_reads_and_verifies)
{
	uint8_t buf[1024];
	struct bundle_trailer t;
	struct bundle_contents c;
	char why[512], kernel[80];
	size_t len = make_bundle(buf, &t);

	ASSERT_EQ(read_buf(buf, len, &c, kernel, why, sizeof(why)), 0);
	ASSERT_STREQ(kernel, "KERNEL-BYTES");
	ASSERT_STREQ(c.info, "plan text\n");
	ASSERT_STREQ(c.cmdline, "quiet");
	ASSERT_STREQ(c.meta.dst, "/dev/vda");
	ASSERT_STREQ(c.meta.dst_serial, "S1");
	bundle_contents_done(&c);
}

TEST(reader_detects_every_changed_byte)
{
	uint8_t buf[1024];
	struct bundle_trailer t;
	struct bundle_contents c;
	char why[512];
	size_t len = make_bundle(buf, &t);

	/* any flipped byte, in the loader, a section or the trailer, fails the read */
	for (size_t i = 0; i < len; i++) {
		int r;
		buf[i] ^= 0x20;
		r = read_buf(buf, len, &c, NULL, why, sizeof(why));
		if (r == 0) {
			fprintf(stderr, "byte %zu changed and not noticed\n", i);
			exit(1);
		}
		ASSERT_TRUE(r == -EBADMSG || r == -ENOMSG || r == -EPROTONOSUPPORT || r == -EIO);
		buf[i] ^= 0x20;
	}
	/* cut short, or with bytes added at the end */
	ASSERT_EQ(read_buf(buf, len - 1, &c, NULL, why, sizeof(why)), -ENOMSG);
	ASSERT_TRUE(strstr(why, "cut short") != NULL);
	buf[len] = 0;
	ASSERT_EQ(read_buf(buf, len + 1, &c, NULL, why, sizeof(why)), -ENOMSG);
	ASSERT_EQ(read_buf(buf, 50, &c, NULL, why, sizeof(why)), -ENOMSG);
	/* the digest names the corruption */
	buf[LOADER + 2] ^= 1;
	ASSERT_EQ(read_buf(buf, len, &c, NULL, why, sizeof(why)), -EBADMSG);
	ASSERT_TRUE(strstr(why, "corrupted") != NULL);
}

RUN(T(trailer_round_trip), T(trailer_refusals), T(meta), T(kernel_probe),
    T(reader_reads_and_verifies), T(reader_detects_every_changed_byte))
