#!/usr/bin/env bash
# Builds what scripts/gpu/run-gpu-check.sh needs on a GPU machine that reaches nothing outside it,
# into git-ignored folders the device tool carries (carry: [".dev", ".gl", ".whl"]; about 42 MB):
#   .dev/node.xz       this machine's Node, compressed (the GPU image has none)
#   .dev/nm.tar.xz     node_modules without what the check does not load (TypeScript, mocha,
#                      playwright, tfjs-node, source maps, other bundles)
#   .dev/dist.tar.xz   the built dist/ (rebuild and re-run after changing src/)
#   .dev/webgpu.tar.xz Dawn's Node binding, Linux x64 only (npm package webgpu)
#   .dev/models/M/model.json  the bench models converted (weights are filled there: fill-weights.mjs)
#   .gl/*.deb          the Vulkan loader and GL dispatch libraries NVIDIA's Vulkan driver needs
#   .whl/*.whl         Keras (and namex, optree) for Python 3.12, for Keras on JAX there
# Run from the repository root after `npm run setup`.
set -euo pipefail
WEBGPU_VERSION=0.6.2
for dir in .dev .gl .whl; do grep -qx "/$dir/" .git/info/exclude || echo "/$dir/" >> .git/info/exclude; done
mkdir -p .dev/models .gl .whl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

xz -T2 -9 -c "$(command -v node)" > .dev/node.xz

cp -a node_modules "$work/"
(cd "$work/node_modules" && rm -rf typescript playwright-core mocha fast-check @types @tensorflow/tfjs-node core-js &&
  find . \( -name '*.map' -o -name '*.min.js' -o -name '*.d.ts' -o -name '*.es2017.js' -o -name '*.fesm.js' -o -name miniprogram \) -prune -exec rm -rf {} +)
tar cJf .dev/nm.tar.xz -C "$work" node_modules

npx tsc -p tsconfig.json
tar cJf .dev/dist.tar.xz dist

(cd "$work" && npm pack --silent "webgpu@$WEBGPU_VERSION" > /dev/null && tar xzf "webgpu-$WEBGPU_VERSION.tgz")
mkdir -p "$work/slim/webgpu/dist/linux-x64"
cp "$work/package/index.js" "$work/package/package.json" "$work/slim/webgpu/"
cp "$work/package/dist/linux-x64/dawn.node" "$work/slim/webgpu/dist/linux-x64/"
tar cJf .dev/webgpu.tar.xz -C "$work/slim" webgpu

cat > "$work/save.py" <<'PY'
import sys
sys.path.insert(0, "fixtures/models")
import keras, bench_models
keras.utils.set_random_seed(0)
for name in ["resnet50", "mobilenet_v2", "transformer_encoder"]:
    getattr(bench_models, name)().save(f"{sys.argv[1]}/{name}.keras")
PY
TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python "$work/save.py" "$work"
for m in resnet50 mobilenet_v2 transformer_encoder; do
  node dist/src/cli/main.js convert "$work/$m.keras" "$work/$m" > /dev/null
  mkdir -p ".dev/models/$m" && cp "$work/$m/model.json" ".dev/models/$m/"
done

o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "keras==$(grep -i '^keras==' python/requirements.lock | cut -d= -f3)" namex==0.1.0 optree==0.20.0
du -sh .dev .gl .whl
