// "Try again" on an error page goes back to the form the reader filled in, choice kept.
// Without JavaScript the link opens the appeal afresh; a Content-Security-Policy
// without 'unsafe-inline' is why this is a file and not an onclick attribute.
(function () {
  "use strict";
  document.querySelectorAll("[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
