#!/usr/bin/env bash
# images/publish.sh FROM TO: copy the built test images (sparse) so other
# worktrees can use them with IMAGES=TO.  Each file is replaced
# atomically: a test reading the old copy keeps reading it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

from=$1 to=$2
[ -d "$from" ] || die "$from: no images built (make images)"
[ "$(realpath "$from")" != "$(realpath -m "$to")" ] ||
  die "$to: cannot publish a folder onto itself"
mkdir -p "$to/bad"
n=0
while IFS= read -r f; do
  rel=${f#"$from"/}
  case $rel in PUBLISHED|*.tmp) continue ;; esac
  mkdir -p "$(dirname "$to/$rel")"
  cp --sparse=always -p "$f" "$to/$rel.tmp"
  mv -f "$to/$rel.tmp" "$to/$rel"
  n=$((n + 1))
done < <(find "$from" \( -path "$from/work" -o -name .tmp \) -prune -o \
           -type f -print | sort)
{
  echo "Published test images: do not rebuild here (see images/README.md)."
  echo "date: $(date -u +%FT%TZ)"
  echo "from: $(realpath "$from")"
  echo "commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$to/PUBLISHED"
echo "${0##*/}: $n files published to $to"
