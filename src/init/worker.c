// SPDX-License-Identifier: GPL-2.0-or-later
/* The flasher's job, start to end. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "flash/pipeline.h"
#include "flash/progress.h"
#include "flash/report.h"
#include "flash/source.h"
#include "format/cmdline.h"
#include "format/job.h"
#include "format/json.h"
#include "format/url.h"
#include "init/boot-new.h"
#include "init/coldplug.h"
#include "init/configure.h"
#include "init/hold.h"
#include "init/init.h"
#include "init/network.h"
#include "init/target.h"
#include "init/watchdog.h"
#include "init/write-state.h"
#include "initrd/initrd.h"

#define JOB_PATH "/etc/reimage/job.conf"

/* The job file is read once, its buffer wiped and the file removed: secrets live only in the
 * parsed job from here on (and the kernel runs with init_on_free=1). */
static int load_job(struct job *j, char *err, size_t errlen)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r;

	r = read_full_file(JOB_PATH, JOB_MAX_SIZE, &text, &len);
	if (r >= 0) {
		r = job_parse((const char *)text, len, j, err, errlen);
		explicit_bzero(text, len);
		if (unlink(JOB_PATH) < 0)
			log_warning_errno(negative_errno(), "cannot remove %s: %m", JOB_PATH);
		if (r < 0)
			return r;
		log_info("job read from %s (and removed)", JOB_PATH);
		return 1;
	}
	if (r != -ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", JOB_PATH, strerror(-r));
		return r;
	}
	{
		_cleanup_free_ uint8_t *cmdline = NULL;
		r = read_full_file("/proc/cmdline", 65536, &cmdline, &len);
		if (r < 0) {
			snprintf(err, errlen, "cannot read /proc/cmdline: %s", strerror(-r));
			return r;
		}
		cmdline[strcspn((char *)cmdline, "\n")] = 0;
		r = job_from_cmdline((const char *)cmdline, j, err, errlen);
		if (r > 0)
			log_info("job read from the kernel command line");
		else if (r == 0)
			snprintf(err, errlen,
				 "no job: neither %s nor reimage.src= on the kernel command line",
				 JOB_PATH);
		return r;
	}
}

/* The events of this run: to the job's collector, and to HOLD_EVENTS_FILE for `reimage status
 * --json`. NULL until the drivers are loaded (the events carry the machine's MACs). */
static struct report *report;
static int give_up_exit; /* the exit code a "failed" event gives (enum flash_exit) */

static void report_start(const struct job *j, const char *shown)
{
	struct report_config c = {
		.url = j->report_url,
		.headers = j->report_headers,
		.n_headers = j->n_report_headers,
		.origin = "flasher",
		.run_id = j->report_run_id,
		.hostname = j->report_hostname,
		.machine_id = j->report_machine_id,
		.serial = j->dst_serial ? j->dst_serial : j->dst_wwn,
		.events_file = HOLD_EVENTS_FILE,
	};
	char src[4200], dst[1024];

	/* the collector's CA: its own, else the one the job has for the image server */
	c.tls.cacert_pem = j->report_cacert ? j->report_cacert : j->tls_cacert;
	c.tls.insecure = !j->report_cacert && j->tls_insecure;
	c.tls.client_cert_pem = j->tls_client_cert;
	c.tls.client_key_pem = j->tls_client_key;
	for (size_t i = 0; i < j->n_report_headers; i++) {
		const char *v = strchr(j->report_headers[i], ':');
		(void)log_add_secret(v ? v + 1 + strspn(v + 1, " \t") : j->report_headers[i]);
	}
	(void)mkdir(HOLD_RUN_DIR, 0755);
	if (report_new(&c, &report) < 0) {
		log_warning("cannot start the reports to the collector; the job goes on without them");
		report = NULL;
		return;
	}
	if (j->report_url) {
		char u[2048];
		url_redact(j->report_url, u, sizeof(u));
		log_info("reporting to %s", u);
	}
	json_quote(shown, src, sizeof(src));
	json_quote(j->dst ? j->dst : "", dst, sizeof(dst));
	report_event(report, "started", "\"src\":%s,\"dst\":%s,\"then\":\"%s\",\"hold\":%s",
		     j->src ? src : "null", j->dst ? dst : "null", job_then_to_string(j->then),
		     j->hold ? "true" : "false");
}

/* "network": the addresses in use and how they came (carried over from the old system, or
 * DHCP/SLAAC). */
static void report_network(const struct job *j)
{
	struct ifaddrs *ifa = NULL;
	char list[2048] = "", a[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 64];
	bool carried = false;
	size_t o = 0;

	if (!report || getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		const void *addr;
		int fam;

		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		fam = i->ifa_addr->sa_family;
		if (fam == AF_INET)
			addr = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (fam == AF_INET6) {
			addr = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)addr))
				continue;
		} else
			continue;
		inet_ntop(fam, addr, a, sizeof(a));
		for (size_t k = 0; k < j->n_addresses; k++)
			if (j->addresses[k].family == fam &&
			    !memcmp(j->addresses[k].addr, addr, fam == AF_INET ? 4 : 16))
				carried = true;
		snprintf(one, sizeof(one), "%s{\"interface\":\"%.16s\",\"address\":\"%s\"}",
			 o ? "," : "", i->ifa_name, a);
		if (o + strlen(one) + 1 < sizeof(list)) {
			memcpy(list + o, one, strlen(one) + 1);
			o += strlen(one);
		}
	}
	freeifaddrs(ifa);
	report_event(report, "network", "\"method\":\"%s\",\"addresses\":[%s]",
		     carried ? "carried" : "dhcp", list);
}

/* "done" or "failed", and what comes next; before a reboot or kexec the collector gets up to
 * REPORT_FLUSH_MS for the last events. */
static void report_end(int exit_code, const char *message, const char *next, bool flush)
{
	char clean[2048], reason[4200];

	if (!report)
		return;
	log_redact(message ? message : "", clean, sizeof(clean));
	json_quote(clean, reason, sizeof(reason));
	if (exit_code == 0)
		report_event(report, "done", "\"exit\":0,\"next\":\"%s\"", next);
	else
		report_event(report, "failed", "\"exit\":%d,\"reason\":%s,\"next\":\"%s\"",
			     exit_code, reason, next);
	if (flush && report_flush(report, REPORT_FLUSH_MS) < 0)
		log_warning("the collector did not take the last reports within %d s; going on",
			    REPORT_FLUSH_MS / 1000);
}

/* Stop here: in hold mode wait for the operator (SSH is up); else, when no disk was touched,
 * reboot into the untouched old system after the job's timeout; else hold for good (the disk's
 * ends are zeroed: it boots nothing). */
static _Noreturn void give_up(const struct job *j, const char *state, const char *message)
{
	bool reboots = !j->hold && write_state_last(NULL, 0, NULL, NULL) <= 0 &&
		       j->hold_timeout_ms > 0;

	/* a hold without a source waits for its operator: not a failure */
	if (strcmp(state, "holding") != 0)
		report_end(give_up_exit ? give_up_exit : 1, message,
			   reboots ? "reboot after the timeout" : "hold", false);
	if (j->hold)
		hold_wait(j, state, message);
	watchdog_stop();
	if (write_state_last(NULL, 0, NULL, NULL) <= 0 && j->hold_timeout_ms > 0)
		reboot_after(state, message, j->hold_timeout_ms);
	hold_forever(state, message);
}

/* The job's proxies (carried from the environment of `reimage go`, or --proxy) for libcurl,
 * and nothing else of the kind. */
static void proxy_apply(const struct job *j)
{
	static const char *const all[] = { "http_proxy", "https_proxy", "all_proxy", "no_proxy",
					   "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY" };
	char shown[512];

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		unsetenv(all[i]);
	if (j->http_proxy) {
		(void)url_foreach_secret(j->http_proxy, log_add_secret);
		setenv("http_proxy", j->http_proxy, 1);
		url_redact(j->http_proxy, shown, sizeof(shown));
		log_info("proxy for http: %s", shown);
	}
	if (j->https_proxy) {
		(void)url_foreach_secret(j->https_proxy, log_add_secret);
		setenv("https_proxy", j->https_proxy, 1);
		url_redact(j->https_proxy, shown, sizeof(shown));
		log_info("proxy for https: %s", shown);
	}
	if (j->no_proxy) {
		setenv("no_proxy", j->no_proxy, 1);
		log_info("no proxy for: %s", j->no_proxy);
	}
}

static void worker_touched(void *userdata)
{
	write_state_mark(userdata, WRITE_TOUCHED);
}

static void progress_to_status(void *userdata, const char *line)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s; %s", (const char *)userdata, line);
	status_write("writing", msg);
}

/* Write the job's image to target, with the job's attempts. The result of the last attempt. */
static int run_job(const struct job *j, const char *target, struct flash_result *res)
{
	struct progress p;
	char what[2400], shown[2048];
	int r = -EINVAL;

	progress_init(&p, PROGRESS_LINE, false);
	{
		/* the status file is readable in SSH sessions: no URL credentials in it */
		url_redact(j->src, shown, sizeof(shown));
		snprintf(what, sizeof(what), "%s to %s", shown, target);
	}
	p.on_line = progress_to_status;
	p.on_line_userdata = what;
	p.report = report;
	if (j->tls_insecure)
		log_warning("TLS certificate verification is OFF (the job says tls-insecure): anyone on "
			    "the network path can serve a forged image; only the digest and signature "
			    "checks protect it");
	for (unsigned attempt = 1; attempt <= j->attempts; attempt++) {
		struct flash_options o = {
			.src = j->src,
			.dst = target,
			.headers = j->headers,
			.n_headers = j->n_headers,
			.have_sha256 = j->have_sha256,
			.have_image_sha256 = j->have_image_sha256,
			.verify = j->verify,
			.member = j->member,
			.retries = j->retries,
			.retry_for_ms = j->retry_for_ms,
			.connect_timeout_ms = 30000,
			.stall_timeout_ms = 60000,
			.low_speed = 1024,
			/* recorded before the disk changes: PID 1 fails closed if we die */
			.on_touch = worker_touched,
			.on_touch_userdata = (void *)target,
		};

		o.tls = (struct source_tls){ .pin = j->tls_pin,
					     .insecure = j->tls_insecure,
					     .cacert_pem = j->tls_cacert,
					     .client_cert_pem = j->tls_client_cert,
					     .client_key_pem = j->tls_client_key };
		o.have_minisig = j->have_minisig;
		o.minisign_key = j->minisign_key;
		o.minisign_sig = j->minisign_sig;
		memcpy(o.sha256, j->sha256, 32);
		memcpy(o.image_sha256, j->image_sha256, 32);
		snprintf(o.sha256_origin, sizeof(o.sha256_origin), "the job's sha256");
		status_write("writing", what);
		log_info("writing %s to %s (attempt %u of %u)", shown, target, attempt, j->attempts);
		r = flash_run(&o, &p, NULL, res);
		if (res->touched)
			write_state_mark(target, r >= 0 ? WRITE_VERIFIED : WRITE_FAILED);
		if (r >= 0)
			break;
		log_error("%s", res->message);
		if (res->exit_code == FLASH_EXIT_TARGET || res->exit_code == FLASH_EXIT_USAGE ||
		    attempt == j->attempts)
			break;
		log_info("trying again in 10 s");
		sleep_ms(10000, NULL);
	}
	progress_destroy(&p);
	return r;
}

/* After a verified write, before `then`: the disk fitted, the new system given its identity.
 * A failure holds (with SSH in hold mode): a machine that reboots into a system nobody can
 * reach is worse than one that waits. */
static void configure_step(const struct job *j, const char *target)
{
	struct identity_source src = { .dir = IDENTITY_DIR };
	char err[2048], msg[2400];
	int r;

	status_write("configuring", target);
	r = configure_new_system(j, &src, target, err, sizeof(err));
	identity_dir_wipe(IDENTITY_DIR);
	sync();
	if (r >= 0) {
		char t[600];
		json_quote(target, t, sizeof(t));
		report_event(report, "configured", "\"target\":%s,\"identity\":%s", t,
			     job_wants_configure(j) ? "true" : "false");
		return;
	}
	snprintf(msg, sizeof(msg),
		 "the image was written and verified, but configuring the new system failed: %s. "
		 "Nothing boots from here on its own: fix it over SSH (hold mode) or reflash",
		 err);
	log_error("%s", msg);
	give_up(j, "configure-failed", msg);
}

_Noreturn void worker_main(void)
{
	struct job j;
	struct coldplug *cp = NULL;
	char err[2048] = "", target[256], shown[2048] = "";
	struct flash_result res = { 0 };
	int r;

	setsid();
	r = load_job(&j, err, sizeof(err));
	if (r <= 0)
		reboot_after("no-job", err, write_state_reboot_timeout(15ULL * 60 * 1000));
	/* for PID 1, which fails closed or reboots when this process dies */
	write_state_set_reboot_timeout(j.hold_timeout_ms);
	for (size_t i = 0; i < j.n_headers; i++) {
		const char *v = strchr(j.headers[i], ':');
		(void)log_add_secret(v ? v + 1 + strspn(v + 1, " \t") : j.headers[i]);
	}
	/* a password or token in the URL is a secret too; the log shows the URL redacted */
	if (j.src) {
		(void)url_foreach_secret(j.src, log_add_secret);
		url_redact(j.src, shown, sizeof(shown));
	}
	proxy_apply(&j);
	if (j.hold)
		hold_announce(&j);
	status_write("drivers", "");
	if (coldplug_new(&cp) >= 0) {
		_cleanup_free_ uint8_t *cmdline = NULL;
		size_t len;
		char names[1024];

		r = coldplug_run(cp);
		/* modules without a modalias, named like systemd's modules-load= */
		if (read_full_file("/proc/cmdline", 65536, &cmdline, &len) == 0 &&
		    cmdline_get((char *)cmdline, "modules-load", names, sizeof(names)) > 0)
			r += coldplug_load_names(cp, names);
		log_info("drivers: %d modules loaded", r);
		if (coldplug_watch_start(cp) < 0)
			log_warning("drivers: cannot watch for new devices");
	}
	/* after coldplug: the watchdog's driver is a module too */
	(void)watchdog_start();
	report_start(&j, shown);

	if (j.hold) {
		/* the operator comes in over the network: it goes first, and SSH right after */
		status_write("network", "");
		if (source_http_global_init() < 0)
			give_up(&j, "failed", "cannot initialise libcurl");
		r = network_up(&j, NULL, err, sizeof(err));
		if (r < 0)
			log_error("%s; SSH starts anyway, and the hold timeout still applies", err);
		else
			report_network(&j);
		hold_ssh_start(&j);
		give_up_exit = FLASH_EXIT_SOURCE;
		if (r < 0)
			give_up(&j, "no-network", err);
		give_up_exit = 0;
		if (!j.src) {
			report_event(report, "holding", "\"reason\":\"waiting for an operator over SSH\"");
			give_up(&j, "holding", "waiting for an operator over SSH");
		}
	}

	status_write("target", "");
	r = target_find(j.dst, j.dst_serial, j.dst_wwn, j.dst_model, j.dst_size, j.target_timeout_ms,
			target, sizeof(target), err, sizeof(err));
	give_up_exit = FLASH_EXIT_TARGET;
	if (r < 0)
		give_up(&j, "failed", err);
	give_up_exit = 0;
	log_info("target: %s", target);

	if (!j.hold) {
		status_write("network", "");
		if (source_http_global_init() < 0)
			give_up(&j, "failed", "cannot initialise libcurl");
		r = network_up(&j, NULL, err, sizeof(err));
		give_up_exit = FLASH_EXIT_SOURCE;
		if (r < 0)
			give_up(&j, "failed", err);
		give_up_exit = 0;
		report_network(&j);
	}
	if (j.start_jitter_ms) {
		/* a fleet rebooted at once must not reach the image server at once */
		uint64_t d = report_jitter_ms(j.start_jitter_ms);
		log_info("waiting %.1f s before the first request (start-jitter %.1f s)",
			 (double)d / 1000.0, (double)j.start_jitter_ms / 1000.0);
		status_write("jitter", "");
		sleep_ms(d, NULL);
	}

	r = run_job(&j, target, &res);
	watchdog_stop();
	if (!j.hold)
		network_stop();
	sync();
	give_up_exit = res.exit_code ? res.exit_code : FLASH_EXIT_INTERNAL;
	if (r < 0) {
		identity_dir_wipe(IDENTITY_DIR);
		give_up(&j, "failed", res.message);
	}
	configure_step(&j, target);
	log_info("done: %s written to %s and verified; then: %s", shown, target,
		 job_then_to_string(j.then));
	status_write("done", "");
	report_end(0, NULL, job_then_to_string(j.then), j.then != JOB_THEN_HOLD);
	switch (j.then) {
	case JOB_THEN_POWEROFF:
		(void)reboot(RB_POWER_OFF);
		break;
	case JOB_THEN_REBOOT:
		(void)reboot(RB_AUTOBOOT);
		break;
	case JOB_THEN_KEXEC:
		(void)boot_new_system(target, err, sizeof(err));
		log_error("cannot boot the new system directly: %s; rebooting through the firmware "
			  "instead",
			  err);
		(void)reboot(RB_AUTOBOOT);
		break;
	default:
		break;
	}
	if (j.hold)
		hold_wait(&j, "done", "the image was written and verified; inspect it, then "
				      "'reimage done reboot|poweroff|kexec'");
	hold_forever("done", "the image was written and verified; holding as the job asks");
}
