"""cscore: customer-success health scores, risk scorecards, CTAs and escalation.

The compiled core lives in ``cscore._cscore``; this package wraps it with a pandas-first
API: data goes in as DataFrames or numpy arrays (viewed without copying where the layout
allows) and results come back as DataFrames / Series indexed by account id. Errors raised
by the core are :class:`cscore.Error` subclasses whose message is the library's own.

    >>> import cscore
    >>> frame = cscore.Frame(df, id_column="account_id")
    >>> frame.to_pandas().head()

Capabilities: :class:`Scorecard` (health scores, explain), :class:`LogisticModel` and
:func:`backtest`, :mod:`cscore.cel` (compile / evaluate CEL), :class:`RiskScorecard`,
:class:`CtaStore` and :class:`Lifecycle`, :class:`RuleSet` / :class:`TimedCtas`,
:class:`Organisation`, :class:`Escalator` and :func:`assign_sponsors`, and :class:`Engine`
(the daily run). ``cscore.plots`` (matplotlib) and ``cscore.dask`` (Dask / Spark
partitions) are imported on demand.
"""
from . import _cscore
from ._cscore import (AlreadyExistsError, Error, InvalidArgumentError, NotFoundError,
                      PermissionDeniedError)
from .frame import Frame, as_frame
from .history import History

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError", "Error", "Frame", "History", "InvalidArgumentError", "NotFoundError",
    "PermissionDeniedError", "as_frame", "__version__",
]

# Each capability is exported when the extension was built with its module.
if hasattr(_cscore, "LogisticModelCore"):
    from .model import (BacktestReport, LogisticModel, backtest, encode_target,
                        fit_scorecard_weights, stratified_split)
    __all__ += ["BacktestReport", "LogisticModel", "backtest", "encode_target",
                "fit_scorecard_weights", "stratified_split"]
if hasattr(_cscore, "cel_compile"):
    from . import cel
    __all__ += ["cel"]
if hasattr(_cscore, "ScorecardSetCore"):
    from .scorecard import Explanation, Scorecard
    __all__ += ["Explanation", "Scorecard"]
if hasattr(_cscore, "CtaStoreCore"):
    from .cta import CtaStore, CtaTable, Lifecycle
    __all__ += ["CtaStore", "CtaTable", "Lifecycle"]
if hasattr(_cscore, "RiskScorecardCore"):
    from .risk import RiskScorecard, RiskTable
    __all__ += ["RiskScorecard", "RiskTable"]
if hasattr(_cscore, "RuleDefsCore"):
    from .rules import RuleRun, RuleSet, RuleState, TimedCtas, TimedRun
    __all__ += ["RuleRun", "RuleSet", "RuleState", "TimedCtas", "TimedRun"]
if hasattr(_cscore, "EscalatorCore"):
    from .escalation import (DueSteps, EscalationChain, Escalator, Organisation, SponsorPlan,
                             assign_sponsors)
    __all__ += ["DueSteps", "EscalationChain", "Escalator", "Organisation", "SponsorPlan",
                "assign_sponsors"]
if hasattr(_cscore, "Engine"):
    from .engine import (Engine, RunReport, SqliteStore, check_config_file, read_snapshot,
                         validate_config)
    __all__ += ["Engine", "RunReport", "SqliteStore", "check_config_file", "read_snapshot",
                "validate_config"]
