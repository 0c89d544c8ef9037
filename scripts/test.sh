#!/usr/bin/env bash
# Runs the unit, conformance and execution tests. Where the Vulkan loader is installed, Mesa's
# software Vulkan (lavapipe) is set up first, so the WebGPU provider's tests run without a GPU
# (the same provider code path as on a GPU: ../shared/notes/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
lavapipe=../shared/tools/lavapipe.sh
if [ -z "${STRATA_NO_WEBGPU:-}" ] && [ -f "$lavapipe" ] && ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  eval "$(bash "$lavapipe")"
  export STRATA_WEBGPU=1
elif [ -n "${CI:-}" ]; then
  echo "test.sh: CI needs the WebGPU tests: install libvulkan1 (.ci/run does)" >&2
  exit 1
fi
exec npx vitest run "$@"
