// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the new system's network, name and cloud-init files. */
#include <sys/socket.h>

#include "format/identity-config.h"
#include "tests.h"

static void job_static(struct job *j)
{
	job_init(j);
	j->have_mac = true;
	memcpy(j->mac, "\x52\x54\x00\xab\xcd\xef", 6);
	j->net_ifname = strdup("enp1s0");
	ASSERT_EQ(job_ip_parse("10.1.2.3/24", false, &j->addresses[j->n_addresses++]), 0);
	ASSERT_EQ(job_ip_parse("10.1.2.1", true, &j->gateways[j->n_gateways++]), 0);
	ASSERT_EQ(job_ip_parse("9.9.9.9", true, &j->dns[j->n_dns++]), 0);
	ASSERT_EQ(job_ip_parse("2001:db8::1", true, &j->dns[j->n_dns++]), 0);
}

TEST(networkd)
{
	struct job j;
	char *t;

	job_static(&j);
	ASSERT_EQ(netcfg_networkd(&j, &t), 0);
	ASSERT_TRUE(strstr(t, "[Match]\nMACAddress=52:54:00:ab:cd:ef\n"));
	ASSERT_TRUE(strstr(t, "Address=10.1.2.3/24\n"));
	ASSERT_TRUE(strstr(t, "DNS=9.9.9.9\nDNS=2001:db8::1\n"));
	/* the gateway is inside 10.1.2.0/24: no on-link flag */
	ASSERT_TRUE(strstr(t, "[Route]\nGateway=10.1.2.1\n") && !strstr(t, "OnLink"));
	free(t);
	/* a /32: the gateway is outside, on-link */
	j.addresses[0].prefix = 32;
	ASSERT_EQ(netcfg_networkd(&j, &t), 0);
	ASSERT_TRUE(strstr(t, "Gateway=10.1.2.1\nGatewayOnLink=yes\n"));
	free(t);
	j.have_mac = false;
	ASSERT_EQ(netcfg_networkd(&j, &t), -EINVAL);
	job_done(&j);
}

TEST(ifupdown_nm_cloud_init)
{
	struct job j;
	char *t;

	job_static(&j);
	ASSERT_EQ(netcfg_ifupdown(&j, &t), 0);
	ASSERT_TRUE(strstr(t, "auto enp1s0\niface enp1s0 inet static\n    address 10.1.2.3/24\n"
			      "    gateway 10.1.2.1\n    dns-nameservers 9.9.9.9 2001:db8::1\n"));
	ASSERT_TRUE(!strstr(t, "inet6"));
	free(t);
	ASSERT_EQ(netcfg_nm_keyfile(&j, "00000000-0000-4000-a000-000000000000", &t), 0);
	ASSERT_TRUE(strstr(t, "mac-address=52:54:00:ab:cd:ef\n"));
	ASSERT_TRUE(strstr(t, "[ipv4]\nmethod=manual\naddress1=10.1.2.3/24\ngateway=10.1.2.1\n"
			      "dns=9.9.9.9;\n"));
	ASSERT_TRUE(strstr(t, "[ipv6]\nmethod=auto\n"));
	free(t);
	ASSERT_EQ(netcfg_nm_keyfile(&j, "short", &t), -EINVAL);
	ASSERT_EQ(netcfg_cloud_init_v2(&j, &t), 0);
	ASSERT_TRUE(strstr(t, "version: 2\nethernets:\n  \"enp1s0\":\n    match:\n"
			      "      macaddress: \"52:54:00:ab:cd:ef\"\n    set-name: \"enp1s0\"\n"));
	ASSERT_TRUE(strstr(t, "      - to: \"0.0.0.0/0\"\n        via: \"10.1.2.1\"\n"));
	ASSERT_TRUE(!strstr(t, "on-link"));
	free(t);
	ASSERT_EQ(netcfg_resolv_conf(&j, &t), 0);
	ASSERT_TRUE(strstr(t, "nameserver 9.9.9.9\nnameserver 2001:db8::1\n"));
	free(t);
	job_done(&j);
}

TEST(hosts)
{
	char *t;
	static const char h[] = "127.0.0.1 localhost\n127.0.1.1\told old.example\n::1 localhost\n";

	ASSERT_EQ(hosts_set_hostname(h, strlen(h), "web.example.org", &t), 0);
	ASSERT_STREQ(t, "127.0.0.1 localhost\n127.0.1.1\tweb.example.org web\n::1 localhost\n");
	free(t);
	ASSERT_EQ(hosts_set_hostname("127.0.0.1 localhost", 19, "web", &t), 0);
	ASSERT_STREQ(t, "127.0.0.1 localhost\n127.0.1.1\tweb\n");
	free(t);
	ASSERT_EQ(hosts_set_hostname(NULL, 0, "web", &t), 0);
	ASSERT_TRUE(strstr(t, "localhost") && strstr(t, "127.0.1.1\tweb\n"));
	free(t);
	ASSERT_EQ(hosts_set_hostname("a\0b", 3, "web", &t), -EINVAL);
}

TEST(meta_data)
{
	char *t;
	static const char m[] = "instance-id: i-old\nlocal-hostname: old\nregion: x\n  instance-id: nested\n";

	ASSERT_EQ(cloud_init_meta_data(m, strlen(m), "reimage-1", "new", &t), 0);
	ASSERT_STREQ(t, "region: x\n  instance-id: nested\ninstance-id: \"reimage-1\"\n"
			"local-hostname: \"new\"\n");
	free(t);
	ASSERT_EQ(cloud_init_meta_data(m, strlen(m), "reimage-2", NULL, &t), 0);
	ASSERT_TRUE(strstr(t, "local-hostname: old\n") && strstr(t, "instance-id: \"reimage-2\""));
	ASSERT_TRUE(!strstr(t, "i-old"));
	free(t);
}

TEST(user_data)
{
	struct cloud_init_identity id = { .hostname = "h",
					  .authorized_keys = "ssh-ed25519 AAAA a\"b\n# c\n\nssh-rsa BBBB\n",
					  .keep_host_keys = true };
	char *t;
	static const char u[] = "#!/bin/sh\necho hi";

	ASSERT_EQ(cloud_init_user_data(NULL, 0, &id, "B", &t), 0);
	ASSERT_TRUE(!strncmp(t, "#cloud-config\n", 14));
	ASSERT_TRUE(strstr(t, "ssh_deletekeys: false\n") && strstr(t, "hostname: \"h\"\n"));
	ASSERT_TRUE(strstr(t, "ssh_authorized_keys:\n  - \"ssh-ed25519 AAAA a\\\"b\"\n"
			      "  - \"ssh-rsa BBBB\"\n"));
	free(t);
	ASSERT_EQ(cloud_init_user_data(u, strlen(u), &id, "bnd-1", &t), 0);
	ASSERT_TRUE(strstr(t, "boundary=\"bnd-1\"") && strstr(t, "\n--bnd-1\nContent-Type: text/plain"));
	ASSERT_TRUE(strstr(t, "#!/bin/sh\necho hi\n--bnd-1\nContent-Type: text/cloud-config"));
	ASSERT_TRUE(strstr(t, "\n--bnd-1--\n"));
	free(t);
	/* the operator's text must not hold the boundary */
	ASSERT_EQ(cloud_init_user_data("x--bnd-1", 8, &id, "bnd-1", &t), -EINVAL);
}

RUN(T(networkd), T(ifupdown_nm_cloud_init), T(hosts), T(meta_data), T(user_data))
