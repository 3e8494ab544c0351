/*
 * Stripe.js stand-in served by the Stripe emulator (devtools/stripe_emulator).
 * Implements only: Stripe(key, {locale}), stripe.initCheckoutElementsSdk(...),
 * stripe.elements(...), elements.create('payment'), stripe.confirmSetup(...),
 * stripe.retrieveSetupIntent(...). The card form lives in an iframe served by the
 * emulator; this script talks to it with postMessage. No dependencies, no inline styles.
 */
(function () {
  "use strict";
  var ORIGIN = new URL(document.currentScript.src).origin;
  var MESSAGES = {
    en: {
      card_declined: "Your card was declined.",
      incorrect_number: "Your card number is incorrect.",
      incomplete_number: "Your card number is incomplete.",
      incomplete_expiry: "Your card's expiration date is incomplete.",
      incomplete_cvc: "Your card's security code is incomplete.",
      payment_intent_authentication_failure:
        "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
      setup_intent_authentication_failure:
        "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
      checkout_session_inactive: "This checkout session can no longer be paid.",
      not_mounted: "Mount the Payment Element before confirming.",
      unexpected: "An unexpected error occurred. Please try again."
    },
    ar: {
      card_declined: "تم رفض بطاقتك.",
      incorrect_number: "رقم بطاقتك غير صحيح.",
      incomplete_number: "رقم البطاقة غير مكتمل.",
      incomplete_expiry: "تاريخ انتهاء البطاقة غير مكتمل.",
      incomplete_cvc: "رمز الأمان للبطاقة غير مكتمل.",
      payment_intent_authentication_failure:
        "تعذّر التحقق من وسيلة الدفع. يُرجى اختيار وسيلة دفع أخرى والمحاولة مجددًا.",
      setup_intent_authentication_failure:
        "تعذّر التحقق من وسيلة الدفع. يُرجى اختيار وسيلة دفع أخرى والمحاولة مجددًا.",
      checkout_session_inactive: "لم يعد بالإمكان الدفع في جلسة الدفع هذه.",
      not_mounted: "يجب تركيب عنصر الدفع قبل التأكيد.",
      unexpected: "حدث خطأ غير متوقع. يُرجى المحاولة مجددًا."
    }
  };

  function language(locale) {
    var tag = locale && locale !== "auto" ? locale : navigator.language || "en";
    return String(tag).split("-")[0] === "ar" ? "ar" : "en";
  }

  function idOf(secret) {
    return String(secret).split("_secret_")[0];
  }

  /** Stripe.js's error object (confirmSetup), its message in the element's language. */
  function makeError(body, lang) {
    var raw = (body && body.error) || {};
    var code = raw.code || "unexpected";
    var messages = MESSAGES[lang] || MESSAGES.en;
    return {
      type: raw.type || "api_error",
      code: code,
      decline_code: raw.decline_code,
      message: messages[code] || raw.message || messages.unexpected
    };
  }

  /** The Checkout Elements SDK's ConfirmError: a failed payment, or any other error. */
  function checkoutError(body, lang) {
    var error = makeError(body, lang);
    if (error.type === "card_error" || /_authentication_failure$/.test(error.code)) {
      return {
        message: error.message,
        code: "paymentFailed",
        paymentFailed: { declineCode: error.decline_code || null }
      };
    }
    return { message: error.message, code: null };
  }

  function getJson(path) {
    return fetch(ORIGIN + path, { credentials: "omit" }).then(function (response) {
      return response.json().then(function (body) {
        return { ok: response.ok, body: body };
      });
    });
  }

  /** The Payment Element: an iframe holding the card form, served by the emulator. */
  function PaymentElement(lang) {
    this.lang = lang;
    this.frame = null;
    this.handlers = {};
    this.pending = {};
    this.counter = 0;
    this.onMessage = this.onMessage.bind(this);
  }
  PaymentElement.prototype.on = function (name, handler) {
    (this.handlers[name] = this.handlers[name] || []).push(handler);
    return this;
  };
  PaymentElement.prototype.off = function (name, handler) {
    this.handlers[name] = (this.handlers[name] || []).filter(function (h) {
      return h !== handler;
    });
    return this;
  };
  PaymentElement.prototype.emit = function (name, payload) {
    (this.handlers[name] || []).forEach(function (handler) {
      handler(payload);
    });
  };
  PaymentElement.prototype.mount = function (target) {
    var node = typeof target === "string" ? document.querySelector(target) : target;
    if (!node) throw new Error("The selector " + target + " applies to no DOM element.");
    var frame = document.createElement("iframe");
    var query = "?locale=" + this.lang + "&origin=" + encodeURIComponent(location.origin);
    frame.src = ORIGIN + "/v3/elements/payment" + query;
    frame.title = this.lang === "ar" ? "نموذج الدفع الآمن" : "Secure payment input frame";
    frame.name = "emulator-payment-element";
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("width", "100%");
    frame.setAttribute("height", "300");
    window.addEventListener("message", this.onMessage);
    node.appendChild(frame);
    this.frame = frame;
  };
  PaymentElement.prototype.unmount = function () {
    window.removeEventListener("message", this.onMessage);
    if (this.frame) this.frame.remove();
    this.frame = null;
  };
  PaymentElement.prototype.destroy = PaymentElement.prototype.unmount;
  PaymentElement.prototype.onMessage = function (event) {
    if (!this.frame || event.source !== this.frame.contentWindow || event.origin !== ORIGIN) return;
    var data = event.data || {};
    if (data.type === "ready") this.emit("ready", { elementType: "payment" });
    if (data.type === "change") this.emit("change", Object.assign({ elementType: "payment" }, data.value));
    if (data.type === "resize") this.frame.setAttribute("height", String(data.height));
    if (data.type === "result" && this.pending[data.id]) {
      this.pending[data.id](data);
      delete this.pending[data.id];
    }
  };
  /** Ask the frame to confirm `kind` ("checkout_sessions" or "setup_intents"). */
  PaymentElement.prototype.confirm = function (kind, secret, extra) {
    var self = this;
    if (!self.frame) {
      return Promise.resolve({ ok: false, body: { error: { code: "not_mounted", type: "integration_error" } } });
    }
    var id = ++self.counter;
    return new Promise(function (resolve) {
      self.pending[id] = resolve;
      var message = { type: "confirm", id: id, kind: kind, objectId: idOf(secret), clientSecret: secret };
      self.frame.contentWindow.postMessage(Object.assign(message, extra || {}), ORIGIN);
    });
  };

  /** The Checkout Elements SDK object for a ``ui_mode: elements`` Checkout Session. */
  function Checkout(stripe, options) {
    var elementsOptions = options.elementsOptions || {};
    this.lang = language(elementsOptions.locale || options.locale || stripe.locale);
    this.secret = Promise.resolve(options.clientSecret);
    this.element = null;
    this.session = null;
    this.handlers = [];
  }
  /** ``checkout.on('change', handler)``: called with the session whenever it changes. */
  Checkout.prototype.on = function (name, handler) {
    if (name === "change") this.handlers.push(handler);
  };
  Checkout.prototype.emit = function (session) {
    this.handlers.forEach(function (handler) {
      handler(session);
    });
  };
  Checkout.prototype.createPaymentElement = function () {
    if (!this.element) this.element = new PaymentElement(this.lang);
    return this.element;
  };
  Checkout.prototype.getPaymentElement = function () {
    return this.element;
  };
  Checkout.prototype.loadActions = function () {
    var self = this;
    return self.secret.then(function (secret) {
      self.clientSecret = secret;
      var path = "/v3/checkout_sessions/" + idOf(secret) + "?client_secret=" + encodeURIComponent(secret);
      return getJson(path).then(function (answer) {
        if (!answer.ok) return { type: "error", error: checkoutError(answer.body, self.lang) };
        self.session = answer.body;
        self.emit(self.session);
        return { type: "success", actions: self.actions() };
      });
    });
  };
  Checkout.prototype.actions = function () {
    var self = this;
    return {
      getSession: function () {
        return self.session;
      },
      confirm: function (params) {
        params = params || {};
        var element = self.element || new PaymentElement(self.lang);
        return element.confirm("checkout_sessions", self.clientSecret, { email: params.email || "" })
          .then(function (answer) {
            if (!answer.ok) return { type: "error", error: checkoutError(answer.body, self.lang) };
            self.session = answer.body.session;
            self.emit(self.session);
            if (params.redirect !== "if_required") {
              window.location.assign(params.returnUrl || answer.body.return_url);
            }
            return { type: "success", session: self.session };
          });
      }
    };
  };

  /** ``stripe.elements()`` for a SetupIntent's client secret. */
  function Elements(stripe, options) {
    this.lang = language(options.locale || stripe.locale);
    this.clientSecret = options.clientSecret;
    this.element = null;
  }
  Elements.prototype.create = function (type) {
    if (type !== "payment") throw new Error("The emulator's Stripe.js only creates 'payment' elements.");
    if (!this.element) this.element = new PaymentElement(this.lang);
    return this.element;
  };
  Elements.prototype.getElement = function (type) {
    return type === "payment" ? this.element : null;
  };
  Elements.prototype.update = function (options) {
    if (options && options.locale) this.lang = language(options.locale);
  };

  function withQuery(url, params) {
    var target = new URL(url, location.href);
    Object.keys(params).forEach(function (key) {
      target.searchParams.set(key, params[key]);
    });
    return target.toString();
  }

  function StripeStandIn(key, options) {
    if (!(this instanceof StripeStandIn)) return new StripeStandIn(key, options);
    if (!/^pk_(test|live)_/.test(String(key))) {
      throw new Error("Invalid value for Stripe(): apiKey should be a publishable key (pk_test_...).");
    }
    this.key = key;
    this.locale = (options || {}).locale || "auto";
  }
  StripeStandIn.prototype.initCheckoutElementsSdk = function (options) {
    return new Checkout(this, options || {});
  };
  StripeStandIn.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };
  StripeStandIn.prototype.retrieveSetupIntent = function (secret) {
    var path = "/v3/setup_intents/" + idOf(secret) + "?client_secret=" + encodeURIComponent(secret);
    return getJson(path).then(function (answer) {
      return answer.ok ? { setupIntent: answer.body } : { error: makeError(answer.body, "en") };
    });
  };
  StripeStandIn.prototype.confirmSetup = function (options) {
    var elements = options.elements;
    var confirmParams = options.confirmParams || {};
    var lang = elements.lang;
    var element = elements.element || new PaymentElement(lang);
    var secret = options.clientSecret || elements.clientSecret;
    return element.confirm("setup_intents", secret).then(function (answer) {
      if (!answer.ok) return { error: makeError(answer.body, lang) };
      var intent = answer.body;
      if (intent.last_setup_error) {
        var error = makeError({ error: intent.last_setup_error }, lang);
        error.setup_intent = intent;
        return { error: error };
      }
      if (options.redirect !== "if_required" && confirmParams.return_url) {
        window.location.assign(withQuery(confirmParams.return_url, {
          setup_intent: intent.id,
          setup_intent_client_secret: intent.client_secret,
          redirect_status: intent.status
        }));
      }
      return { setupIntent: intent };
    });
  };

  window.Stripe = StripeStandIn;
})();
