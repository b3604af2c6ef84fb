// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage status and reimage done: an operator's view of a holding flasher, and its way out. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "cmd/commands.h"
#include "cmd/json-out.h"
#include "init/boot-new.h"
#include "init/hold.h"
#include "init/write-state.h"

static const char not_flasher[] =
	"this is not a reimage flasher in hold mode (no " HOLD_INFO_FILE "): 'reimage done' ends "
	"the hold of a flasher started with 'reimage go --hold'; to restart this machine, use its "
	"own reboot or poweroff";

static void format_left(uint64_t ms, char *buf, size_t n)
{
	uint64_t s = (ms + 999) / 1000;
	if (s >= 60)
		snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, n, "%llus", (unsigned long long)s);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* The addresses as text lines, or (json) as an array of {"interface","address","prefix"}. */
static void print_addresses(struct json_out *json)
{
	struct ifaddrs *ifa = NULL;
	bool any = false;

	if (getifaddrs(&ifa) < 0) {
		if (json)
			json_out_str(json, "network_error", strerror(errno));
		else
			printf("  network:  cannot list the addresses: %s\n", strerror(errno));
		return;
	}
	if (json)
		json_out_array(json, "addresses");
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN] = "";
		unsigned prefix = 0;
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a,
				  sizeof(a));
			if (i->ifa_netmask)
				prefix = (unsigned)__builtin_popcount(
					((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr.s_addr);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a,
				  sizeof(a));
			if (i->ifa_netmask) {
				const uint8_t *m = ((struct sockaddr_in6 *)(void *)i->ifa_netmask)
							   ->sin6_addr.s6_addr;
				for (int b = 0; b < 16; b++)
					prefix += (unsigned)__builtin_popcount(m[b]);
			}
		} else
			continue;
		if (json) {
			json_out_object(json, NULL);
			json_out_str(json, "interface", i->ifa_name);
			json_out_str(json, "address", a);
			json_out_u64(json, "prefix", prefix);
			json_out_close(json);
		} else
			printf("  %-9s %s %s/%u\n", any ? "" : "network:", i->ifa_name, a, prefix);
		any = true;
	}
	if (json)
		json_out_close(json);
	else if (!any)
		printf("  network:  no addresses\n");
	freeifaddrs(ifa);
}

/* The events the worker recorded, as it recorded them (the reporter writes whole lines). */
static int status_json(void)
{
	_cleanup_fclose_ FILE *f = fopen(HOLD_EVENTS_FILE, "re");
	char buf[16384];
	size_t n;

	if (!f) {
		if (access(HOLD_STATUS_FILE, F_OK) < 0) {
			fprintf(stderr, "reimage status: error: not inside a reimage flasher (no %s)\n",
				HOLD_STATUS_FILE);
			return 1;
		}
		return 0; /* the flasher has not got as far as its first event */
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_status(int argc, char *argv[])
{
	_cleanup_fclose_ FILE *f = NULL;
	struct hold_info h;
	char line[1024], state[128] = "unknown", message[900] = "", dev[256] = "";
	pid_t wpid = 0;
	enum write_state wst = WRITE_TOUCHED;
	int r;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		return status_json();
	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			printf("Usage: reimage status [--json]\n\nInside a reimage flasher: what it is "
			       "doing, what was written, the hold\ntimeout, the SSH port and the network "
			       "addresses.\n\n"
			       "  --json   the run's events so far, one JSON object a line: the objects\n"
			       "           a --report collector receives (docs/fleet.md)\n"
			       "  -h, --help  -V, --version\n\nSee 'man reimage'.\n");
			return 0;
		}
		if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
			return command_version();
		fprintf(stderr, "reimage status: error: unknown argument '%s'; run 'reimage status "
				"--help'\n", argv[1]);
		return 2;
	}
	f = fopen(HOLD_STATUS_FILE, "re");
	if (!f) {
		fprintf(stderr, "reimage status: error: not inside a reimage flasher (no %s)\n",
			HOLD_STATUS_FILE);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "state=", 6))
			snprintf(state, sizeof(state), "%s", line + 6);
		else if (!strncmp(line, "message=", 8))
			snprintf(message, sizeof(message), "%s", line + 8);
	}
	r = hold_info_read(&h);
	printf("reimage flasher%s\n", r == 0 ? " (hold mode)" : "");
	printf("  state:    %s%s%s\n", state, message[0] ? ": " : "", message);
	if (write_state_last(dev, sizeof(dev), &wpid, &wst) > 0)
		printf("  written:  %s%s\n", dev,
		       wst == WRITE_VERIFIED ? " (written and verified)"
		       : wst == WRITE_FAILED ? " (the write failed; its first and last MiB are zeroed)"
		       : pid_alive(wpid) && (r < 0 || wpid != h.pid) ? " (being written now)"
		       : !strcmp(state, "writing")		   ? " (the job is writing it now)"
								   : " (touched, not finished)");
	else
		printf("  written:  nothing since the flasher started\n");
	if (r == 0) {
		char left[32];
		bool written = dev[0] && write_state_last(dev, sizeof(dev), NULL, NULL) > 0;
		if (!h.holding)
			printf("  timeout:  starts when the job ends\n");
		else if (written)
			printf("  timeout:  none: a disk was written, so the flasher waits for 'reimage "
			       "done'\n");
		else if (!h.deadline_ms)
			printf("  timeout:  none (hold-timeout 0)\n");
		else if (h.deadline_ms <= now_ms())
			printf("  timeout:  passed; the reboot into the old system waits until the SSH "
			       "sessions end\n");
		else {
			uint64_t now = now_ms();
			format_left(h.deadline_ms - now, left, sizeof(left));
			printf("  timeout:  reboots into the old system in %s unless a disk is written\n",
			       left);
		}
		printf("  ssh:      port %u, %d session%s\n", h.port, hold_ssh_sessions(),
		       hold_ssh_sessions() == 1 ? "" : "s");
	}
	print_addresses(NULL);
	if (r == 0)
		printf("  end it:   reimage done reboot|poweroff|kexec [/dev/DISK]\n");
	return 0;
}

static void done_help(void)
{
	printf("Usage: reimage done reboot|poweroff|kexec [/dev/DISK]\n"
	       "\n"
	       "Inside a reimage flasher in hold mode: end the hold. Syncs, then the flasher\n"
	       "reboots, powers off, or kexecs into the system on DISK (default: the disk last\n"
	       "written; if that fails, it reboots).\n"
	       "\n"
	       "  -h, --help  -V, --version\n"
	       "\n"
	       "See 'man reimage'.\n");
}

static int done_here(const char *action, const char *target)
{
	char err[512], dev[256] = "";

	fprintf(stderr, "reimage done: the flasher's holding process is gone; ending the hold "
			"from here\n");
	sync();
	if (!strcmp(action, "kexec")) {
		if (!target && write_state_last(dev, sizeof(dev), NULL, NULL) > 0)
			target = dev;
		if (target && hold_may_boot(target, err, sizeof(err)) < 0)
			fprintf(stderr, "reimage done: %s; rebooting instead\n", err);
		else if (target && boot_new_system(target, err, sizeof(err)) < 0)
			fprintf(stderr, "reimage done: kexec into the new system failed: %s; rebooting "
					"instead\n",
				err);
		else if (!target)
			fprintf(stderr, "reimage done: no disk was written and none was named; "
					"rebooting instead\n");
	}
	(void)reboot(!strcmp(action, "poweroff") ? RB_POWER_OFF : RB_AUTOBOOT);
	fprintf(stderr, "reimage done: error: reboot failed: %s\n", strerror(errno));
	return 1;
}

int cmd_done(int argc, char *argv[])
{
	struct hold_info h;
	char text[512], dev[256] = "";
	const char *action, *target = NULL;
	pid_t wpid = 0;
	enum write_state wst = WRITE_TOUCHED;
	FILE *f;
	int r;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		done_help();
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")))
		return command_version();
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "reimage done: error: expected reboot, poweroff or kexec [/dev/DISK]\n");
		return 2;
	}
	action = argv[1];
	if (strcmp(action, "reboot") && strcmp(action, "poweroff") && strcmp(action, "kexec")) {
		fprintf(stderr, "reimage done: error: unknown action '%s': expected reboot, poweroff "
				"or kexec [/dev/DISK]\n",
			action);
		return 2;
	}
	if (argc == 3) {
		struct stat st;
		target = argv[2];
		if (strcmp(action, "kexec") != 0) {
			fprintf(stderr, "reimage done: error: only 'kexec' takes a disk\n");
			return 2;
		}
		if (stat(target, &st) < 0 || !S_ISBLK(st.st_mode) || strchr(target, ' ')) {
			fprintf(stderr, "reimage done: error: %s is not a block device; name the disk "
					"that holds the new system, e.g. /dev/sda\n",
				target);
			return 2;
		}
	}
	r = hold_info_read(&h);
	if (r < 0) {
		fprintf(stderr, "reimage done: error: %s\n", not_flasher);
		return 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "reimage done: error: only root can end the hold\n");
		return 1;
	}
	if (!h.holding && pid_alive(h.pid)) {
		/* (a job whose process died never gets to hold: its PID 1 does; go on) */
		fprintf(stderr, "reimage done: error: the flasher's job is still running; wait until "
				"it holds ('reimage status' shows it)\n");
		return 1;
	}
	if (write_state_last(dev, sizeof(dev), &wpid, &wst) > 0 && wst == WRITE_TOUCHED &&
	    wpid != h.pid && wpid != getpid() && pid_alive(wpid)) {
		fprintf(stderr, "reimage done: error: reimage flash (pid %d) is still writing %s; "
				"wait for it to finish, or stop it (kill %d) first\n",
			(int)wpid, dev, (int)wpid);
		return 1;
	}
	if (!strcmp(action, "kexec")) {
		char why[512];
		const char *disk = target ? target : dev[0] ? dev : NULL;

		if (!disk) {
			fprintf(stderr, "reimage done: error: no disk was written in this flasher and "
					"none was named: nothing to kexec into; write one with 'reimage "
					"flash', or 'reimage done reboot'\n");
			return 1;
		}
		if (hold_may_boot(disk, why, sizeof(why)) < 0) {
			fprintf(stderr, "reimage done: error: %s\n", why);
			return 1;
		}
	}
	sync();
	snprintf(text, sizeof(text), "%s%s%s\n", action, target ? " " : "", target ? target : "");
	f = fopen(HOLD_REQUEST_FILE ".tmp", "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 ||
	    rename(HOLD_REQUEST_FILE ".tmp", HOLD_REQUEST_FILE) < 0) {
		fprintf(stderr, "reimage done: error: cannot write %s: %s\n", HOLD_REQUEST_FILE,
			strerror(errno));
		return 1;
	}
	if (kill(h.pid, SIGUSR1) < 0) {
		if (errno == ESRCH) {
			/* the holding process is gone (it crashed): nobody would act on the request,
			 * so do it here; we are root in the flasher */
			(void)unlink(HOLD_REQUEST_FILE);
			return done_here(action, target);
		}
		fprintf(stderr, "reimage done: warning: cannot wake the flasher (pid %d): %s; it "
				"sees the request within a second anyway\n",
			(int)h.pid, strerror(errno));
	}
	if (!strcmp(action, "kexec"))
		printf("reimage done: disks synced; the flasher starts the new system%s%s with kexec "
		       "now (or reboots if it cannot); this session ends\n",
		       target ? " on " : "", target ? target : "");
	else
		printf("reimage done: disks synced; the flasher %s now; this session ends\n",
		       !strcmp(action, "reboot") ? "reboots" : "powers off");
	fflush(stdout);
	return 0;
}
