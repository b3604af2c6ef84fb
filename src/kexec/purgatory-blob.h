/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The purgatory image built with the project (src/kexec/purgatory/), embedded by embed.py. */
#pragma once

#include <stddef.h>

/* one per machine: only the build's own is linked */
extern const unsigned char purgatory_arm64[];
extern const size_t purgatory_arm64_size;
extern const unsigned char purgatory_x86_64[];
extern const size_t purgatory_x86_64_size;
