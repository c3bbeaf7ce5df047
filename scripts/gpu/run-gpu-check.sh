#!/usr/bin/env bash
# The GPU check of docs/gpu.md, run on a lent GPU machine by the `device` tool from the repo root,
# with .dev/ (Node, a slim node_modules, Dawn's binding, the built dist/), .gl/ (the Vulkan loader)
# and .whl/ (Keras for JAX) carried. Each step has its own time limit; results land in $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
step() { echo; echo "== $(date +%T) $*"; }
# STEPS picks some of: facts parity agreement bench keras-jax zoo (default: all).
STEPS=" ${STEPS:-facts parity agreement bench keras-jax zoo} "
wants() { [[ $STEPS == *" $1 "* ]]; }
BENCH_BUDGET=${BENCH_BUDGET:-6}

step setup
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; [ -e $ICD ] && export VK_DRIVER_FILES=$ICD
export XDG_RUNTIME_DIR=/tmp TF_CPP_MIN_LOG_LEVEL=3
mkdir -p /tmp/node/bin /tmp/dawn
xz -dc .dev/node.xz > /tmp/node/bin/node && chmod +x /tmp/node/bin/node
export PATH=/tmp/node/bin:$PATH
tar xJf .dev/nm.tar.xz && tar xJf .dev/dist.tar.xz && tar xJf .dev/webgpu.tar.xz -C /tmp/dawn
export KERAS_BRIDGE_WEBGPU_MODULE=/tmp/dawn/webgpu/index.js
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
node --version; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nproc; grep -m1 'model name' /proc/cpuinfo

if wants facts; then
step "what tfjs-node-gpu and chromium's webgl would need"
python3 -c 'import tensorflow' 2>&1 | tail -1
ls /usr/local/cuda*/lib64 2>/dev/null | grep -E 'libcudart|libcudnn' | head -4
find / -xdev \( -name 'libtensorflow*.so*' -o -name 'chrom*' -type f -perm -u+x \) 2>/dev/null | head -5
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'
fi

wants parity && step "webgpu backend: adapter, seed models' parity (webgpu against Keras's goldens)"
wants parity && timeout 120 node dist/src/cli/main.js parity fixtures/bundles/{swish,temporal,risk,two_branch} \
  --custom-layers ./dist/src/layers/seed/index.js --backend webgpu 2>&1 | grep -v -E 'artificially|^$' | grep -E 'parity:|FAIL|error|webgpu on' | head -40

wants agreement && step "full-size agreement: webgpu against wasm, batch 2, same weights and inputs"
for m in resnet50 mobilenet_v2 transformer_encoder; do
  node scripts/gpu/fill-weights.mjs .dev/models/$m
  wants agreement || continue
  timeout 120 node scripts/gpu/gpu-agreement.mjs .dev/models/$m 2 webgpu wasm 2>&1 | grep '^{' | tee -a "$OUT/agreement.jsonl"
done

wants bench && step "timing: converted models on webgpu (bench-worker, as npm run bench runs each cell)"
for m in ${BENCH_MODELS:-resnet50 mobilenet_v2 transformer_encoder}; do
  wants bench || break
  timeout 150 node dist/src/bench/bench-worker.js "{\"backend\":\"webgpu\",\"modelDir\":\".dev/models/$m\",\"customLayerModules\":[],\"batchSizes\":[1,32],\"repeats\":10,\"budgetS\":$BENCH_BUDGET}" \
    2> >(grep -v artificially >&2) | grep '^{' | sed "s/^/{\"model\":\"$m\",\"result\":/; s/\$/}/" | tee -a "$OUT/bench-webgpu.jsonl"
done

wants keras-jax && step "timing: Keras 3 on JAX, jit, on the GPU"
for precision in default highest; do
  wants keras-jax || break
  timeout 200 python3 scripts/gpu/bench_keras_jax.py --path fixtures/models --batch-sizes 1,32 --repeats 10 --budget 6 --precision $precision \
    bench_models:resnet50 bench_models:mobilenet_v2 bench_models:transformer_encoder > "$OUT/keras-jax-$precision.json"
done

wants zoo && step "layer zoo parity on webgpu (against Keras's goldens), one category at a time"
for dir in fixtures/bundles/zoo/*/; do
  wants zoo || break
  cat=$(basename "$dir")
  timeout 90 node dist/src/cli/main.js parity "$dir"* --backend webgpu 2>&1 | grep -v artificially > /tmp/zoo-$cat.log
  echo "$cat: $(grep -E '^parity: [0-9]+ (of|tensors)' /tmp/zoo-$cat.log | tail -1) $(grep -E 'error' /tmp/zoo-$cat.log | head -2)"
  grep -E ' FAIL' /tmp/zoo-$cat.log | awk '{print "  ", $1, $2, $3, $4}' | sort -u | head -20
done
step done
