/* Rules about the disks themselves: what Azure accepts as managed
 * disks and what the target size can attach.  Limits (research notes,
 * conversion.md §4.1, replication.md): a virtual size in whole MiB; a
 * generation 1 OS disk up to 2 TiB (MBR), a generation 2 OS disk up to
 * 4 TiB; a data disk up to 32 TiB; as many data disks as the VM size
 * allows.
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"

#define MiB (1024LL * 1024)
#define TiB (1024LL * 1024 * MiB)

static const struct rule disk_size_mib;
static const struct rule os_disk_size;
static const struct rule data_disk_size;
static const struct rule data_disk_count;

static int
check_size_mib (const struct check_ctx *ctx)
{
  for (size_t i = 0; i < ctx->gs->ndisks; i++) {
    const struct disk *d = &ctx->gs->disks[i];
    if (d->size % MiB == 0)
      continue;
    if (rule_finding (ctx, &disk_size_mib, SEV_WARNING, d->path,
                      "it is rounded up when converted to VHD ('azprep fix "
                      "--output DISK.vhd' and replication do it)",
                      "virtual size %lld bytes is not a whole number of "
                      "MiB, as Azure requires", (long long) d->size) == -1)
      return -1;
  }
  return 0;
}
static const struct rule disk_size_mib = {
  "disk-size-mib", "every disk's virtual size is a whole number of MiB",
  SEV_WARNING, RULE_NEEDS_DISKS, check_size_mib,
};
RULE (disk_size_mib);

static int
generation (const struct check_ctx *ctx)
{
  if (ctx->gs->generation)
    return ctx->gs->generation;
  if (ctx->desc && ctx->desc->firmware != FIRMWARE_UNKNOWN)
    return ctx->desc->firmware == FIRMWARE_UEFI ? 2 : 1;
  return 0;
}

static int
check_os_disk (const struct check_ctx *ctx)
{
  const struct disk *d = &ctx->gs->disks[0];
  int gen = generation (ctx);
  int64_t limit = gen == 1 ? 2 * TiB : 4 * TiB;

  if (ctx->gs->ndisks == 0 || d->size <= limit)
    return 0;
  return rule_finding (ctx, &os_disk_size, SEV_BLOCKER, d->path,
                       gen == 1 ? "shrink it below 2 TiB, or convert the "
                       "guest to UEFI (generation 2, up to 4 TiB)"
                       : "shrink it below 4 TiB",
                       "the OS disk is %.2f TiB: Azure allows %s%s",
                       (double) d->size / TiB, gen == 1 ? "2 TiB" : "4 TiB",
                       gen == 1 ? " for a generation 1 (BIOS) OS disk"
                       : gen == 2 ? " for a generation 2 OS disk"
                       : " for an OS disk");
}
static const struct rule os_disk_size = {
  "os-disk-size", "the OS disk fits Azure's limit for its generation "
  "(2 TiB gen 1, 4 TiB gen 2)", SEV_BLOCKER, RULE_NEEDS_DISKS,
  check_os_disk,
};
RULE (os_disk_size);

static int
check_data_disk_size (const struct check_ctx *ctx)
{
  for (size_t i = 1; i < ctx->gs->ndisks; i++) {
    const struct disk *d = &ctx->gs->disks[i];
    if (d->size <= 32 * TiB)
      continue;
    if (rule_finding (ctx, &data_disk_size, SEV_BLOCKER, d->path,
                      "split the data over several disks",
                      "data disk of %.2f TiB: Azure managed disks hold up "
                      "to 32 TiB", (double) d->size / TiB) == -1)
      return -1;
  }
  return 0;
}
static const struct rule data_disk_size = {
  "data-disk-size", "every data disk fits Azure's 32 TiB limit",
  SEV_BLOCKER, RULE_NEEDS_DISKS, check_data_disk_size,
};
RULE (data_disk_size);

static int
check_data_disk_count (const struct check_ctx *ctx)
{
  int data = ctx->gs->ndisks > 0 ? (int) ctx->gs->ndisks - 1 : 0;
  const struct azure_size *t = ctx->target;
  const struct azure_size *better;

  if (!t || data <= t->max_data_disks)
    return 0;
  better = sizes_suggest (ctx->sizes, t->vcpus, (int64_t) (t->memory_gib *
                                                           1024),
                          generation (ctx), data);
  {
    CLEANUP_FREE char *remedy =
      better ? xasprintf ("choose a size with at least %d data disks, "
                          "e.g. %s", data, better->name)
      : xstrdup ("merge data disks: no size in the table attaches so many");
    return rule_finding (ctx, &data_disk_count, SEV_BLOCKER, NULL, remedy,
                         "%d data disks, but %s attaches at most %d", data,
                         t->name, t->max_data_disks);
  }
}
static const struct rule data_disk_count = {
  "data-disk-count", "the target VM size can attach every data disk",
  SEV_BLOCKER, RULE_NEEDS_DISKS, check_data_disk_count,
};
RULE (data_disk_count);
