#!/usr/bin/env bash
# Regenerates the bundles under fixtures/bundles/ by running Keras (through keras-bridge's own
# export command). Run after `npm run setup`; commit the result. Each bundle is a few kB.
set -euo pipefail
cd "$(dirname "$0")/.."
export_bundle() { # name factory
  node dist/src/cli/main.js export --out "fixtures/bundles/$1" --factory "$2" \
    --path fixtures/seed --path fixtures/models --seed 0 --batch-size 2
}
export_bundle swish seed_models:swish_model
export_bundle temporal seed_models:temporal_model
export_bundle risk seed_models:risk_model
export_bundle two_branch functional_example:two_branch_model
node dist/src/cli/main.js export --out fixtures/bundles/deep --factory deep_fault_model:deep_model \
  --path fixtures/models --seed 0 --batch-size 4
.venv/bin/python scripts/export_zoo.py
du -sh fixtures/bundles/*
