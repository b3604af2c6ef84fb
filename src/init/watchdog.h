/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeping an armed hardware watchdog quiet while the flasher works: systemd arms watchdogs and
 * kexec does not disarm them, so without this the machine could reset mid-write. */
#pragma once

/* Open /dev/watchdog when it exists and pet it from a thread. 1 when a watchdog is being
 * petted, 0 when there is none, -errno. */
int watchdog_start(void);
/* Stop petting: disarm with the magic close where the driver allows it. */
void watchdog_stop(void);

/* After the petting process died: open the device and disarm it with the magic close, so that
 * a reset does not end the hold. 1 disarmed, 0 no watchdog, -errno. */
int watchdog_disarm(void);
