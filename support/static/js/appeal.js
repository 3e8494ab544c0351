// Progressive enhancement for the appeal form; the page works without it.
// With it, the reader may pay on our own pay page (see below).
// Keeps the fee explanation in step with the amount and the "cover the fee" box
// (and hides it while "Other" holds no amount the server would take), and shows
// the "Other amount" field only when "Other" is chosen.
(function () {
  "use strict";
  var form = document.querySelector(".appeal-form");
  if (!form) return;

  // This browser runs JavaScript, so it can pay on our own page (the Payment Element,
  // in the page's language) when the newsroom takes payment there; without this
  // field the server sends the reader to Stripe's hosted page.
  if (form.dataset.checkoutUi === "elements") {
    var ui = document.createElement("input");
    ui.type = "hidden";
    ui.name = "ui";
    ui.value = "elements";
    form.appendChild(ui);
    form.querySelectorAll("[data-hosted-note]").forEach(function (note) { note.hidden = true; });
  }
  var other = form.querySelector("#amount_other");
  var otherField = form.querySelector("[data-other-field]");
  var otherRadio = form.querySelector('input[name="amount"][value="other"]');
  var cover = form.querySelector('input[name="cover_fees"]');
  var percent = parseFloat(form.dataset.feePercent);
  var fixed = parseInt(form.dataset.feeFixed, 10);
  var places = parseInt(form.dataset.exponent, 10);
  var scale = Math.pow(10, places);
  var minimum = parseFloat(form.dataset.min);
  var maximum = parseFloat(form.dataset.max);
  var explained = form.querySelector("[data-fee-explained]");
  var parts = {
    cover: form.querySelector("[data-fee-cover]"),
    note: form.querySelector("[data-fee-note]"),
    total: form.querySelector("[data-fee-total]"),
    small: form.querySelector("[data-fee-small]")
  };

  // The amount in major units, or NaN when it is one the server refuses
  // (support/money.py parse_amount: digits, one decimal point, the currency's
  // places, between the minimum gift and SUPPORT_MAX_AMOUNT).
  function typedAmount() {
    var text = (other.value || "").trim()
      .replace(/[\u0660-\u0669]/g, function (d) { return String(d.charCodeAt(0) - 0x660); })
      .replace(/[\u06f0-\u06f9]/g, function (d) { return String(d.charCodeAt(0) - 0x6f0); })
      .replace("\u066b", ".");
    var checked = form.querySelector('input[name="amount"]:checked');
    if (!text) {
      if (!checked || checked.value === "other") return NaN;
      text = checked.value;
    }
    var match = /^\d+(?:\.(\d+))?$/.exec(text);
    if (!match || (match[1] || "").length > places) return NaN;
    var value = parseFloat(text);
    return value >= minimum && value <= maximum ? value : NaN;
  }

  // The server's patterns, one per plural category ("${number}"; "{number} دولارات"
  // for few, "{number} دولارًا" for many...), and digits, so the note reads exactly
  // as the server wrote it.
  var patterns = JSON.parse(form.dataset.money);
  var plurals = new Intl.PluralRules(form.dataset.lang);

  function number(value, places) {
    return new Intl.NumberFormat(form.dataset.lang + "-u-nu-" + form.dataset.digits, {
      minimumFractionDigits: places, maximumFractionDigits: places
    }).format(value);
  }

  function money(minor) {
    var major = minor / scale;
    var places = major === Math.round(major) ? 0 : Math.log10(scale);
    var category = plurals.select(Number(major.toFixed(places)));
    var pattern = patterns[category] || patterns.other;
    return pattern.replace("{number}", number(major, places));
  }

  function percentText(value) {
    return form.dataset.percent.replace("{number}", number(value, 0));
  }

  function fee(minor) { return Math.round(minor * percent / 100 + fixed); }

  function grossUp(minor) {
    var gross = Math.ceil((minor + fixed) / (1 - percent / 100));
    while (gross - fee(gross) < minor) gross += 1;
    while (gross - 1 - fee(gross - 1) >= minor) gross -= 1;
    return gross;
  }

  function fill(el, values) {
    el.textContent = el.dataset.template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key];
    });
  }

  function update() {
    var covered = cover && cover.checked;
    parts.total.hidden = !covered;
    parts.note.hidden = covered;
    var major = typedAmount();
    // No valid amount: no figures (they would describe an amount nobody chose).
    explained.hidden = isNaN(major);
    if (isNaN(major)) {
      parts.cover.textContent = parts.cover.dataset.plain;
      return;
    }
    var minor = Math.round(major * scale);
    var f = fee(minor);
    var gross = grossUp(minor);
    fill(parts.cover, { extra: money(gross - minor) });
    fill(parts.note, { amount: money(minor), fee: money(f), net: money(minor - f) });
    fill(parts.total, { total: money(gross), fee: money(gross - minor), amount: money(minor) });
    var share = Math.round(100 * f / minor);
    parts.small.hidden = share < 20;
    fill(parts.small, { percent: percentText(share), yearly: money(minor * 12), yearly_fee: money(fee(minor * 12)) });
  }

  function showOther() {
    if (otherField && otherRadio) otherField.hidden = !otherRadio.checked;
  }

  if (other && otherRadio) {
    other.addEventListener("input", function () {
      if (other.value) otherRadio.checked = true;
      update();
    });
  }
  form.querySelectorAll('input[name="amount"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.value !== "other") other.value = "";
      showOther();
      if (radio.value === "other") other.focus();
      update();
    });
  });
  if (cover) cover.addEventListener("change", update);
  showOther();
})();
