#!/usr/bin/env bash
# Runs every tutorial notebook as a script, in full mode, and rewrites the committed
# pictures in docs/images/ (one per notebook). About 4 minutes on 2 CPU cores.
#
#   bash docs/notebooks/run_all.sh            # full mode, figures -> docs/images/
#   EQUIVLAB_NOTEBOOK_FAST=1 EQUIVLAB_NOTEBOOK_OUT=/tmp/nb bash docs/notebooks/run_all.sh
#                                             # the smoke test the suite runs
set -euo pipefail
cd "$(dirname "$0")/../.."
export MPLBACKEND="${MPLBACKEND:-Agg}"
for notebook in shift_invariance rotations custom_layer; do
  echo "== docs/notebooks/${notebook}.py"
  start=$SECONDS
  python "docs/notebooks/${notebook}.py"
  echo "== ${notebook}: $((SECONDS - start)) s"
done
