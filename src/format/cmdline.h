/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel command line as the kernel itself splits it (lib/cmdline.c next_arg()): words
 * separated by spaces, double quotes group spaces into a word and are removed from a quoted
 * value ("key=\"a b\"" gives key and a b). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_MAX 4096

/* Call fn(key, value, userdata) for each word; value is NULL for a word without '='. Stops and
 * returns fn's value when it is non-zero. Returns 0, or -E2BIG when the command line is longer
 * than CMDLINE_MAX. */
int cmdline_foreach(const char *cmdline, int (*fn)(const char *key, const char *value, void *userdata),
		    void *userdata);

/* The value of the last occurrence of key into buf (size n). Returns 1 when found (an empty
 * value for "key" without '='), 0 when absent, -ENOBUFS when the value does not fit. */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t n);

/* Whether a word of the running kernel's command line goes on the flasher's too: the consoles,
 * and what this machine's hardware may need (a module's parameters, written module.param=...,
 * and the PCI, IOMMU, ACPI, APIC and memory map settings); never what chooses the root file
 * system or drives the init system (root=, init=, rd.*, systemd.*, ...). */
bool cmdline_word_carries(const char *key);

/* Appends those words of cmdline to buf (size n, NUL-terminated), each followed by a space,
 * until buf is half full; a word whose value holds a space or a quote is left out (it would
 * need quoting), and nothing after "--" (init's arguments). Returns how many were carried,
 * or -E2BIG as cmdline_foreach. */
int cmdline_carry(const char *cmdline, char *buf, size_t n);
