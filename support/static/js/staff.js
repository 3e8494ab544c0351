// Staff header: on a phone the navigation folds behind "Menu" so it takes one line;
// wider, it stays open. Without JavaScript it is simply always open.
(function () {
  "use strict";
  var menu = document.querySelector(".staff-menu");
  if (!menu || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 40rem)");
  function fit() { menu.open = wide.matches; }
  fit();
  wide.addEventListener("change", fit);
})();
