// Globals of the console's vendored scripts, loaded by index.html before the modules:
// Leaflet (`L`, with leaflet.markercluster's additions) and uPlot. Types only: the runtime
// files are the ones scripts/vendor-web.sh copies into static/vendor/.
/// <reference types="uplot" />
/// <reference types="leaflet.markercluster" />
import type * as Leaflet from 'leaflet';

declare global {
  /** leaflet.markercluster's classes (its types augment the 'leaflet' module, not the global L). */
  type LMarkerClusterGroup = Leaflet.MarkerClusterGroup;
  type LMarkerCluster = Leaflet.MarkerCluster;
}
