"""The fixed choices every layer shares: the languages spoken and the gift frequencies.

They sit below `support.config` (which offers them too) so that a rule module the
settings themselves are checked by, such as `campaigns.document`, need not import
the settings.
"""

LANGUAGES = ("en", "ar")
FREQUENCIES = ("month", "year", "once")
