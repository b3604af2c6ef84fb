// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the systemd hand-over of src/kexec/kexec.c (kexec_exec_systemctl), with
 * stand-in systemctl scripts (never the real one): the shutdown that `systemctl kexec` starts
 * sends SIGTERM to us and to systemctl, and neither may be taken for a failure (the caller
 * would unload the flasher, and the machine would reboot into its old system); a systemctl
 * that fails on its own is one. */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kexec/kexec.h"
#include "tests.h"

static char dir[] = "/tmp/reimage-test-kexec-exec-XXXXXX";
static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* a caught SIGTERM without SA_RESTART, as reimage go and the bundle loader have */
static void catch_term(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(sigaction(SIGTERM, &sa, NULL), 0);
	got_term = 0;
}

static const char *script(const char *name, const char *body)
{
	static char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	ASSERT_TRUE(f != NULL);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ASSERT_EQ(chmod(p, 0755), 0);
	return p;
}

TEST(success)
{
	char why[256] = "";

	ASSERT_EQ(kexec_exec_systemctl(script("ok", "[ \"$1\" = kexec ] || exit 9"), why,
				       sizeof(why)),
		  0);
}

TEST(our_sigterm_while_systemctl_runs)
{
	char why[256] = "";

	catch_term();
	/* the shutdown reaches us first; systemctl then exits 0 */
	ASSERT_EQ(kexec_exec_systemctl(script("term-parent", "kill -TERM $PPID; sleep 0.3; exit 0"),
				       why, sizeof(why)),
		  0);
	ASSERT_TRUE(got_term);
}

TEST(systemctl_stopped_by_the_shutdown)
{
	char why[256] = "";

	catch_term();
	ASSERT_EQ(kexec_exec_systemctl(script("term-both", "kill -TERM $PPID; kill -TERM $$; sleep 5"),
				       why, sizeof(why)),
		  0);
	ASSERT_EQ(kexec_exec_systemctl(script("hup", "kill -HUP $$; sleep 5"), why, sizeof(why)),
		  0);
}

TEST(failures)
{
	char why[256] = "";

	ASSERT_EQ(kexec_exec_systemctl(script("fail", "exit 3"), why, sizeof(why)), -EIO);
	ASSERT_STREQ(why, "systemctl kexec failed (exit status 3)");
	ASSERT_EQ(kexec_exec_systemctl(script("int", "kill -INT $$; sleep 5"), why, sizeof(why)),
		  -EIO);
	ASSERT_STREQ(why, "systemctl kexec was killed by signal 2");
	ASSERT_EQ(kexec_exec_systemctl("/nonexistent/systemctl", why, sizeof(why)), -EIO);
	ASSERT_STREQ(why, "systemctl kexec failed (exit status 127: systemctl not found)");
}

/* the stand-in scripts go, whatever the outcome: a failed assertion exits */
static void cleanup(void)
{
	const char *names[] = { "ok", "term-parent", "term-both", "hup", "fail", "int" };
	char p[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

TEST(setup)
{
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_EQ(atexit(cleanup), 0);
}

RUN(T(setup), T(success), T(our_sigterm_while_systemctl_runs), T(systemctl_stopped_by_the_shutdown),
    T(failures))
