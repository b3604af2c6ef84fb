/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The purgatory image built with the project (src/kexec/purgatory/), embedded by embed.py. */
#pragma once

#include <stddef.h>

extern const unsigned char purgatory_arm64[];
extern const size_t purgatory_arm64_size;
