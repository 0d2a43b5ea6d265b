// Maps over tiles, as a progressive enhancement. The server draws every map as an
// outline that needs no tiles and no script; where a tile source is configured, this
// draws the same outline, point and nearby reports over tiles with Leaflet, and shows
// it in place of the outline once a tile has loaded. If tiles cannot be reached, the
// outline simply stays. On the intake screen and the report form it adds a map to
// place a pin on, which fills in the latitude and longitude fields; on the public map
// it gathers nearby requests into numbered clusters that split as you zoom in.
(function () {
  "use strict";
  if (!window.L) return;

  function data(el, name) {
    try { return JSON.parse(el.getAttribute(name)); } catch (e) { return null; }
  }

  // A Leaflet map in a new box at the start of `holder`, shown once a tile loads.
  function tiledMap(holder, d, label) {
    var box = document.createElement("div");
    box.className = "tiles";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", label);
    // Nothing in it can take the focus while it is kept off-screen.
    box.inert = true;
    holder.insertBefore(box, holder.firstChild);
    var map = L.map(box, { keyboard: false, scrollWheelZoom: false });
    var layer = L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 });
    layer.once("tileload", function () {
      // Leaflet keeps the position it found (absolute, off-screen); in place now.
      box.style.position = "relative";
      box.inert = false;
      holder.classList.add("has-tiles");
      map.invalidateSize();
    });
    layer.addTo(map);
    return map;
  }

  document.querySelectorAll("figure.map[data-map]").forEach(function (figure) {
    var d = data(figure, "data-map");
    if (!d) return;
    var title = figure.querySelector("svg.map title");
    var map = tiledMap(figure, d, title ? title.textContent : "Map");
    var bounds = L.latLngBounds([d.point]);
    d.outline.forEach(function (ring) {
      var line = L.polygon(ring, { color: "#123", weight: 2, fill: false, interactive: false }).addTo(map);
      bounds.extend(line.getBounds());
    });
    d.others.forEach(function (p) {
      L.circleMarker(p, { radius: 5, color: "#8a5a00", fillOpacity: 0.8, interactive: false }).addTo(map);
    });
    L.circleMarker(d.point, { radius: 8, color: "#a4161a", fillOpacity: 0.9, interactive: false }).addTo(map);
    map.fitBounds(bounds.pad(0.1), { maxZoom: 17 });
  });

  document.querySelectorAll("[data-pick]").forEach(function (holder) {
    var d = data(holder, "data-pick");
    var lat = document.getElementById("lat");
    var lon = document.getElementById("long");
    if (!d || !lat || !lon) return;
    var label = holder.getAttribute("data-label") || "Map: click or tap where the problem is to fill in its latitude and longitude";
    var map = tiledMap(holder, d, label);
    var pin = null;
    function place(at) {
      if (pin) pin.setLatLng(at); else pin = L.circleMarker(at, { radius: 8, color: "#a4161a", fillOpacity: 0.9 }).addTo(map);
    }
    var given = [parseFloat(lat.value), parseFloat(lon.value)];
    if (isFinite(given[0]) && isFinite(given[1])) {
      place(given);
      map.setView(given, 17);
    } else {
      map.setView(d.centre, 13);
    }
    map.on("click", function (e) {
      place(e.latlng);
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
    });
  });

  // Points closer than CLUSTER pixels at the current zoom become one numbered marker.
  var CLUSTER = 40;
  document.querySelectorAll("figure.map[data-cluster]").forEach(function (figure) {
    var d = data(figure, "data-cluster");
    if (!d) return;
    var title = figure.querySelector("svg.map title");
    var map = tiledMap(figure, d, title ? title.textContent : "Map");
    var bounds = L.latLngBounds([]);
    d.outline.forEach(function (ring) {
      bounds.extend(L.polygon(ring, { color: "#123", weight: 2, fill: false, interactive: false }).addTo(map).getBounds());
    });
    d.points.forEach(function (p) { bounds.extend(p); });
    var markers = L.layerGroup().addTo(map);
    function draw() {
      markers.clearLayers();
      var cells = {};
      d.points.forEach(function (p) {
        var px = map.project(p, map.getZoom());
        var key = Math.floor(px.x / CLUSTER) + ":" + Math.floor(px.y / CLUSTER);
        var c = cells[key] || (cells[key] = { n: 0, lat: 0, lng: 0 });
        c.n += 1; c.lat += p[0]; c.lng += p[1];
      });
      Object.keys(cells).forEach(function (key) {
        var c = cells[key];
        var at = [c.lat / c.n, c.lng / c.n];
        if (c.n === 1) {
          L.circleMarker(at, { radius: 6, color: "#a4161a", fillOpacity: 0.9, interactive: false }).addTo(markers);
        } else {
          var size = 24 + Math.min(24, Math.round(Math.log(c.n) * 5));
          var icon = L.divIcon({ className: "cluster", html: String(c.n), iconSize: [size, size] });
          L.marker(at, { icon: icon, keyboard: false, interactive: false }).addTo(markers);
        }
      });
    }
    map.on("zoomend", draw);
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.05), { maxZoom: 16 }); else map.setView([0, 0], 2);
    draw();
  });
})();
