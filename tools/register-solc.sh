#!/bin/sh
# Register every solc-js build in node_modules with py-solc-x (and so ape-solidity):
# for each package that is solc-js (`solc`, or an alias such as `solc-0.8.20`), write a
# `solc-v<version>` launcher into py-solc-x's folder: SOLCX_BINARY_PATH, or this checkout's
# own .venv/solcx (the ape-offline-solc plugin points py-solc-x there), so that checkouts
# never share, or break, each other's launchers.
# The default build also becomes the virtual environment's `solc`, for slither.
# Quiet and quick when everything is already in place.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
node=$(command -v node) || { echo "register-solc: node not found on PATH" >&2; exit 1; }
folder=${SOLCX_BINARY_PATH:-$here/.venv/solcx}
mkdir -p "$folder"

write_launcher() { # target package-dir
  want="#!/bin/sh
# solc over solc-js, written by itgen-chain's tools/register-solc.sh
SOLCJS_PACKAGE='$2' exec '$node' '$here/tools/solc.js' \"\$@\""
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$want" ]; then
    rm -f "$1"
    printf '%s\n' "$want" > "$1"
    chmod +x "$1"
    echo "registered $1"
  fi
}

for pkg in "$here"/node_modules/solc "$here"/node_modules/solc-*; do
  [ -f "$pkg/soljson.js" ] || continue
  version=$(sed -n 's/^ *"version": *"\([0-9.]*\)".*/\1/p' "$pkg/package.json" | head -1)
  write_launcher "$folder/solc-v$version" "$pkg"
done
[ -d "$here/node_modules/solc" ] || { echo "register-solc: node_modules/solc missing: run npm ci" >&2; exit 1; }
if [ -d "$here/.venv/bin" ]; then
  write_launcher "$here/.venv/bin/solc" "$here/node_modules/solc"
fi
