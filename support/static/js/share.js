// The thanks page's "Share" button: the device's share sheet (Web Share API) with a
// sentence and the appeal's address. Without the API (or without JavaScript) the
// button stays hidden and "Share by email" starts a mail with the same words.
(function () {
  "use strict";
  var button = document.querySelector("[data-share]");
  if (!button || typeof navigator.share !== "function") return;
  var data = {
    title: button.dataset.shareTitle,
    text: button.dataset.shareText,
    url: button.dataset.shareUrl
  };
  if (typeof navigator.canShare === "function" && !navigator.canShare(data)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    // A reader who closes the sheet has not failed at anything: nothing to say.
    navigator.share(data).catch(function () {});
  });
})();
