// SPDX-License-Identifier: GPL-2.0-or-later
/* The report sender's pure parts: machine identity from a fake sysfs, run ids, the jitter, and
 * the events file (no collector: the HTTP side is in tests/system/test_report.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flash/report.h"
#include "tests.h"

static void put(const char *dir, const char *name, const char *addr)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/address", dir, name);
	f = fopen(p, "w");
	fputs(addr, f);
	fclose(f);
}

TEST(identity)
{
	char dir[] = "/tmp/test-report-XXXXXX", buf[1024];

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	put(dir, "lo", "00:00:00:00:00:00\n");
	put(dir, "eth1", "52:54:00:00:00:02\n");
	put(dir, "eth0", "52:54:00:12:34:56\n");
	put(dir, "sit0", "00:00:00:00\n"); /* not a MAC */
	put(dir, "wg0", "\n");
	report_identity_json(dir, "web-\"01\"", "3d12", "S123", buf, sizeof(buf));
	ASSERT_STREQ(buf, "\"hostname\":\"web-\\\"01\\\"\",\"machine_id\":\"3d12\","
			  "\"macs\":[\"52:54:00:12:34:56\",\"52:54:00:00:00:02\"],\"serial\":\"S123\"");
	report_identity_json("/nonexistent", NULL, NULL, "", buf, sizeof(buf));
	ASSERT_STREQ(buf, "\"hostname\":null,\"machine_id\":null,\"macs\":[],\"serial\":null");
	/* a short buffer stays NUL-terminated */
	ASSERT_TRUE(report_identity_json(dir, "h", "m", "s", buf, 10) > 10);
	ASSERT_EQ(strlen(buf), 9);
	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	ASSERT_EQ(system(buf), 0);
}

TEST(run_id)
{
	char a[40], b[40];

	report_new_run_id(a, sizeof(a));
	report_new_run_id(b, sizeof(b));
	ASSERT_EQ(strlen(a), 36);
	ASSERT_TRUE(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	ASSERT_TRUE(a[14] == '4');
	ASSERT_TRUE(strchr("89ab", a[19]) != NULL);
	ASSERT_TRUE(strcmp(a, b) != 0);
}

TEST(jitter)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	ASSERT_EQ(report_jitter_ms(0), 0);
	for (int i = 0; i < 2000; i++) {
		uint64_t v = report_jitter_ms(1000);
		ASSERT_TRUE(v <= 1000);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* spread over the whole range, not a constant */
	ASSERT_TRUE(lo < 100 && hi > 900);
}

TEST(events_file)
{
	char path[] = "/tmp/test-report-events-XXXXXX", line[4096];
	struct report_config c = { .origin = "flasher", .run_id = "r-1", .hostname = "h",
				   .machine_id = "m", .serial = "S", .events_file = path };
	struct report *r = NULL;
	FILE *f;
	int fd = mkstemp(path), n = 0;

	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(report_new(&c, &r), 0);
	report_event(r, "started", "\"src\":%s", "\"http://h/i\"");
	report_event(r, "progress", "\"in\":%d", 5);
	report_event(r, "done", NULL);
	ASSERT_EQ(report_flush(r, 1000), 0); /* no URL: nothing to wait for */
	report_free(r);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		n++;
		ASSERT_TRUE(strncmp(line, "{\"schema\":1,\"run\":\"r-1\",\"seq\":", 29) == 0);
		ASSERT_TRUE(strstr(line, "\"origin\":\"flasher\"") != NULL);
		ASSERT_TRUE(strstr(line, "\"hostname\":\"h\",\"machine_id\":\"m\",\"macs\":[") != NULL);
		ASSERT_TRUE(line[strlen(line) - 2] == '}');
	}
	fclose(f);
	ASSERT_EQ(n, 3);
	unlink(path);
	ASSERT_EQ(report_new(&(struct report_config){ .url = "ftp://x/" }, &r), -EINVAL);
}

RUN(T(identity), T(run_id), T(jitter), T(events_file))
