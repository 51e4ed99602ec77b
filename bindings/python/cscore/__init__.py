"""cscore: customer-success health scores, risk scorecards, CTAs and escalation.

The compiled core lives in ``cscore._cscore``; this package re-exports it with
Python-friendly wrappers (pandas in and out).
"""
from . import _cscore  # noqa: F401

__version__ = "0.1.0"
