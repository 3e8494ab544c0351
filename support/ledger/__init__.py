"""The supporter ledger: Stripe objects written into our tables.

Each job has its module: `supporters`, `subscriptions`, `payments` and
`checkouts` (a completed Checkout Session and its thank-you). They take Stripe
objects as plain dicts (as `support.stripe_api` read them), write the rows they
imply and return Core rows. Applying the same object twice changes nothing,
so events can be redelivered and replayed. Nothing here talks to Stripe,
commits or sends mail: the webhook worker reads from Stripe first, then
applies one event per short transaction, and the mails a supporter is owed
are queued (`support.mail.queue`) under a unique key.

Order: every row written from Stripe keeps the freshness version of the read
it came from (`versions.read_version`, taken before the read); an older read
never overwrites a newer one, so events can be applied in any order and by
any number of workers. Concurrency: writers take their customer's lock first
(`locks.lock_customer`), so two events of one customer are written one after
the other.
"""
