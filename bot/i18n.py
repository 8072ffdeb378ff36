"""The single seam for translating what users read.

Every user-visible English string passes through :func:`_` with its values as
named parameters (``_("No instance {instance} in {region}.", instance=..., region=...)``),
never pre-formatted, so the English template is the message id a translation
catalogue (gettext, later) looks up. Today ``_`` only fills in the parameters.

Field errors also carry a stable key and their parameters
(:class:`bot.operations.base.FieldError`), so they can be re-rendered in
another language without parsing English. Strings wrapped at import time (field
labels, hints, option names) are rendered once per process: per-user languages
will need them wrapped lazily instead.
"""

from __future__ import annotations


def _(text: str, /, **params: object) -> str:
    """``text`` in the reader's language (English for now), with ``params`` filled in (str.format)."""
    return text.format(**params) if params else text
