// The card page (templates/account/card.html): Stripe's Payment Element for a
// SetupIntent, in the page's language, then stripe.confirmSetup, which sends the
// browser to our return page. Every message the page shows is the page's own,
// translated on the server into data-msg-* attributes. No inline script: the
// page's Content-Security-Policy allows only this file and Stripe.js.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) return;
  var data = form.dataset;
  var holder = document.getElementById("payment-element");
  var submit = document.getElementById("card-submit");
  var errorBox = document.getElementById("card-error");

  function show(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function unavailable() {
    holder.removeAttribute("data-loading");
    holder.textContent = "";
    show(data.msgUnavailable);
  }

  // Stripe.js did not load (blocked, offline) or refused to start: say so, in our words.
  if (typeof window.Stripe !== "function") return unavailable();
  var stripe, elements, element;
  try {
    stripe = window.Stripe(data.key, { locale: data.locale });
    elements = stripe.elements({ clientSecret: data.secret, locale: data.locale });
    element = elements.create("payment");
  } catch (problem) {
    return unavailable();
  }
  var complete = false;
  var busy = false;

  element.on("ready", function () {
    holder.removeAttribute("data-loading");
    submit.disabled = false;
    form.setAttribute("data-ready", "yes");
  });
  element.on("change", function (event) {
    complete = !!event.complete;
    if (complete) show("");
  });
  holder.textContent = "";
  element.mount(holder);

  // Our words for what went wrong, whatever language Stripe answered in.
  function messageFor(error) {
    if (!error) return data.msgOther;
    if (error.type === "api_connection_error") return data.msgNetwork;
    if (/_authentication_failure$/.test(error.code || "")) return data.msgAuthentication;
    if (error.type === "card_error" || error.code === "card_declined") return data.msgDeclined;
    if (error.type === "validation_error") return data.msgIncomplete;
    return data.msgOther;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    submit.disabled = true;
    show("");
    form.setAttribute("data-state", "confirming");
    stripe
      .confirmSetup({ elements: elements, confirmParams: { return_url: data.returnUrl } })
      .then(function (answer) {
        // A success leaves the page for the return URL; only an error comes back here.
        if (answer && answer.error) {
          form.setAttribute("data-state", "error");
          show(messageFor(answer.error));
        }
      })
      .catch(function () {
        form.setAttribute("data-state", "error");
        show(data.msgNetwork);
      })
      .then(function () {
        busy = false;
        submit.disabled = false;
      });
  });
})();
