#!/usr/bin/env bash
# Refresh the console's vendored front-end packages.
#
# Installs the exact versions pinned in web/package-lock.json (npm ci, no install scripts) and
# copies their distribution files, with licences, into src/cityops/web/static/vendor/. The
# copies are committed, so the Python package serves the console without Node or any network.
# Run after changing web/package.json (then `npm install --package-lock-only` first). The
# devDependencies (TypeScript and type packages, for `make lint-js`) are never copied.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/web"
dest="$root/src/cityops/web/static/vendor"

command -v npm >/dev/null || { echo "vendor-web: npm (Node.js >= 20) is needed" >&2; exit 1; }

(cd "$web" && npm ci --ignore-scripts --no-audit --no-fund)
nm="$web/node_modules"

version() { node -p "require('$nm/$1/package.json').version"; }

rm -rf "$dest"
mkdir -p "$dest/leaflet/images" "$dest/leaflet.markercluster" "$dest/uplot"

# Leaflet: UMD build (global L), stylesheet, default marker and layer-control images.
cp "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.css" "$dest/leaflet/"
cp "$nm/leaflet/dist/images/"*.png "$dest/leaflet/images/"
cp "$nm/leaflet/LICENSE" "$dest/leaflet/LICENSE"

# Leaflet.markercluster: plugin for the global L, with its two stylesheets.
cp "$nm/leaflet.markercluster/dist/leaflet.markercluster.js" \
   "$nm/leaflet.markercluster/dist/MarkerCluster.css" \
   "$nm/leaflet.markercluster/dist/MarkerCluster.Default.css" \
   "$dest/leaflet.markercluster/"
cp "$nm/leaflet.markercluster/MIT-LICENCE.txt" "$dest/leaflet.markercluster/LICENSE"

# uPlot: IIFE build (global uPlot) and stylesheet.
cp "$nm/uplot/dist/uPlot.iife.min.js" "$nm/uplot/dist/uPlot.min.css" "$dest/uplot/"
cp "$nm/uplot/LICENSE" "$dest/uplot/LICENSE"

# Source-map comments point at files that are not vendored; drop them to keep devtools quiet.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/leaflet/leaflet.js" \
  "$dest/leaflet.markercluster/leaflet.markercluster.js"

find "$dest" -type f -exec chmod 644 {} +

cat > "$dest/VERSIONS.txt" <<VERSIONS
Vendored by scripts/vendor-web.sh from web/package-lock.json; do not edit by hand.
leaflet $(version leaflet)
leaflet.markercluster $(version leaflet.markercluster)
uplot $(version uplot)
VERSIONS

echo "vendor-web: refreshed $dest"
cat "$dest/VERSIONS.txt"
