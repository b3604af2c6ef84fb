// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for opening files of a foreign file system (src/basic/open-util.c): a FIFO or a
 * device node is refused without being opened (a FIFO would block; alarm() turns a hang into a
 * failure), links stay inside the root, regular files read normally. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/open-util.h"
#include "tests.h"

static char root[] = "/tmp/reimage-test-open-XXXXXX";
static int root_fd = -1;

static void mk(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, name);
	f = fopen(p, "we");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "open_regular_in_root blocked (opened a FIFO?)\n";
	(void)!write(2, m, sizeof(m) - 1);
	_exit(1);
}

TEST(setup)
{
	char p[512];

	ASSERT_TRUE(mkdtemp(root) != NULL);
	mk("vmlinuz-real", "kernel bytes");
	snprintf(p, sizeof(p), "%s/vmlinuz", root);
	ASSERT_EQ(symlink("vmlinuz-real", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", root);
	ASSERT_EQ(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/null", root);
	ASSERT_EQ(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	snprintf(p, sizeof(p), "%s/escape", root);
	ASSERT_EQ(symlink("../../../../etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/dir", root);
	ASSERT_EQ(mkdir(p, 0755), 0);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(root_fd >= 0);
	signal(SIGALRM, on_alarm);
}

TEST(regular_file_through_a_link)
{
	char buf[64] = "";
	int fd = open_regular_in_root(root_fd, "/vmlinuz");

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(read(fd, buf, sizeof(buf) - 1), 12);
	ASSERT_STREQ(buf, "kernel bytes");
	ASSERT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
}

TEST(fifo_device_and_directory_refused)
{
	alarm(5);
	ASSERT_EQ(open_regular_in_root(root_fd, "/fifo"), -EBADFD);
	ASSERT_EQ(open_regular_in_root(root_fd, "null"), -EBADFD);
	ASSERT_EQ(open_regular_in_root(root_fd, "/dir"), -EBADFD);
	alarm(0);
}

TEST(links_stay_inside)
{
	/* ../ climbs no higher than the root: etc/hostname is looked up inside it */
	ASSERT_EQ(open_regular_in_root(root_fd, "escape"), -ENOENT);
	ASSERT_EQ(open_regular_in_root(root_fd, "missing"), -ENOENT);
}

TEST(cleanup)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ASSERT_EQ(system(cmd), 0);
}

RUN(T(setup), T(regular_file_through_a_link), T(fifo_device_and_directory_refused),
    T(links_stay_inside), T(cleanup))
