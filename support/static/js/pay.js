// The pay page (templates/appeal/pay.html): Stripe's Payment Element for the reader's
// Checkout Session (`ui_mode: "elements"`), in the page's language, through the Checkout
// Elements SDK: Stripe(key, {locale}) → initCheckoutElementsSdk({clientSecret}) →
// createPaymentElement().mount() and loadActions() → actions.confirm({email}).
// Once paid, Stripe.js sends the reader to the session's return_url (the thanks page).
// What can go wrong is said in our own words (the page's hidden [data-message]s), never
// in Stripe's; when Stripe.js cannot load, the page's link to Stripe's own page remains.
(function () {
  "use strict";
  var form = document.querySelector("[data-pay]");
  if (!form) return;
  var data = form.dataset;
  var messages = document.querySelector("[data-pay-messages]");
  var completeNote = document.querySelector('[data-message="complete"]');
  var button = form.querySelector("[data-pay-button]");
  var label = form.querySelector("[data-pay-label]");
  var working = form.querySelector("[data-pay-busy]");
  var loading = form.querySelector("[data-pay-loading]");
  var email = form.querySelector("#pay-email");
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  var checkout = null;
  var actions = null;
  var ready = false;
  var paying = false;

  // The appeal's colours and corners inside Stripe's frame.
  var APPEARANCE = {
    theme: "stripe",
    variables: { colorPrimary: "#0b5fff", colorDanger: "#a4161a", colorText: "#1b1b1f", borderRadius: "10px" }
  };

  /** Show our message `name` (or none). */
  function say(name) {
    var shown = false;
    messages.querySelectorAll("[data-message]").forEach(function (p) {
      p.hidden = p.getAttribute("data-message") !== name;
      shown = shown || !p.hidden;
    });
    messages.hidden = !shown;
    if (shown) messages.scrollIntoView({ block: "nearest" });
  }

  function update() {
    button.disabled = paying || !ready || !actions;
    label.hidden = paying;
    working.hidden = !paying;
  }

  function fail(name) {
    paying = false;
    if (loading) loading.hidden = true;
    say(name);
    update();
  }

  /** A session that can no longer be paid: paid (on to the thanks page) or expired. */
  function closed(session) {
    var status = session && session.status && session.status.type;
    if (status === "complete") {
      form.hidden = true;
      say(null);
      completeNote.hidden = false;
      window.location.assign(data.thanks);
      return true;
    }
    if (status === "expired") {
      form.hidden = true;
      say("expired");
      return true;
    }
    return false;
  }

  function emailProblem() {
    var value = email.value.trim();
    if (!value) return "missing";
    return EMAIL.test(value) ? null : "invalid";
  }

  function showEmailProblem(problem) {
    form.querySelectorAll("[data-error]").forEach(function (span) {
      span.hidden = span.getAttribute("data-error") !== problem;
    });
    if (problem) {
      email.setAttribute("aria-invalid", "true");
      var shown = form.querySelector('[data-error="' + problem + '"]');
      email.setAttribute("aria-describedby", "pay-email-hint " + shown.id);
      email.focus();
    } else {
      email.removeAttribute("aria-invalid");
      email.setAttribute("aria-describedby", "pay-email-hint");
    }
  }

  /** After a refusal that is not the card's: the session may have closed meanwhile. */
  function recheck() {
    checkout.loadActions().then(function (answer) {
      if (answer.type === "success" && closed(answer.actions.getSession())) return;
      fail("card");
    }, function () {
      fail("network");
    });
  }

  function confirmed(answer) {
    if (answer.type === "success") return; // Stripe.js is on its way to the thanks page
    var error = answer.error || {};
    if (error.code === "paymentFailed") {
      var decline = error.paymentFailed && error.paymentFailed.declineCode;
      fail(decline && !/authentication/.test(decline) ? "declined" : "authentication");
    } else {
      recheck();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (paying || !actions) return;
    var problem = emailProblem();
    showEmailProblem(problem);
    if (problem) return;
    say(null);
    paying = true;
    update();
    actions.confirm({ email: email.value.trim() }).then(confirmed, function () {
      fail("network");
    });
  });
  email.addEventListener("input", function () {
    if (email.getAttribute("aria-invalid") && !emailProblem()) showEmailProblem(null);
  });

  if (typeof window.Stripe !== "function") {
    fail("network"); // Stripe.js did not load: blocked, or no connection
    return;
  }
  try {
    var stripe = window.Stripe(data.key, { locale: data.lang });
    checkout = stripe.initCheckoutElementsSdk({
      clientSecret: data.secret,
      elementsOptions: { appearance: APPEARANCE }
    });
    var element = checkout.createPaymentElement();
    element.on("ready", function () {
      ready = true;
      if (loading) loading.hidden = true;
      update();
    });
    element.mount("#payment-element");
  } catch (error) {
    fail("network");
    return;
  }
  checkout.loadActions().then(function (answer) {
    if (answer.type !== "success") return fail("network");
    if (closed(answer.actions.getSession())) return;
    actions = answer.actions;
    update();
  }, function () {
    fail("network");
  });
})();
