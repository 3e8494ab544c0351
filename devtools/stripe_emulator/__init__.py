"""A small, stateful Stripe API emulator for local development and tests.

Start it in-process with :class:`Emulator` or from the command line with
``python -m devtools.stripe_emulator``; drive a running one with :class:`EmulatorClient`.
"""

from .client import EmulatorClient, EmulatorError
from .emulator import Emulator
from .webhooks import Delivery

__all__ = ["Delivery", "Emulator", "EmulatorClient", "EmulatorError"]
