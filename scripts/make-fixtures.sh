#!/usr/bin/env bash
# Regenerates the bundles under fixtures/bundles/ by running Keras (through keras-bridge's own
# export command). Run after `npm run setup`; commit the result. Each bundle is a few kB.
set -euo pipefail
cd "$(dirname "$0")/.."
# --train-steps 3: weights after 3 SGD and 3 Adam steps too (parity after training).
export_bundle() { # name factory [more export flags]
  node dist/src/cli/main.js export --out "fixtures/bundles/$1" --factory "$2" \
    --path fixtures/seed --path fixtures/models --seed 0 --batch-size 2 --train-steps 3 "${@:3}"
}
export_bundle swish seed_models:swish_model
export_bundle temporal seed_models:temporal_model
export_bundle risk seed_models:risk_model
export_bundle two_branch functional_example:two_branch_model
export_bundle training training_model:training_model --batch-size 4
export_bundle deep deep_fault_model:deep_model --batch-size 4
export_bundle custom_layers custom_layers:custom_layers_model
export_bundle dilated_conv dilated_conv_model:dilated_conv_model
export_bundle constrained constrained_model:constrained_model
export_bundle kw_functional kw_config_layers:kw_functional_model
export_bundle kw_sequential kw_config_layers:kw_sequential_model
.venv/bin/python scripts/export_zoo.py
du -sh fixtures/bundles/*
