/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kexec_file_load(2) and the hand-over: loading a kernel with an initramfs (a sealed memfd
 * works), unloading, status, and executing through systemd or reboot(LINUX_REBOOT_CMD_KEXEC).
 * Errors are explained the way an operator needs them (kernel/kexec_file.c order of checks). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* x86's bzImage command line limit (arch/x86/kernel/kexec-bzimage64.c) */
#define KEXEC_CMDLINE_MAX 2048

/* Load kernel_path with the initramfs in initrd_fd (-1 for none) and cmdline: with
 * kexec_file_load, or where the kernel has none, with kexec_load and reimage's own segment
 * layout (arm64; see kexec-classic.h). 0, or -errno with the cause and the way out in why. */
int kexec_load(const char *kernel_path, int initrd_fd, const char *cmdline, char *why,
	       size_t whylen);
/* The same with the kernel already open (a memfd, say); kernel_name is for messages. */
int kexec_load_fd(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		  char *why, size_t whylen);
/* Can this process load a kernel with kexec_file_load? 0; or -ENOSYS (not in this kernel, or
 * filtered by seccomp) / -EPERM (not root, kexec_load_disabled, ...) with why. Loads nothing
 * and leaves a loaded image alone. */
int kexec_file_probe(char *why, size_t whylen);

enum kexec_loader {
	KEXEC_LOADER_FILE,    /* kexec_file_load: the kernel parses and checks the image */
	KEXEC_LOADER_CLASSIC, /* kexec_load with reimage's segments and purgatory */
};
/* Which loader kexec_load() uses on this system. 0 and *ret; or -errno with why when neither
 * can load (-EPERM for kexec_load under lockdown, -EPROTONOSUPPORT where reimage has no
 * kexec_load loader for this machine). Loads nothing. */
int kexec_probe(enum kexec_loader *ret, char *why, size_t whylen);
/* A phrase for plans and status lines. */
const char *kexec_loader_name(enum kexec_loader l);
/* Print prefix and which loader will be used, or why none can ("not checked" when not
 * root: the probe needs CAP_SYS_BOOT to say anything). */
void print_kexec_loader(const char *prefix);
/* The loader this kernel offers ("kexec_file_load", "kexec_load"), or NULL with why set (not
 * root, or why none can load here). */
const char *kexec_loader_describe(char *why, size_t whylen);
/* For an EPERM from either loader: when kexec is disabled by sysctl, or we are not root, says
 * so in why and returns true; false leaves why alone (lockdown and the rest are the caller's
 * to tell). */
bool kexec_explain_not_allowed(char *why, size_t whylen);
/* 0, or -errno with why. */
int kexec_unload(char *why, size_t whylen);
/* 1 when a kexec image is loaded, 0 when not, -errno when it cannot be told. */
int kexec_loaded(void);
/* The active lockdown mode ("none", "integrity", "confidentiality") into buf; -ENOENT when the
 * kernel has no lockdown LSM (or securityfs is not mounted). */
int lockdown_mode(char *buf, size_t n);
/* true when systemd is PID 1 */
bool systemd_is_pid1(void);
/* Jump into the loaded image. With systemd as PID 1, through `systemctl kexec` (services stop,
 * file systems unmount; returns when systemctl returns); otherwise sync and reboot(KEXEC),
 * which does not return on success. -errno with why on failure. */
int kexec_exec(char *why, size_t whylen);
/* kexec_exec's systemd way: run `<systemctl> kexec` and wait for it. 0 when it exited 0, or
 * was ended by SIGTERM, SIGHUP or SIGKILL (the shutdown it started stopping it: the hand-over
 * is under way, and the image must stay loaded); -EIO with why when it failed. Signals that
 * interrupt the wait (ours, from the same shutdown) do not end it. */
int kexec_exec_systemctl(const char *systemctl, char *why, size_t whylen);
/* An anonymous, sealed (no writes, no resizing) file holding data: what kexec_file_load needs
 * for an initramfs built in memory. The fd, or -errno. */
int memfd_sealed(const char *name, const void *data, size_t len);
