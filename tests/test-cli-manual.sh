#!/usr/bin/env bash
# The manual (build/azprep.pod, build/azprep.1) is well-formed and
# renders.
source tests/lib/functions.sh

# The manual is well-formed and renders.
podchecker build/azprep.pod >/dev/null 2>&1 || fail "podchecker"
man -l build/azprep.1 >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man"
