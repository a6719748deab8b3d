#!/bin/sh
# Runs one GJS binding test. A missing gjs is the only reason to skip
# (exit 77); anything of ours that is missing makes the test fail.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
if ! command -v gjs >/dev/null 2>&1; then
  echo "1..0 # SKIP gjs is not installed"
  exit 77
fi
exec gjs "$@"
