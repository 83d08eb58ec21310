#!/bin/sh
# Rebuilds static/vendor/codemirror/ (codemirror.js and LICENSES.txt) from the npm packages
# pinned in package.json, in a scratch directory outside the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/static/vendor/codemirror
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$here/entry.js" "$here/licenses.js" "$scratch/"
cd "$scratch"
npm ci --no-audit --no-fund --silent
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --target=es2019 \
  --legal-comments=none --metafile=meta.json --outfile="$out/codemirror.js"
node licenses.js meta.json > "$out/LICENSES.txt"
echo "built $out/codemirror.js"
