// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the job file and the kernel command line. */
#include <arpa/inet.h>

#include "format/cmdline.h"
#include "format/job.h"
#include "tests.h"

static const char full[] =
	"# a job\n"
	"src = http://10.0.2.2:8080/new.img.zst\n"
	"dst=/dev/vda\r\n"
	"  dst-serial = QM00001  \n"
	"dst-size = 1073741824\n"
	"sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
	"verify = yes\n"
	"header = Authorization: Bearer a=b=c\n"
	"header = X-Token: t2\n"
	"retries = 5\nretry-for = 2m\nattempts = 2\nthen = hold\n"
	"net-mac = 52:54:00:12:34:56\n"
	"net-path = pci-0000:00:03.0\n"
	"net-address = 10.0.2.15/24\nnet-address = fd00::15/64\n"
	"net-gateway = 10.0.2.2\nnet-gateway = fd00::1\n"
	"net-dns = 10.0.2.3\n"
	"dhcp-fallback = no\n";

static void check_full(const struct job *j)
{
	char ip[64];
	ASSERT_STREQ(j->src, "http://10.0.2.2:8080/new.img.zst");
	ASSERT_STREQ(j->dst, "/dev/vda");
	ASSERT_STREQ(j->dst_serial, "QM00001");
	ASSERT_EQ(j->dst_size, 1073741824);
	ASSERT_TRUE(j->have_sha256 && j->sha256[0] == 0x9f && j->sha256[31] == 0x08);
	ASSERT_TRUE(j->verify);
	ASSERT_EQ(j->n_headers, 2);
	ASSERT_STREQ(j->headers[0], "Authorization: Bearer a=b=c");
	ASSERT_EQ(j->retries, 5);
	ASSERT_EQ(j->retry_for_ms, 120000);
	ASSERT_EQ(j->attempts, 2);
	ASSERT_EQ(j->then, JOB_THEN_HOLD);
	ASSERT_TRUE(j->have_mac && j->mac[5] == 0x56);
	ASSERT_STREQ(j->net_path, "pci-0000:00:03.0");
	ASSERT_EQ(j->n_addresses, 2);
	job_ip_format(&j->addresses[1], true, ip, sizeof(ip));
	ASSERT_STREQ(ip, "fd00::15/64");
	ASSERT_EQ(j->n_gateways, 2);
	ASSERT_EQ(j->n_dns, 1);
	ASSERT_TRUE(!j->dhcp_fallback);
}

TEST(parse_and_roundtrip)
{
	struct job j, k;
	char err[256] = "", *text;
	ASSERT_EQ(job_parse(full, strlen(full), &j, err, sizeof(err)), 0);
	check_full(&j);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	check_full(&k);
	free(text);
	job_done(&j);
	job_done(&k);
}

static void expect_error(const char *text, int want, const char *phrase)
{
	struct job j;
	char err[256] = "";
	ASSERT_EQ(job_parse(text, strlen(text), &j, err, sizeof(err)), want);
	if (!strstr(err, phrase)) {
		fprintf(stderr, "error '%s' lacks '%s'\n", err, phrase);
		exit(1);
	}
}

TEST(errors)
{
	expect_error("src = a\n", -EINVAL, "no dst");
	expect_error("dst = a\n", -EINVAL, "no src");
	expect_error("src = a\ndst = b\nbogus = 1\n", -EBADMSG, "line 3: unknown key 'bogus'");
	expect_error("src = a\nsrc = b\ndst = c\n", -EBADMSG, "line 2: 'src' given twice");
	expect_error("src = a\ndst = b\nsha256 = 12\n", -EBADMSG, "line 3: bad value for 'sha256'");
	expect_error("src = a\ndst = b\nthen = explode\n", -EBADMSG, "reboot, poweroff, hold or kexec");
	expect_error("src = a\ndst = b\nnet-address = 10.0.0.1\n", -EBADMSG, "ADDRESS/PREFIX");
	expect_error("src = a\ndst = b\nnet-address = 10.0.0.1/33\n", -EBADMSG, "ADDRESS/PREFIX");
	expect_error("src = a\ndst = b\nnet-mac = 52:54:00:12:34\n", -EBADMSG, "MAC");
	expect_error("src = a\ndst = b\nnet-gateway = 1.2.3.4\nnet-gateway = 1.2.3.5\n", -EBADMSG,
		     "one gateway per address family");
	expect_error("src = a\ndst = b\nattempts = 0\n", -EBADMSG, "at least 1");
	expect_error("no equals sign\n", -EBADMSG, "line 1: expected 'key = value'");
	expect_error("src = a\ndst =\n", -EBADMSG, "empty target");
	/* a header value is never echoed in an error */
	{
		struct job j;
		char err[256] = "";
		const char *t = "src = a\ndst = b\nheader = Bad Name: SECRETVALUE\n";
		ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), -EBADMSG);
		ASSERT_TRUE(strstr(err, "SECRETVALUE") == NULL);
	}
	{
		struct job j;
		char err[256] = "";
		char t[] = "src = a\0\ndst = b\n";
		ASSERT_EQ(job_parse(t, sizeof(t) - 1, &j, err, sizeof(err)), -EBADMSG);
	}
}

TEST(cmdline)
{
	char v[64];
	ASSERT_EQ(cmdline_get("console=ttyS0 quiet  reimage.src=\"http://h/a b\" x", "reimage.src", v,
			      sizeof(v)),
		  1);
	ASSERT_STREQ(v, "http://h/a b");
	ASSERT_EQ(cmdline_get("quiet", "quiet", v, sizeof(v)), 1);
	ASSERT_STREQ(v, "");
	ASSERT_EQ(cmdline_get("a=1 a=2", "a", v, sizeof(v)), 1);
	ASSERT_STREQ(v, "2");
	ASSERT_EQ(cmdline_get("ab=1", "a", v, sizeof(v)), 0);
	ASSERT_EQ(cmdline_get("a=123456789", "a", v, 4), -ENOBUFS);
}

TEST(job_from_cmdline)
{
	struct job j;
	char err[256] = "";
	ASSERT_EQ(job_from_cmdline("console=ttyS0 panic=10", &j, err, sizeof(err)), 0);
	ASSERT_EQ(job_from_cmdline("reimage.src=http://h/i.zst reimage.dst=/dev/vda "
				   "reimage.sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
				   "reimage.then=poweroff",
				   &j, err, sizeof(err)),
		  1);
	ASSERT_STREQ(j.src, "http://h/i.zst");
	ASSERT_STREQ(j.dst, "/dev/vda");
	ASSERT_TRUE(j.have_sha256);
	ASSERT_EQ(j.then, JOB_THEN_POWEROFF);
	job_done(&j);
	ASSERT_EQ(job_from_cmdline("reimage.src=http://h/i.zst", &j, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "without reimage.dst") != NULL);
	ASSERT_EQ(job_from_cmdline("reimage.src=a reimage.dst=b reimage.sha256=zz", &j, err,
				   sizeof(err)),
		  -EBADMSG);
	ASSERT_EQ(job_from_cmdline("reimage.src=a reimage.dst=b reimage.header=x", &j, err,
				   sizeof(err)),
		  -EBADMSG);
	ASSERT_TRUE(strstr(err, "unknown parameter reimage.header") != NULL);
	ASSERT_EQ(job_from_cmdline("reimage.src=a reimage.dst=b reimage.then=kexec", &j, err,
				   sizeof(err)),
		  1);
	ASSERT_EQ(j.then, JOB_THEN_KEXEC);
	job_done(&j);
}

TEST(then_kexec_roundtrip)
{
	struct job j, k;
	char err[256] = "", *text;
	const char *t = "src = http://h/i\ndst = /dev/vda\nthen = kexec\n";
	enum job_then v;

	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), 0);
	ASSERT_EQ(j.then, JOB_THEN_KEXEC);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_TRUE(strstr(text, "then = kexec\n") != NULL);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	ASSERT_EQ(k.then, JOB_THEN_KEXEC);
	free(text);
	job_done(&j);
	job_done(&k);
	for (int i = JOB_THEN_REBOOT; i <= JOB_THEN_KEXEC; i++) {
		ASSERT_EQ(job_then_from_string(job_then_to_string((enum job_then)i), &v), 0);
		ASSERT_EQ(v, i);
	}
	ASSERT_EQ(job_then_from_string("Kexec", &v), -EINVAL);
}

/* A trusted comment is used exactly as signed: blanks at either end and a backslash survive
 * the job (whose plain values are trimmed), and the older plain key still reads. */
TEST(minisign_comment_bytes_exact)
{
	const char *base =
		"src = a\ndst = b\n"
		"minisign-pubkey = RWTscZary0wlvSKSpr/cnqFBM1FxTjqIlq2eDmBdbqvSopKVJf3h1+ET\n"
		"minisign-sig = RUTscZary0wlvQ5qrr8fdJpxMWU+0Hvj5NVcgFxf4yg5/zd19Ua1pmWGW3gGxIKiptja9rs8uWoE5AsOm/S4UDA6SAMrzc078Qw=\n"
		"minisign-global-sig = 2iJqf72GReJ3rsIJquSpXSub3n7idVqZYLvhT/v7xwAjBUYFWUeQatyWNmIlSakaGWBhTs2UaH+MDTJei6ECBQ==\n";
	const char *comments[] = { "  two blanks before, a tab after\t", " \\ = # ", "", "x" };
	char t[2048], err[256] = "", *text;
	struct job j, k;

	for (size_t i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		snprintf(t, sizeof(t), "%sminisign-comment = plain\n", base);
		ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), 0);
		snprintf(j.minisign_sig.trusted_comment, sizeof(j.minisign_sig.trusted_comment), "%s",
			 comments[i]);
		ASSERT_EQ(job_format(&j, &text), 0);
		ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
		ASSERT_STREQ(k.minisign_sig.trusted_comment, comments[i]);
		ASSERT_TRUE(k.have_minisig);
		free(text);
		job_done(&j);
		job_done(&k);
	}
	/* both spellings at once: refused, not one silently preferred */
	snprintf(t, sizeof(t), "%sminisign-comment = a\nminisign-comment-base64 = Yg==\n", base);
	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "give one") != NULL);
}

TEST(minisign_roundtrip)
{
	/* from tests/data/minisign (made with Debian's minisign) */
	const char *t =
		"src = a\ndst = b\n"
		"minisign-pubkey = RWTscZary0wlvSKSpr/cnqFBM1FxTjqIlq2eDmBdbqvSopKVJf3h1+ET\n"
		"minisign-sig = RUTscZary0wlvQ5qrr8fdJpxMWU+0Hvj5NVcgFxf4yg5/zd19Ua1pmWGW3gGxIKiptja9rs8uWoE5AsOm/S4UDA6SAMrzc078Qw=\n"
		"minisign-comment = reimage test vector\n"
		"minisign-global-sig = 2iJqf72GReJ3rsIJquSpXSub3n7idVqZYLvhT/v7xwAjBUYFWUeQatyWNmIlSakaGWBhTs2UaH+MDTJei6ECBQ==\n";
	struct job j, k;
	char err[256] = "", *text;

	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), 0);
	ASSERT_TRUE(j.have_minisig && j.minisign_sig.prehashed);
	ASSERT_STREQ(j.minisign_sig.trusted_comment, "reimage test vector");
	ASSERT_TRUE(memcmp(j.minisign_key.keynum, j.minisign_sig.keynum, 8) == 0);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	ASSERT_TRUE(memcmp(&j.minisign_sig, &k.minisign_sig, sizeof(j.minisign_sig)) == 0);
	ASSERT_TRUE(memcmp(&j.minisign_key, &k.minisign_key, sizeof(j.minisign_key)) == 0);
	free(text);
	job_done(&j);
	job_done(&k);
	/* all four or none */
	t = "src = a\ndst = b\nminisign-comment = x\n";
	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "needs all of") != NULL);
}

TEST(tls_roundtrip)
{
	const char *t = "src = https://h/x\ndst = b\n"
			"tls-cacert = -----BEGIN CERTIFICATE-----\n"
			"tls-cacert = MIIBszCCAVmgAwIBAgIUQ==\n"
			"tls-cacert = -----END CERTIFICATE-----\n"
			"tls-client-cert = -----BEGIN CERTIFICATE-----\n"
			"tls-client-cert = -----END CERTIFICATE-----\n"
			"tls-client-key = -----BEGIN PRIVATE KEY-----\n"
			"tls-client-key = c2VjcmV0LWtleQ==\n"
			"tls-client-key = -----END PRIVATE KEY-----\n"
			"tls-pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
			"tls-insecure = yes\n";
	struct job j, k;
	char err[256] = "", *text;

	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), 0);
	ASSERT_STREQ(j.tls_cacert, "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n"
				   "-----END CERTIFICATE-----\n");
	ASSERT_STREQ(j.tls_client_key, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n"
				       "-----END PRIVATE KEY-----\n");
	ASSERT_TRUE(j.tls_insecure && j.tls_pin && j.tls_client_cert);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	ASSERT_STREQ(k.tls_cacert, j.tls_cacert);
	ASSERT_STREQ(k.tls_client_cert, j.tls_client_cert);
	ASSERT_STREQ(k.tls_client_key, j.tls_client_key);
	ASSERT_STREQ(k.tls_pin, j.tls_pin);
	ASSERT_TRUE(k.tls_insecure);
	free(text);
	job_done(&j);
	job_done(&k);

	t = "src = a\ndst = b\ntls-client-key = x\n";
	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "go together") != NULL);
	t = "src = a\ndst = b\ntls-pin = md5//x\n";
	ASSERT_EQ(job_parse(t, strlen(t), &j, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "tls-pin") != NULL);
}


TEST(hold)
{
	struct job j, k;
	char err[256], *text;
	static const char bare[] = "hold = yes\n";
	static const char withsrc[] = "src = http://h/i.zst\ndst = /dev/sda\nhold = yes\n"
				   "hold-timeout = 20s\nssh-port = 2222\n";

	/* defaults, and no src or dst needed */
	ASSERT_EQ(job_parse(bare, strlen(bare), &j, err, sizeof(err)), 0);
	ASSERT_TRUE(j.hold && !j.src && !j.dst);
	ASSERT_EQ(j.hold_timeout_ms, 900000);
	ASSERT_EQ(j.ssh_port, 22);
	ASSERT_EQ(j.then, JOB_THEN_HOLD);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_TRUE(!strstr(text, "src =") && !strstr(text, "dst ="));
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	ASSERT_TRUE(k.hold && !k.src);
	job_done(&k);
	free(text);
	job_done(&j);

	ASSERT_EQ(job_parse(withsrc, strlen(withsrc), &j, err, sizeof(err)), 0);
	ASSERT_EQ(j.hold_timeout_ms, 20000);
	ASSERT_EQ(j.ssh_port, 2222);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	ASSERT_TRUE(k.hold && k.hold_timeout_ms == 20000 && k.ssh_port == 2222);
	ASSERT_STREQ(k.src, "http://h/i.zst");
	job_done(&k);
	free(text);
	job_done(&j);

	/* 0 means no timeout; a dst alone is fine (recorded for reimage done kexec) */
	ASSERT_EQ(job_parse("hold = yes\nhold-timeout = 0\ndst = /dev/vda\n", 43, &j, err,
			    sizeof(err)), 0);
	ASSERT_EQ(j.hold_timeout_ms, 0);
	job_done(&j);
}

TEST(hold_errors)
{
	static const char *const bad[] = {
		"hold = maybe\n",
		"hold = yes\nssh-port = 0\n",
		"hold = yes\nssh-port = 65536\n",
		"hold = yes\nhold-timeout = soon\n",
		"hold = yes\nsrc = http://h/i\n",	   /* src needs dst */
		"hold = yes\nthen = reboot\n",	   /* a hold ends with reimage done */
		"src = http://h/i\nhold = no\n",	   /* without hold, dst is required */
		"dst = /dev/sda\n",			   /* and src */
	};
	struct job j;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ASSERT_TRUE(job_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)) < 0);
		ASSERT_TRUE(err[0] != 0);
	}
	ASSERT_EQ(job_parse("hold = yes\nthen = hold\n", 22, &j, err, sizeof(err)), 0);
	job_done(&j);
}

static const char identity[] =
	"src = http://h/i\ndst = /dev/vda\n"
	"net-ifname = ens3\nhostname = web-1.example.org\nkeep-network = yes\n"
	"authorized-keys = yes\ncloud-init-user-data = yes\ncloud-init-meta-data = no\n"
	"grow = yes\nssh-host-key = ed25519\nssh-host-key = rsa\n"
	"copy = 0600 /etc/app/secret.conf\ncopy = 755 /usr/local/bin/tool with space\n";

static void check_identity(const struct job *j)
{
	ASSERT_STREQ(j->net_ifname, "ens3");
	ASSERT_STREQ(j->hostname, "web-1.example.org");
	ASSERT_TRUE(j->keep_network && j->authorized_keys && j->ci_user_data && !j->ci_meta_data);
	ASSERT_TRUE(j->grow);
	ASSERT_EQ(j->n_host_keys, 2);
	ASSERT_STREQ(j->host_keys[1], "rsa");
	ASSERT_EQ(j->n_copies, 2);
	ASSERT_STREQ(j->copies[0].dest, "/etc/app/secret.conf");
	ASSERT_EQ(j->copies[0].mode, 0600);
	ASSERT_STREQ(j->copies[1].dest, "/usr/local/bin/tool with space");
	ASSERT_EQ(j->copies[1].mode, 0755);
	ASSERT_TRUE(job_wants_configure(j));
}

TEST(identity_roundtrip)
{
	struct job j, k;
	char err[256] = "", *text;

	ASSERT_EQ(job_parse(identity, strlen(identity), &j, err, sizeof(err)), 0);
	check_identity(&j);
	ASSERT_EQ(job_format(&j, &text), 0);
	ASSERT_EQ(job_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	check_identity(&k);
	free(text);
	job_done(&j);
	job_done(&k);
	ASSERT_EQ(job_parse("src = http://h/i\ndst = /dev/vda\n", 32, &j, err, sizeof(err)), 0);
	ASSERT_TRUE(!job_wants_configure(&j));
	job_done(&j);
}

TEST(identity_errors)
{
	static const char *const bad[] = {
		"hostname = -leading\n", "hostname = a..b\n", "hostname = under_score\n",
		"hostname = \n", "hostname = trailing-.x\n",
		"ssh-host-key = dsa\n", "ssh-host-key = rsa\nssh-host-key = rsa\n",
		"copy = /etc/x\n", "copy = 0600 relative\n", "copy = 0600 /etc/../x\n",
		"copy = 0600 /etc//x\n", "copy = 0600 /etc/x/\n", "copy = 17777 /etc/x\n",
		"copy = 0600 /\n", "copy = 0600 /a/./b\n", "grow = sometimes\n",
		"net-ifname = a/b\n", "net-ifname = waytoolongname0123\n", "hostname = a\nhostname = b\n",
	};
	struct job j;
	char err[256], text[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		snprintf(text, sizeof(text), "src = http://h/i\ndst = /dev/vda\n%s", bad[i]);
		if (job_parse(text, strlen(text), &j, err, sizeof(err)) == 0) {
			fprintf(stderr, "accepted: %s", bad[i]);
			ASSERT_TRUE(false);
		}
		ASSERT_TRUE(err[0] != 0);
	}
	ASSERT_TRUE(job_hostname_is_valid("a"));
	ASSERT_TRUE(job_hostname_is_valid("xn--bcher-kva.example"));
	ASSERT_TRUE(!job_hostname_is_valid("a.b-"));
	ASSERT_TRUE(job_dest_path_is_valid("/etc/x"));
	ASSERT_TRUE(!job_dest_path_is_valid("/etc/.."));
	ASSERT_TRUE(job_dest_path_is_valid("/etc/..x"));
}

TEST(report_roundtrip)
{
	const char *text = "src = http://h/i\ndst = /dev/vda\nreport-url = https://c.example/ev\n"
			   "report-header = Authorization: Bearer abc\nreport-header = X-Site: r1\n"
			   "report-cacert = -----BEGIN CERTIFICATE-----\nreport-cacert = QUJD\n"
			   "report-cacert = -----END CERTIFICATE-----\n"
			   "report-run-id = 0b7e4a2c-1111-4222-8333-444455556666\n"
			   "report-hostname = web-01\nreport-machine-id = 3d1219c7\nstart-jitter = 2m\n";
	struct job j, k;
	char err[256], *out = NULL;

	ASSERT_EQ(job_parse(text, strlen(text), &j, err, sizeof(err)), 0);
	ASSERT_STREQ(j.report_url, "https://c.example/ev");
	ASSERT_EQ(j.n_report_headers, 2);
	ASSERT_STREQ(j.report_headers[1], "X-Site: r1");
	ASSERT_STREQ(j.report_cacert,
		     "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n");
	ASSERT_STREQ(j.report_hostname, "web-01");
	ASSERT_STREQ(j.report_machine_id, "3d1219c7");
	ASSERT_STREQ(j.report_run_id, "0b7e4a2c-1111-4222-8333-444455556666");
	ASSERT_EQ(j.start_jitter_ms, 120000);
	ASSERT_EQ(job_format(&j, &out), 0);
	ASSERT_EQ(job_parse(out, strlen(out), &k, err, sizeof(err)), 0);
	ASSERT_STREQ(k.report_url, j.report_url);
	ASSERT_EQ(k.n_report_headers, 2);
	ASSERT_STREQ(k.report_headers[0], "Authorization: Bearer abc");
	ASSERT_STREQ(k.report_cacert, j.report_cacert);
	ASSERT_STREQ(k.report_run_id, j.report_run_id);
	ASSERT_EQ(k.start_jitter_ms, 120000);
	free(out);
	job_done(&j);
	job_done(&k);
}

TEST(report_errors)
{
	static const char *const bad[] = {
		"src = http://h/i\ndst = /dev/vda\nreport-url = ftp://c/\n",
		"src = http://h/i\ndst = /dev/vda\nreport-url = http://c/\nreport-url = http://d/\n",
		"src = http://h/i\ndst = /dev/vda\nreport-header = no colon here\n",
		"src = http://h/i\ndst = /dev/vda\nstart-jitter = soon\n",
		"src = http://h/i\ndst = /dev/vda\nstart-jitter = 25h\n",
		"src = http://h/i\ndst = /dev/vda\nreport-hostname = \n",
	};
	struct job j;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ASSERT_TRUE(job_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)) < 0);
		ASSERT_TRUE(strstr(err, "line 3") != NULL || strstr(err, "line 4") != NULL);
		ASSERT_TRUE(strstr(err, "no colon") == NULL); /* a header value is never echoed */
	}
}

RUN(T(parse_and_roundtrip), T(errors), T(cmdline), T(job_from_cmdline), T(then_kexec_roundtrip),
    T(minisign_roundtrip), T(tls_roundtrip), T(hold), T(hold_errors), T(minisign_comment_bytes_exact),
    T(identity_roundtrip), T(identity_errors), T(report_roundtrip), T(report_errors))
