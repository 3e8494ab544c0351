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

// A table wider than the screen scrolls inside its box; keyboard users need to be
// able to focus that box to scroll it, so it joins the tab order while it scrolls.
(function () {
  "use strict";
  var tables = document.querySelectorAll("table.data");
  function mark() {
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.scrollWidth > table.clientWidth) table.setAttribute("tabindex", "0");
      else table.removeAttribute("tabindex");
    }
  }
  mark();
  window.addEventListener("resize", mark);
})();
