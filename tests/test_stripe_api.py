"""The one mapping of Stripe's failures: passing trouble, refusal, or no such object.

The worker waits 15 s after passing trouble and a minute after a refusal, staff
read "Stripe refused: …" or "press again in a moment", and readers get a 404
page rather than a 502 for a customer Stripe no longer has: all of that rests
on this mapping. Stripe's own retry advice (`Stripe-Should-Retry`) comes first,
then the kind of failure. The first tests build the library's errors as the
library raises them; the last ones go through the real library over HTTP to
the emulator.
"""

from __future__ import annotations

import pytest
import stripe

from support import create_app, stripe_api
from support.stripe_api import StripeNotFound, StripeUnavailable
from tests.conftest import base_config


def invalid(status=400, code=None, message="Invalid integer: abc", headers=None):
    return stripe.InvalidRequestError(
        message, "amount", code=code, http_status=status, headers=headers or {}
    )


PASSING = {
    "no connection": stripe.APIConnectionError("Connection refused"),
    "timeout": stripe.APIConnectionError("Request timed out", should_retry=True),
    "rate limited": stripe.RateLimitError("Too many requests", http_status=429),
    "server error": stripe.APIError("An unknown error occurred", http_status=500),
    "bad gateway": stripe.APIError("Bad gateway", http_status=502),
    "unavailable": stripe.APIError("Service unavailable", http_status=503),
    # A request with the same idempotency key still in flight: the library retries it.
    "conflict": invalid(status=409, message="Another request is in progress"),
}
REFUSED = {
    "bad parameter": invalid(code="parameter_invalid_integer"),
    "bad key": stripe.AuthenticationError("Invalid API Key provided", http_status=401),
    "forbidden": stripe.PermissionError("The key may not do this", http_status=403),
    "card declined": stripe.CardError(
        "Your card was declined", None, "card_declined", http_status=402
    ),
    "idempotency misuse": stripe.IdempotencyError("Keys reused with other params", http_status=400),
}


@pytest.mark.parametrize("error", PASSING.values(), ids=PASSING.keys())
def test_passing_trouble_is_transient(error):
    mapped = stripe_api.mapped(error)
    assert type(mapped) is StripeUnavailable and mapped.transient
    assert type(error).__name__ in str(mapped)


@pytest.mark.parametrize("error", REFUSED.values(), ids=REFUSED.keys())
def test_other_answers_are_refusals_with_stripes_words(error):
    mapped = stripe_api.mapped(error)
    assert type(mapped) is StripeUnavailable and not mapped.transient
    assert mapped.stripe_message == error.user_message
    assert mapped.code == error.code


def test_without_an_answer_there_are_no_words_of_stripes_to_show_staff():
    mapped = stripe_api.mapped(PASSING["no connection"])
    assert mapped.stripe_message is None and mapped.code is None


@pytest.mark.parametrize("name", ["Stripe-Should-Retry", "stripe-should-retry"])
@pytest.mark.parametrize(
    ("advice", "status", "transient"),
    [
        ("true", 400, True),  # a refusal Stripe says will pass
        ("true", 500, True),
        ("false", 500, False),  # an error Stripe says would happen again
        ("false", 429, False),
        ("false", 409, False),
        ("maybe", 400, False),  # an advice it does not give: the status decides
        ("maybe", 503, True),
        ("", 500, True),
    ],
)
def test_stripes_retry_advice_comes_before_the_status(name, advice, status, transient):
    error = stripe.APIError("Boom", http_status=status, headers={name: advice})
    assert stripe_api.should_retry(error) is transient
    assert stripe_api.mapped(error).transient is transient


@pytest.mark.parametrize(
    "error",
    [
        invalid(404, "resource_missing", "No such customer: 'cus_gone'"),
        # Naming a missing object in a parameter is a 400 with the same code.
        invalid(400, "resource_missing", "No such customer: 'cus_gone'"),
        # Stripe's words say so even without the code.
        invalid(404, None, "No such subscription: 'sub_gone'"),
    ],
    ids=["code and 404", "code and 400", "words only"],
)
def test_no_such_object_is_not_found_and_not_transient(error):
    mapped = stripe_api.mapped(error)
    assert isinstance(mapped, StripeNotFound) and isinstance(mapped, StripeUnavailable)
    assert not mapped.transient and mapped.stripe_message.startswith("No such ")


def test_only_a_refusal_can_be_not_found():
    assert not stripe_api.not_found(stripe.APIError("No such luck", http_status=500))
    assert not stripe_api.not_found(invalid(400, "parameter_missing", "Missing: customer"))


# Through the real library over HTTP: the emulator's answers and headers.


@pytest.fixture
def stripe_app(emulator):
    """An app talking to the emulator; these calls need no database."""
    emulator.reset()
    app = create_app(base_config("sqlite://", emulator.url))
    with app.app_context():
        yield app


def test_a_missing_object_reads_as_none(stripe_app):
    assert stripe_api.retrieve_subscription("sub_nope") is None
    assert stripe_api.retrieve_customer("cus_nope") is None


def test_deleting_a_customer_already_gone_is_done(stripe_app):
    stripe_api.delete_customer("cus_nope")  # no exception


def test_a_portal_for_a_missing_customer_is_not_found(stripe_app):
    with pytest.raises(StripeNotFound):
        stripe_api.create_billing_portal_session("cus_nope", "http://support.test/", "en")


@pytest.mark.parametrize(
    ("status", "advice", "transient"),
    [(500, None, True), (500, False, False), (429, None, True), (400, True, True)],
)
def test_the_emulators_answers_map_by_advice_then_status(
    stripe_app, emulator, status, advice, transient
):
    emulator.fail_next(status=status, should_retry=advice)
    with pytest.raises(StripeUnavailable) as caught:
        stripe_api.retrieve_subscription("sub_any")
    assert caught.value.transient is transient
    assert not isinstance(caught.value, StripeNotFound)


def test_a_refused_refund_carries_stripes_words(stripe_app, emulator):
    emulator.fail_next(
        status=400,
        type="invalid_request_error",
        message="Refund amount ($9.00) is greater than unrefunded amount ($5.00)",
        code="amount_too_large",
    )
    with pytest.raises(StripeUnavailable) as caught:
        stripe_api.create_refund("ch_any", 900, "key-1", None)
    refused = caught.value
    assert not refused.transient and refused.code == "amount_too_large"
    assert refused.stripe_message.startswith("Refund amount ($9.00) is greater")


def test_listing_when_stripe_is_down_is_transient(stripe_app, emulator):
    emulator.fail_next(status=503, count=5)
    with pytest.raises(StripeUnavailable) as caught:
        list(stripe_api.list_subscriptions())
    assert caught.value.transient


def test_a_bad_webhook_signature_is_bad_signature(stripe_app):
    with pytest.raises(stripe_api.BadSignature):
        stripe_api.verify_webhook(b'{"id": "evt_1"}', "t=1,v1=00")
    with pytest.raises(stripe_api.BadSignature):
        stripe_api.verify_webhook(b'{"id": "evt_1"}', None)
