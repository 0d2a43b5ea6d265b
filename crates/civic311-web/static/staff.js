// The staff workspace's one script of its own, a progressive enhancement: on a phone,
// sections marked `data-fold-on-phone` (the queue's filters) start folded under their
// one-line summary, so the work is on the first screen; wider, they stay open. Without
// scripts they are simply open.
(function () {
  "use strict";
  var phone = window.matchMedia("(max-width: 40rem)");
  function fold() {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (d) {
      d.open = !phone.matches;
    });
  }
  fold();
  phone.addEventListener("change", fold);
})();
