/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading drivers without udev: modules by modalias with libkmod (dependencies and soft
 * dependencies included), for every device in sysfs, repeated until nothing new appears
 * (bus drivers create child devices), and for uevents that arrive later. */
#pragma once

#include <stdbool.h>

struct coldplug;

/* Open the module index of the running kernel (/lib/modules/$(uname -r)). 0 or -errno. */
int coldplug_new(struct coldplug **ret);
void coldplug_free(struct coldplug *c);

/* Scan /sys/devices for modalias files and load what matches, until a pass loads nothing new
 * (at most 16 passes). Returns the number of modules loaded. */
int coldplug_run(struct coldplug *c);

/* Load modules by name, e.g. from modules-load=a,b on the kernel command line (drivers without
 * a modalias, such as softdog). Returns the number loaded. */
int coldplug_load_names(struct coldplug *c, const char *comma_list);

/* Start a thread that loads modules for MODALIAS= of later "add" uevents. 0 or -errno. */
int coldplug_watch_start(struct coldplug *c);
void coldplug_watch_stop(struct coldplug *c);
