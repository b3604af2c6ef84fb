// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the mountinfo and swaps line parsers. */
#include <errno.h>

#include "format/mountinfo.h"
#include "tests.h"

#define S(x) x, strlen(x)

TEST(mountinfo)
{
	struct mountinfo_entry e;
	ASSERT_EQ(mountinfo_line_parse(
			  S("36 35 98:0 /mnt1 /mnt/parent\\040dir rw,noatime master:1 - ext3 "
			    "/dev/root rw,errors=continue\n"),
			  &e),
		  0);
	ASSERT_EQ(e.major, 98);
	ASSERT_EQ(e.minor, 0);
	ASSERT_STREQ(e.mount_point, "/mnt/parent dir");
	ASSERT_STREQ(e.source, "/dev/root");
	ASSERT_EQ(mountinfo_line_parse(S("22 1 0:21 / /proc rw - proc proc rw"), &e), 0);
	ASSERT_EQ(e.major, 0);
	ASSERT_STREQ(e.source, "proc");
	/* no separator */
	ASSERT_EQ(mountinfo_line_parse(S("22 1 0:21 / /proc rw proc proc rw"), &e), -EBADMSG);
	ASSERT_EQ(mountinfo_line_parse(S("22 1 021 / /proc rw - proc proc rw"), &e), -EBADMSG);
	ASSERT_EQ(mountinfo_line_parse(S("22 1 a:1 / /proc rw - proc proc rw"), &e), -EBADMSG);
	ASSERT_EQ(mountinfo_line_parse(S(""), &e), -EBADMSG);
	ASSERT_EQ(mountinfo_line_parse(S("22 1 0:21 / /p\\000x rw - proc proc rw"), &e), -EBADMSG);
}

TEST(swaps)
{
	char b[64];
	ASSERT_EQ(swaps_line_parse(S("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"), b,
				   sizeof(b)),
		  -ENODATA);
	ASSERT_EQ(swaps_line_parse(S("/dev/vda3                               partition\t1000\t0\t-2\n"),
				   b, sizeof(b)),
		  0);
	ASSERT_STREQ(b, "/dev/vda3");
	ASSERT_EQ(swaps_line_parse(S("/swap\\040file file 1 0 -2\n"), b, sizeof(b)), 0);
	ASSERT_STREQ(b, "/swap file");
	ASSERT_EQ(swaps_line_parse(S("   \n"), b, sizeof(b)), -EBADMSG);
}

RUN(T(mountinfo), T(swaps))
