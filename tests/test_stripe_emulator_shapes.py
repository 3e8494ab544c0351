"""Stripe emulator: every object it answers has the shape stripe-python declares for it.

One emulator runs every flow the app relies on, through the real ``stripe`` library;
each answer, each delivered webhook and each stored object is then checked against
the classes stripe-python generates for the pinned API version (see stripe_shapes.py):
a field Stripe does not declare, or a value of the wrong type, fails the test. The
share of declared fields the emulator fills is printed per class at the end.
"""

import json
import typing
from collections import defaultdict

import pytest
import stripe
from stripe_shapes import ShapeChecker, declared_fields

from devtools.stripe_emulator import Emulator
from tests.helpers import emulator as base
from tests.helpers.emulator import payment_params, subscription_params

# Every kind of object the emulator stores; a new kind must be added here (and so checked).
STORED_KINDS = [
    "charge",
    "checkout.session",
    "customer",
    "dispute",
    "event",
    "invoice",
    "payment_intent",
    "price",
    "product",
    "refund",
    "subscription",
    "webhook_endpoint",
    "billing_portal.session",
    "payment_method",
    "payment_method_domain",
    "setup_intent",
]
EVENT_TYPES = [
    "charge.dispute.created",
    "charge.refunded",
    "charge.succeeded",
    "checkout.session.completed",
    "checkout.session.expired",
    "customer.created",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.updated",
    "customer.updated",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.upcoming",
    "payment_intent.succeeded",
    "payment_method.attached",
    "price.created",
    "product.created",
    "refund.created",
    "setup_intent.created",
    "setup_intent.requires_action",
    "setup_intent.setup_failed",
    "setup_intent.succeeded",
]


class CoverageSummary:
    """Prints the checker's coverage table in pytest's terminal summary, after the run."""

    def __init__(self, checker: ShapeChecker):
        self.checker = checker

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "Stripe emulator: declared fields filled, per class")
        for line in self.checker.report():
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def shapes(request):
    """One checker for the module; its coverage table is printed at the end of the run."""
    checker = ShapeChecker()
    request.config.pluginmanager.register(CoverageSummary(checker), "stripe-shape-coverage")
    return checker


def _catalog(sc, emu, answers: dict) -> None:
    customer = sc.v1.customers.create(
        params={"email": "rana@example.com", "name": "Rana", "metadata": {"a": "1"}}
    )
    answers["customer create"] = customer
    answers["customer retrieve"] = sc.v1.customers.retrieve(customer.id)
    answers["customer update"] = sc.v1.customers.update(customer.id, params={"phone": "+1555"})
    answers["customer list"] = sc.v1.customers.list(params={"email": "rana@example.com"})
    emu.update_customer(customer.id, name="Rana Reader")
    product = sc.v1.products.create(params={"name": "Gift", "description": "One gift"})
    answers["product create"] = product
    answers["product retrieve"] = sc.v1.products.retrieve(product.id)
    price = {"currency": "usd", "unit_amount": 500, "product": product.id}
    answers["price create"] = sc.v1.prices.create(params=price)
    monthly = {**price, "recurring": {"interval": "month"}, "nickname": "Monthly"}
    answers["price create recurring"] = sc.v1.prices.create(params=monthly)
    answers["price retrieve"] = sc.v1.prices.retrieve(answers["price create"].id)
    answers["customer delete"] = sc.v1.customers.delete(customer.id)
    answers["customer retrieve deleted"] = sc.v1.customers.retrieve(customer.id)


def _subscription(sc, emu, answers: dict) -> None:
    session = sc.v1.checkout.sessions.create(
        params={**subscription_params(), "expand": ["line_items"]}
    )
    answers["checkout session create subscription"] = session
    emu.pay(session.id, "reader@example.com", "Rana Reader")
    expand = ["line_items", "customer", "subscription", "invoice"]
    paid = sc.v1.checkout.sessions.retrieve(session.id, params={"expand": expand})
    answers["checkout session retrieve subscription, expanded"] = paid
    answers["checkout session line items"] = sc.v1.checkout.sessions.line_items.list(session.id)
    sub_id = paid.subscription.id
    emu.upcoming(sub_id)
    emu.renew(sub_id)
    emu.fail_renewal(sub_id)
    emu.recover(sub_id)
    answers["subscription retrieve"] = sc.v1.subscriptions.retrieve(
        sub_id, params={"expand": ["latest_invoice", "customer"]}
    )
    answers["subscription update"] = sc.v1.subscriptions.update(
        sub_id,
        params={
            "metadata": {"note": "kept"},
            "cancel_at_period_end": True,
            "pause_collection": {"behavior": "void"},
        },
    )
    answers["subscription list"] = sc.v1.subscriptions.list(params={"customer": paid.customer.id})
    invoices = sc.v1.invoices.list(params={"subscription": sub_id})
    answers["invoice list"] = invoices
    answers["invoice retrieve"] = sc.v1.invoices.retrieve(
        invoices.data[0].id, params={"expand": ["customer"]}
    )
    pi_id = invoices.data[0].payments.data[0].payment.payment_intent
    answers["payment intent retrieve, expanded"] = sc.v1.payment_intents.retrieve(
        pi_id, params={"expand": ["latest_charge", "customer"]}
    )
    answers["billing portal session create"] = sc.v1.billing_portal.sessions.create(
        params={"customer": paid.customer.id, "return_url": "https://news.example.org/"}
    )
    answers["subscription cancel"] = sc.v1.subscriptions.cancel(sub_id)
    answers["subscription list canceled"] = sc.v1.subscriptions.list(
        params={"status": "canceled", "expand": ["data.customer"]}
    )


def _payment(sc, emu, answers: dict) -> None:
    session = sc.v1.checkout.sessions.create(params=payment_params())
    answers["checkout session create payment"] = session
    emu.pay(session.id, "reader@example.com", "Rana Reader")
    paid = sc.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    answers["checkout session retrieve payment, expanded"] = paid
    charge_id = paid.payment_intent.latest_charge.id
    answers["charge retrieve"] = sc.v1.charges.retrieve(charge_id)
    answers["refund create"] = sc.v1.refunds.create(params={"charge": charge_id, "amount": 300})
    emu.refund(charge_id, 200)
    answers["refund retrieve"] = sc.v1.refunds.retrieve(answers["refund create"].id)
    answers["refund list"] = sc.v1.refunds.list(params={"charge": charge_id})
    answers["charge list"] = sc.v1.charges.list(params={"payment_intent": paid.payment_intent.id})
    dispute = emu.dispute(charge_id)
    answers["dispute retrieve"] = sc.v1.disputes.retrieve(dispute["id"])
    other = sc.v1.checkout.sessions.create(params=payment_params())
    answers["checkout session expire"] = sc.v1.checkout.sessions.expire(other.id)
    answers["checkout session list"] = sc.v1.checkout.sessions.list(params={"limit": 100})


def _elements_params(params: dict) -> dict:
    del params["success_url"], params["cancel_url"]
    return {**params, "ui_mode": "elements", "return_url": base.SUCCESS}


def _elements(sc, emu, answers: dict) -> dict:
    """Sessions paid through the Stripe.js stand-in, saved cards, domains, invoice pay."""
    session = sc.v1.checkout.sessions.create(params=_elements_params(subscription_params()))
    answers["checkout session create elements"] = session
    emu.confirm_checkout(session.id, card="4000002500003155")
    emu.confirm_checkout(session.id, three_d_secure="complete")
    paid = sc.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    answers["checkout session retrieve elements"] = paid
    once = sc.v1.checkout.sessions.create(params=_elements_params(payment_params()))
    emu.confirm_checkout(once.id)
    customer = paid.customer
    pm_id = paid.subscription.default_payment_method
    answers["payment method retrieve"] = sc.v1.payment_methods.retrieve(pm_id)
    seti = sc.v1.setup_intents.create(params={"customer": customer, "usage": "off_session"})
    answers["setup intent create"] = seti
    emu.confirm_setup(seti.id, "4000000000000002")
    answers["setup intent retrieve declined"] = sc.v1.setup_intents.retrieve(seti.id)
    emu.confirm_setup(seti.id, "4000002500003155")
    answers["setup intent retrieve requires_action"] = sc.v1.setup_intents.retrieve(seti.id)
    emu.confirm_setup(seti.id, three_d_secure="complete")
    done = sc.v1.setup_intents.retrieve(seti.id, params={"expand": ["payment_method"]})
    answers["setup intent retrieve succeeded, expanded"] = done
    answers["payment method list"] = sc.v1.payment_methods.list(params={"customer": customer})
    answers["customer update default payment method"] = sc.v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": done.payment_method.id}}
    )
    sub_id = paid.subscription.id
    item = paid.subscription["items"].data[0]
    answers["subscription update price and payment method"] = sc.v1.subscriptions.update(
        sub_id,
        params={
            "items": [
                {
                    "id": item.id,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1500,
                        "product": item.price.product,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
            "default_payment_method": done.payment_method.id,
        },
    )
    answers["subscription update cancel with feedback"] = sc.v1.subscriptions.update(
        sub_id,
        params={
            "cancel_at_period_end": True,
            "cancellation_details": {"comment": "Moving", "feedback": "too_expensive"},
        },
    )
    emu.fail_renewal(sub_id)
    invoice_id = sc.v1.subscriptions.retrieve(sub_id).latest_invoice
    answers["invoice pay"] = sc.v1.invoices.pay(invoice_id)
    domain = sc.v1.payment_method_domains.create(params={"domain_name": "news.example.org"})
    answers["payment method domain create"] = domain
    answers["payment method domain retrieve"] = sc.v1.payment_method_domains.retrieve(domain.id)
    answers["payment method domain list"] = sc.v1.payment_method_domains.list()
    answers["payment method domain update"] = sc.v1.payment_method_domains.update(
        domain.id, params={"enabled": False}
    )
    failing = sc.v1.setup_intents.create(params={"customer": customer})
    pm_failing = emu.confirm_setup(failing.id, "4000000000000341")["payment_method"]
    emu.fail_renewal(sub_id)
    invoice_id = sc.v1.subscriptions.retrieve(sub_id).latest_invoice
    declined = lambda: sc.v1.invoices.pay(invoice_id, params={"payment_method": pm_failing})  # noqa: E731
    return {"402 invoice pay declined": _error_body(declined)}


def _endpoints_and_events(sc, emu, answers: dict) -> None:
    endpoint = sc.v1.webhook_endpoints.create(
        params={"url": "https://news.example.org/hook", "enabled_events": ["invoice.paid"]}
    )
    answers["webhook endpoint create"] = endpoint
    answers["webhook endpoint retrieve"] = sc.v1.webhook_endpoints.retrieve(endpoint.id)
    answers["webhook endpoint update"] = sc.v1.webhook_endpoints.update(
        endpoint.id, params={"disabled": True, "description": "Old site"}
    )
    answers["webhook endpoint list"] = sc.v1.webhook_endpoints.list()
    answers["webhook endpoint delete"] = sc.v1.webhook_endpoints.delete(endpoint.id)
    sc.v1.webhook_endpoints.create(
        params={"url": "https://news.example.org/hook2", "enabled_events": ["*"]}
    )
    events = sc.v1.events.list(params={"limit": 100})
    answers["event list"] = events
    answers["event retrieve"] = sc.v1.events.retrieve(events.data[0].id)
    answers["event list invoice.*"] = sc.v1.events.list(params={"type": "invoice.*"})


def _errors(sc, emu) -> dict:
    """(status, body) of each kind of error the emulator answers."""
    calls = {
        "404 resource_missing": lambda: sc.v1.customers.retrieve("cus_missing"),
        "400 parameter_unknown": lambda: sc.v1.customers.create(params={"colour": "red"}),
        "401 bad key": lambda: stripe.StripeClient(
            "pk_test_publishable", base_addresses={"api": emu.url}, max_network_retries=0
        ).v1.customers.list(),
    }
    key = {"idempotency_key": "shape-test"}
    sc.v1.customers.create(params={"email": "a@example.com"}, options=key)
    calls["400 idempotency_error"] = lambda: sc.v1.customers.create(
        params={"email": "b@example.com"}, options=key
    )
    errors = {}
    for name, call in calls.items():
        errors[name] = _error_body(call)
    emu.fail_next(status=402, type="card_error", code="card_declined", message="Declined.")
    errors["402 card_error"] = _error_body(lambda: sc.v1.customers.list())
    emu.fail_next(status=500, type="api_error", message="Boom", should_retry=False)
    errors["500 api_error"] = _error_body(lambda: sc.v1.customers.list())
    emu.max_requests_per_second = 1
    errors["429 rate_limit"] = _error_body(lambda: [sc.v1.customers.list() for _ in range(3)])
    emu.max_requests_per_second = 0
    return errors


def _error_body(call) -> tuple[int, dict]:
    """The HTTP status and JSON body of the error ``call`` raises."""
    with pytest.raises(stripe.StripeError) as caught:
        call()
    return caught.value.http_status, json.loads(caught.value.http_body)


@pytest.fixture(scope="module")
def world():
    """Run every flow once; keep the answers, errors, webhooks and final state."""
    receiver = base.Receiver()
    with Emulator(webhook_url=receiver.url, webhook_secret=base.SECRET) as emu:
        sc = stripe.StripeClient(
            "sk_test_emulator", base_addresses={"api": emu.url}, max_network_retries=0
        )
        answers: dict = {}
        _catalog(sc, emu, answers)
        _subscription(sc, emu, answers)
        _payment(sc, emu, answers)
        elements_errors = _elements(sc, emu, answers)
        _endpoints_and_events(sc, emu, answers)
        errors = {**_errors(sc, emu), **elements_errors}
        emu.wait_for_deliveries()
        webhooks = defaultdict(list)
        for _headers, body in receiver.requests:
            event = json.loads(body)
            webhooks[event["type"]].append(event)
        yield {"answers": answers, "errors": errors, "webhooks": webhooks, "state": emu.state()}
    receiver.server.shutdown()
    receiver.server.server_close()


ANSWERS = [
    "customer create",
    "customer retrieve",
    "customer update",
    "customer list",
    "customer delete",
    "customer retrieve deleted",
    "product create",
    "product retrieve",
    "price create",
    "price create recurring",
    "price retrieve",
    "checkout session create subscription",
    "checkout session retrieve subscription, expanded",
    "checkout session line items",
    "subscription retrieve",
    "subscription update",
    "subscription list",
    "subscription cancel",
    "subscription list canceled",
    "invoice list",
    "invoice retrieve",
    "payment intent retrieve, expanded",
    "billing portal session create",
    "checkout session create payment",
    "checkout session retrieve payment, expanded",
    "checkout session expire",
    "checkout session list",
    "charge retrieve",
    "charge list",
    "refund create",
    "refund retrieve",
    "refund list",
    "dispute retrieve",
    "checkout session create elements",
    "checkout session retrieve elements",
    "payment method retrieve",
    "payment method list",
    "setup intent create",
    "setup intent retrieve declined",
    "setup intent retrieve requires_action",
    "setup intent retrieve succeeded, expanded",
    "customer update default payment method",
    "subscription update price and payment method",
    "subscription update cancel with feedback",
    "invoice pay",
    "payment method domain create",
    "payment method domain retrieve",
    "payment method domain list",
    "payment method domain update",
    "webhook endpoint create",
    "webhook endpoint retrieve",
    "webhook endpoint update",
    "webhook endpoint list",
    "webhook endpoint delete",
    "event list",
    "event retrieve",
    "event list invoice.*",
]
ERRORS = [
    "404 resource_missing",
    "400 parameter_unknown",
    "400 idempotency_error",
    "401 bad key",
    "402 card_error",
    "500 api_error",
    "429 rate_limit",
    "402 invoice pay declined",
]


def test_every_flow_was_run(world):
    assert sorted(world["answers"]) == sorted(ANSWERS)
    assert sorted(world["errors"]) == sorted(ERRORS)
    assert sorted(world["webhooks"]) == EVENT_TYPES
    assert sorted(world["state"]["objects"]) == sorted(STORED_KINDS)


@pytest.mark.parametrize("name", ANSWERS)
def test_api_answer_has_stripe_shape(world, shapes, name):
    shapes.assert_valid(world["answers"][name])


# The ``type`` values Stripe documents for errors (ErrorObject declares it as plain str).
ERROR_TYPES = ("api_error", "card_error", "idempotency_error", "invalid_request_error")


@pytest.mark.parametrize("name", ERRORS)
def test_error_has_stripe_shape(world, shapes, name):
    status, body = world["errors"][name]
    assert status == int(name.split()[0])
    assert list(body) == ["error"]
    shapes.assert_valid(body["error"], stripe.ErrorObject)
    assert body["error"]["type"] in ERROR_TYPES


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_webhook_has_stripe_shape(world, shapes, event_type):
    """Delivered events, including ``data.object`` and ``data.previous_attributes``."""
    for event in world["webhooks"][event_type]:
        shapes.assert_valid(event)


@pytest.mark.parametrize("kind", STORED_KINDS)
def test_stored_objects_have_stripe_shape(world, shapes, kind):
    """What the emulator keeps is what it answers, whichever call brings it back."""
    for obj in world["state"]["objects"][kind]:
        if not obj.get("deleted"):
            shapes.assert_valid(obj)


def test_every_field_stripe_always_sends_is_sent(world):
    """Each field a class declares non-Optional is in at least one object of that class."""
    checker = ShapeChecker()
    everything = [
        *world["answers"].values(),
        *(event for events in world["webhooks"].values() for event in events),
        *(obj for objs in world["state"]["objects"].values() for obj in objs),
    ]
    for obj in everything:
        checker.check(obj)
    for _status, body in world["errors"].values():
        checker.check(body["error"], stripe.ErrorObject)
    missing = {name: cov.required_missing() for name, cov in checker.coverage.items()}
    assert {name: fields for name, fields in missing.items() if fields} == {}


def test_deleted_objects_are_bare_stubs(world):
    for name in ("customer delete", "customer retrieve deleted", "webhook endpoint delete"):
        answer = world["answers"][name]
        assert set(json.loads(answer.last_response.body)) == {"id", "object", "deleted"}
        assert answer.deleted is True


# --- the checker itself: each rule fails when it should -------------------------------


def _problems(obj, cls=None) -> list[str]:
    return ShapeChecker().check(obj, cls)


PRICE = {
    "id": "price_1",
    "object": "price",
    "active": True,
    "currency": "usd",
    "unit_amount": 500,
    "unit_amount_decimal": "500",
    "recurring": {"interval": "month", "interval_count": 1},
    "product": "prod_1",
}


def test_checker_accepts_a_well_formed_object():
    assert _problems(PRICE) == []
    assert _problems({**PRICE, "product": {"id": "prod_1", "object": "product"}}) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"colour": "red"}, "price.colour: not declared on Price"),
        ({"unit_amount": "500"}, "price.unit_amount: expected int, got str '500'"),
        ({"unit_amount": True}, "price.unit_amount: expected int, got bool True"),
        ({"active": 1}, "price.active: expected bool, got int 1"),
        ({"currency": None}, "price.currency: null, but the field is not Optional"),
        ({"unit_amount_decimal": "five"}, "price.unit_amount_decimal: expected a decimal"),
        ({"type": "monthly"}, "price.type: 'monthly' is not one of ['one_time', 'recurring']"),
        ({"billing_scheme": "flat"}, "price.billing_scheme: 'flat' is not one of"),
        ({"recurring": {"interval": "month", "every": 2}}, "price.recurring.every: not declared"),
        ({"recurring": "monthly"}, "price.recurring: expected Price.Recurring, got str"),
        ({"product": {"id": "prod_1", "object": "product", "x": 1}}, "price.product.x: not"),
        ({"product": 7}, "price.product: expected"),
        ({"object": "plan"}, "plan.object: str 'plan' is not one of ['price']"),
        ({"metadata": {"a": 1}}, "price.metadata.a: expected str, got int 1"),
    ],
)
def test_checker_flags_wrong_fields(change, problem):
    found = _problems({**PRICE, **change}, stripe.Price)
    assert len(found) == 1 and found[0].startswith(problem), found


def test_checker_checks_lists_and_events():
    items = {"object": "list", "data": [PRICE, {**PRICE, "active": "yes"}], "has_more": False}
    bad_list = {**items, "url": "/v1/prices", "total_count": 2}
    assert sorted(_problems(bad_list)) == [
        "list.data[1].active: expected bool, got str 'yes'",
        "list.total_count: not declared on ListObject",
    ]
    event = {"id": "evt_1", "object": "event", "type": "price.updated", "data": {}}
    event["data"] = {"object": {**PRICE, "nickname": 3}, "previous_attributes": {"colour": 1}}
    assert _problems(event) == [
        "event.data.object.nickname: expected str, got int 3",
        "event.data.previous_attributes.colour: not declared on Price",
    ]


def test_checker_resolves_nested_and_forward_declared_classes():
    fields = declared_fields(stripe.Invoice)
    assert "parent" in fields and "payments" in fields
    session = declared_fields(stripe.checkout.Session)
    assert typing.get_args(session["ui_mode"])  # a resolved Optional[Union[...]]
