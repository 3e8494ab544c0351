/*
 * The card form inside the Payment Element's iframe (served by the Stripe emulator).
 * Confirms with the emulator (same origin), shows the 3-D Secure step, and answers the
 * embedding page (stripe.js) with postMessage. Labels follow the document's language.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var parentOrigin = params.get("origin") || "*";
  var lang = document.documentElement.lang === "ar" ? "ar" : "en";
  var TEXT = {
    en: {
      testCards: "Test cards",
      success: "Succeeds",
      declined: "Declined",
      auth: "3-D Secure",
      number: "Card number",
      expiry: "Expiration (MM / YY)",
      cvc: "Security code",
      incomplete_number: "Your card number is incomplete.",
      incomplete_expiry: "Your card's expiration date is incomplete.",
      incomplete_cvc: "Your card's security code is incomplete.",
      challengeTitle: "Confirm this payment (3-D Secure test)",
      challengeText: "This is the emulator's test authentication page.",
      complete: "Complete authentication",
      fail: "Fail authentication"
    },
    ar: {
      testCards: "بطاقات الاختبار",
      success: "تنجح",
      declined: "تُرفض",
      auth: "تحقق ثلاثي الأبعاد",
      number: "رقم البطاقة",
      expiry: "تاريخ الانتهاء (شهر / سنة)",
      cvc: "رمز الأمان",
      incomplete_number: "رقم البطاقة غير مكتمل.",
      incomplete_expiry: "تاريخ انتهاء البطاقة غير مكتمل.",
      incomplete_cvc: "رمز الأمان للبطاقة غير مكتمل.",
      challengeTitle: "تأكيد عملية الدفع (اختبار التحقق ثلاثي الأبعاد)",
      challengeText: "هذه صفحة التحقق التجريبية في محاكي سترايب.",
      complete: "إكمال التحقق",
      fail: "رفض التحقق"
    }
  }[lang];
  var CARDS = [
    ["4242424242424242", TEXT.success],
    ["4000000000000002", TEXT.declined],
    ["4000002500003155", TEXT.auth]
  ];
  var form = document.getElementById("payment-form");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function field(id, label, attrs) {
    var wrap = el("label", { for: id, class: "field" }, label);
    var input = el("input", Object.assign({ id: id, name: id, dir: "ltr", inputmode: "numeric" }, attrs));
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  var quick = el("fieldset", { class: "test-cards" });
  quick.appendChild(el("legend", {}, TEXT.testCards));
  CARDS.forEach(function (card) {
    var button = el("button", { type: "button", id: "card-" + card[0].slice(-4), "data-number": card[0] });
    button.appendChild(el("span", { class: "number", dir: "ltr" }, card[0].replace(/(\d{4})(?=\d)/g, "$1 ")));
    button.appendChild(el("span", { class: "note" }, card[1]));
    quick.appendChild(button);
  });
  form.appendChild(quick);
  var number = field("number", TEXT.number, { autocomplete: "cc-number", placeholder: "1234 1234 1234 1234" });
  var row = el("div", { class: "row" });
  form.appendChild(row);
  var expiry = field("expiry", TEXT.expiry, { autocomplete: "cc-exp", placeholder: "MM / YY" });
  var cvc = field("cvc", TEXT.cvc, { autocomplete: "cc-csc", placeholder: "CVC" });
  row.appendChild(expiry.parentNode);
  row.appendChild(cvc.parentNode);
  var error = el("p", { id: "error", class: "error", role: "alert" });
  form.appendChild(error);
  var challenge = el("section", { id: "challenge", class: "challenge", hidden: "" });
  challenge.appendChild(el("h2", {}, TEXT.challengeTitle));
  challenge.appendChild(el("p", {}, TEXT.challengeText));
  var completeButton = el("button", { type: "button", id: "tds-complete" }, TEXT.complete);
  var failButton = el("button", { type: "button", id: "tds-fail", class: "secondary" }, TEXT.fail);
  challenge.appendChild(completeButton);
  challenge.appendChild(failButton);
  document.body.appendChild(challenge);

  function tell(message) {
    window.parent.postMessage(message, parentOrigin);
  }

  function digits(value) {
    return value.replace(/\D/g, "");
  }

  function problem() {
    if (digits(number.value).length < 16) return "incomplete_number";
    if (digits(expiry.value).length < 4) return "incomplete_expiry";
    if (digits(cvc.value).length < 3) return "incomplete_cvc";
    return null;
  }

  function changed() {
    error.textContent = "";
    var empty = !number.value && !expiry.value && !cvc.value;
    tell({ type: "change", value: { complete: problem() === null, empty: empty, collapsed: false, value: { type: "card" } } });
  }

  quick.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    number.value = button.getAttribute("data-number").replace(/(\d{4})(?=\d)/g, "$1 ");
    expiry.value = "12 / 34";
    cvc.value = "123";
    changed();
  });
  [number, expiry, cvc].forEach(function (input) {
    input.addEventListener("input", changed);
  });

  function post(path, fields) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json().then(function (body) {
        return { ok: response.ok, body: body };
      });
    });
  }

  /** Show the 3-D Secure step; resolves with "complete" or "fail". */
  function authenticate() {
    challenge.hidden = false;
    form.hidden = true;
    resize();
    return new Promise(function (resolve) {
      function choose(event) {
        completeButton.removeEventListener("click", choose);
        failButton.removeEventListener("click", choose);
        challenge.hidden = true;
        form.hidden = false;
        resize();
        resolve(event.currentTarget === completeButton ? "complete" : "fail");
      }
      completeButton.addEventListener("click", choose);
      failButton.addEventListener("click", choose);
    });
  }


  function confirm(request) {
    var path = "/v3/" + request.kind + "/" + encodeURIComponent(request.objectId) + "/confirm";
    var secret = request.clientSecret;
    var fields = { client_secret: secret, card: digits(number.value) };
    if (request.email) fields.email = request.email;
    return post(path, fields).then(function (answer) {
      if (!answer.ok || answer.body.status !== "requires_action") return answer;
      return authenticate().then(function (choice) {
        return post(path, { client_secret: secret, three_d_secure: choice });
      });
    });
  }

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.source !== window.parent || (parentOrigin !== "*" && event.origin !== parentOrigin)) return;
    if (data.type !== "confirm") return;
    var code = problem();
    if (code) {
      error.textContent = TEXT[code];
      tell({ type: "result", id: data.id, ok: false, body: { error: { type: "validation_error", code: code } } });
      return;
    }
    confirm(data)
      .catch(function () {
        return { ok: false, body: { error: { type: "api_connection_error", code: "unexpected" } } };
      })
      .then(function (answer) {
        tell({ type: "result", id: data.id, ok: answer.ok, body: answer.body });
      });
  });

  function resize() {
    tell({ type: "resize", height: Math.ceil(document.documentElement.scrollHeight) + 4 });
  }

  resize();
  tell({ type: "ready" });
})();
