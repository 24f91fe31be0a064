/* Rules about how the VM boots: firmware and the Azure generation,
 * whether the descriptor agrees with the disks, Secure Boot, and
 * encryption bound to the VMware vTPM (its keys stay behind). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"

static const struct rule firmware_generation;
static const struct rule firmware_mismatch;
static const struct rule secure_boot;
static const struct rule vtpm_encryption;

static int
check_generation (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  bool uefi = gs->firmware == FIRMWARE_UEFI;

  return rule_finding (ctx, &firmware_generation, SEV_INFO,
                       uefi && gs->esps ? gs->esps[0] : gs->root,
                       uefi ? "create the Azure VM as generation 2"
                       : "create the Azure VM as generation 1",
                       "%s boot: Azure generation %d", uefi ? "UEFI" : "BIOS",
                       uefi ? 2 : 1);
}
static const struct rule firmware_generation = {
  "firmware-generation", "BIOS or UEFI, and the Azure generation that "
  "follows (information)", SEV_INFO, RULE_NEEDS_OS, check_generation,
};
RULE (firmware_generation);

static int
check_mismatch (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  const struct vm_desc *d = ctx->desc;

  if (!d || d->firmware == FIRMWARE_UNKNOWN || d->firmware == gs->firmware)
    return 0;
  return rule_finding (ctx, &firmware_mismatch, SEV_WARNING, d->source,
                       "check which firmware the VM really boots with; "
                       "the disks decide the Azure generation",
                       "the descriptor says %s firmware, the disks %s",
                       d->firmware == FIRMWARE_UEFI ? "EFI" : "BIOS",
                       gs->firmware == FIRMWARE_UEFI
                       ? "have an EFI system partition (UEFI)"
                       : "have no EFI system partition (BIOS)");
}
static const struct rule firmware_mismatch = {
  "firmware-mismatch", "the descriptor's firmware matches the disks",
  SEV_WARNING, RULE_NEEDS_OS, check_mismatch,
};
RULE (firmware_mismatch);

static int
check_secure_boot (const struct check_ctx *ctx)
{
  const struct vm_desc *d = ctx->desc;

  if (!d || !d->secure_boot)
    return 0;
  return rule_finding (ctx, &secure_boot, SEV_WARNING, d->source,
                       "create the Azure VM as Trusted Launch (generation "
                       "2, Secure Boot on), or turn Secure Boot off",
                       "Secure Boot is on: the boot chain must stay signed "
                       "by keys Azure trusts");
}
static const struct rule secure_boot = {
  "secure-boot", "Secure Boot: the Azure VM needs Trusted Launch",
  SEV_WARNING, RULE_NEEDS_NOTHING, check_secure_boot,
};
RULE (secure_boot);

/* Does a crypttab line bind a volume to the TPM? */
static bool
crypttab_uses_tpm (struct guest *gs, char **line_r)
{
  CLEANUP_FREE char *text = NULL;
  char *save = NULL, *line;

  if (!guest_exists (gs, "/etc/crypttab"))
    return false;
  text = guest_read_file (gs, "/etc/crypttab", 256 * 1024, NULL);
  for (line = text ? strtok_r (text, "\n", &save) : NULL; line;
       line = strtok_r (NULL, "\n", &save))
    if (line[0] != '#' && (strstr (line, "tpm2-device") ||
                           strstr (line, "tpm2-pcrs"))) {
      *line_r = xstrdup (line);
      return true;
    }
  return false;
}

static int
check_vtpm (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  char **fses = ctx->fses;
  CLEANUP_FREE char *line = NULL;
  bool vtpm = ctx->desc && ctx->desc->vtpm;

  if (crypttab_uses_tpm (gs, &line))
    return rule_finding (ctx, &vtpm_encryption, SEV_BLOCKER, "/etc/crypttab",
                         "enrol a passphrase or recovery key and remove the "
                         "TPM binding before migrating",
                         "a volume is unlocked by the %sTPM (%s): the keys "
                         "stay in the VMware vTPM", vtpm ? "v" : "", line);
  if (!vtpm)
    return 0;
  for (size_t i = 0; fses && fses[i]; i += 2)
    if (!strcmp (fses[i + 1], "BitLocker"))
      return rule_finding (ctx, &vtpm_encryption, SEV_BLOCKER, fses[i],
                           "suspend BitLocker, or decrypt, before "
                           "migrating",
                           "BitLocker volume on a VM with a vTPM: its keys "
                           "stay in the VMware vTPM (recovery key prompt "
                           "on Azure)");
  return 0;
}
static const struct rule vtpm_encryption = {
  "vtpm-encryption", "no encryption bound to the VMware vTPM (BitLocker, "
  "LUKS with tpm2)", SEV_BLOCKER, RULE_NEEDS_OS, check_vtpm,
};
RULE (vtpm_encryption);
