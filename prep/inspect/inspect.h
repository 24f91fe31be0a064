/* Inspection reports: guest_inspect_json (guest.h) builds the JSON;
 * the sections come from the functions below, one per file. */
#ifndef AZPREP_INSPECT_H
#define AZPREP_INSPECT_H

#include <stdio.h>
#include <cjson/cJSON.h>

struct guest;

/* Each adds its section(s) to the object o.  0 or -1. */
int inspect_storage_json (struct guest *gs, cJSON *o);
/* Linux: kernels and initramfs contents, initramfs tool, bootloader,
 * network stack and interfaces, sshd, VMware tools (prep/inspect-linux*.c). */
int inspect_linux_json (struct guest *gs, cJSON *o) __attribute__((weak));
/* Windows: control set, hives, BCD, storage drivers, SAN policy, RDP,
 * hibernation (windows/inspect.c). */
int inspect_windows_json (struct guest *gs, cJSON *o) __attribute__((weak));

/* Print the inspection JSON as human text. */
void inspect_print_text (FILE *fp, const cJSON *j);

#endif
