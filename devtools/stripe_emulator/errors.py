"""Stripe-shaped API errors."""


class StripeError(Exception):
    """An error answered with Stripe's ``{"error": {...}}`` body and an HTTP status."""

    def __init__(
        self, status, message, type="invalid_request_error", code=None, param=None, headers=None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        # Extra response headers, e.g. ``Stripe-Should-Retry`` on an injected failure.
        self.headers = dict(headers or {})
        # A failure that is itself a change of state (a declined invoice payment counts
        # an attempt and emits ``invoice.payment_failed``): kept, not rolled back.
        self.keep_state = False

    def body(self, request_id=None) -> dict:
        """Return the JSON body Stripe would send for this error."""
        err = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.type == "card_error":
            err["decline_code"] = "generic_decline"
        if request_id:
            err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": err}


def invalid(message, param=None, code=None) -> StripeError:
    """400 invalid_request_error."""
    return StripeError(400, message, code=code, param=param)


def unknown_param(param) -> StripeError:
    """400 for a parameter the endpoint does not accept."""
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def missing_param(param) -> StripeError:
    """400 for a required parameter that was not sent."""
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def not_found(kind, obj_id, param=None) -> StripeError:
    """404 resource_missing in Stripe's wording."""
    return StripeError(
        404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param or "id"
    )


def card_declined() -> StripeError:
    """402 card_error as returned for a generic decline."""
    return StripeError(402, "Your card was declined.", type="card_error", code="card_declined")
