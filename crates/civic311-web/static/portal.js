// The resident portal's one script, a progressive enhancement: "use my location" fills
// in the latitude and longitude from the device, and a numbered pin on the asset map
// picks that asset in the list. Without it (or without scripts) the address field,
// the coordinates and the list still work.
(function () {
  "use strict";
  document.querySelectorAll(".asset-map a[data-asset]").forEach(function (pin) {
    pin.addEventListener("click", function (e) {
      var choice = document.getElementById("pick-" + pin.getAttribute("data-asset"));
      if (!choice) return;
      e.preventDefault();
      choice.checked = true;
      choice.focus();
    });
  });
})();
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("long");
  if (!button || !lat || !lon || !navigator.geolocation) return;
  var status = document.getElementById("locate-status");
  button.parentNode.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-finding");
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      var coords = lat.closest("details");
      if (coords) coords.open = true;
      status.textContent = button.getAttribute("data-found");
    }, function () {
      status.textContent = button.getAttribute("data-failed");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
