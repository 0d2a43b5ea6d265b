// The resident portal's one script, a progressive enhancement: "use my location" fills
// in the latitude and longitude from the device. Without it (or without scripts) the
// address field and the coordinates still work.
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
