"""Churn models: L2 logistic regression with scikit-learn's conventions, and backtests.

``LogisticModel(C=1.0).fit(X, y)`` minimises the same objective as scikit-learn's
``LogisticRegression(C=...)``. ``X`` is either a numeric matrix (numpy, C or Fortran order;
fitted as is) or account data (a DataFrame or :class:`cscore.Frame`), which the model
encodes itself: numeric columns standardised, bools 0/1, categoricals one-hot. The fitted
encoding travels with the model (and its JSON), so scoring new accounts needs nothing else.
The GIL is released while the C++ core fits and predicts.

    >>> model = cscore.LogisticModel(C=1.0).fit(accounts, "Churn", positive="Yes")
    >>> p = model.churn_probability(accounts)      # Series indexed by account id
    >>> cscore.backtest(p, accounts["Churn"] == "Yes").auc
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from . import _cscore
from .display import html_table
from .frame import Frame

__all__ = ["LogisticModel", "BacktestReport", "backtest", "stratified_split",
           "fit_scorecard_weights", "encode_target"]


def _is_account_data(X: Any) -> bool:
    return isinstance(X, (pd.DataFrame, Frame))


def _outcome(y: Any) -> np.ndarray:
    if isinstance(y, pd.Series):
        if y.isna().any():
            raise ValueError(f"y has missing values (first at {y[y.isna()].index[0]!r})")
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.dtype == object or arr.dtype.kind in "US":
        raise ValueError("y must be 0/1 or boolean; pass a column name and positive= for labels")
    return np.ascontiguousarray(arr, dtype=np.uint8)


class LogisticModel:
    """L2-regularised logistic regression for churn (scikit-learn's objective and names).

    Parameters
    ----------
    C:
        Inverse regularisation strength, as in scikit-learn: penalty ``||w||^2 / (2C)``.
    tol:
        Newton convergence tolerance on the largest step.
    max_iter:
        Iterations allowed; not converging is an error, not a result.
    missing:
        For account data: "error" (missing values raise, naming account and column) or
        "impute_mean".
    exclude:
        For account data: columns left out of the design (ids, free text...).
    """

    def __init__(self, C: float = 1.0, *, tol: float = 1e-10, max_iter: int = 100,
                 missing: str = "error", exclude: Sequence[str] = ()):
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.missing = missing
        self.exclude = tuple(exclude)
        self._core = None      # fitted on account data
        self.coef_ = None
        self.intercept_ = None

    # scikit-learn estimator protocol (clone, grid search).
    def get_params(self, deep: bool = True) -> dict:
        """Constructor parameters (scikit-learn protocol)."""
        return {"C": self.C, "tol": self.tol, "max_iter": self.max_iter,
                "missing": self.missing, "exclude": self.exclude}

    def set_params(self, **params: Any) -> "LogisticModel":
        """Sets constructor parameters (scikit-learn protocol)."""
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"unknown parameter '{k}'")
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any, *, positive: Optional[str] = None,
            id_column: Optional[str] = None) -> "LogisticModel":
        """Fits the model; returns self.

        ``X`` numeric matrix: ``y`` is 0/1 or boolean per row. ``X`` account data: ``y`` is
        the target column's name (with ``positive``, the value meaning churned, e.g. "Yes")
        or an aligned 0/1 array.
        """
        self.classes_ = np.array([0, 1])
        if _is_account_data(X):
            frame = X if isinstance(X, Frame) else None
            if isinstance(y, str):
                target = y
                if frame is None:
                    frame = Frame(X, id_column=id_column)
                if positive is None:
                    positive = "1"
            else:
                target = "__churned__"
                outcome = _outcome(y)
                df = frame.to_pandas() if frame is not None else X
                if id_column is not None:
                    df = df.set_index(id_column)
                if len(outcome) != len(df):
                    raise ValueError(f"y has {len(outcome)} values, X has {len(df)} rows")
                frame = Frame(df.assign(**{target: outcome.astype(np.int64)}))
                positive = "1"
            missing = getattr(_cscore.MissingPolicy, self.missing)
            self._core = _cscore.LogisticModelCore.fit(
                frame._native, target, str(positive), list(self.exclude), missing,
                float(self.C), float(self.tol), int(self.max_iter))
            self.coef_ = np.asarray(self._core.coef).reshape(1, -1)
            self.intercept_ = np.array([self._core.intercept])
            self.feature_names_in_ = np.array([f.name for f in self._core.features], dtype=object)
            self.n_features_in_ = len(self.feature_names_in_)
            self.n_iter_ = None
            return self
        X = np.asarray(X) if not isinstance(X, np.ndarray) else X
        fit = _cscore.fit_logistic_array(X, _outcome(y), C=float(self.C), tol=float(self.tol),
                                         max_iter=int(self.max_iter))
        self._core = None
        self.coef_ = np.asarray(fit["coef"]).reshape(1, -1)
        self.intercept_ = np.array([fit["intercept"]])
        self.n_iter_ = np.array([fit["iterations"]])
        self.n_features_in_ = X.shape[1]
        self.objective_ = fit["objective"]
        return self

    def _check_fitted(self) -> None:
        if self.coef_ is None:
            raise ValueError("this LogisticModel is not fitted yet; call fit() first")

    def _proba1(self, X: Any, id_column: Optional[str] = None) -> tuple:
        self._check_fitted()
        if self._core is not None:
            if not _is_account_data(X):
                raise TypeError("this model was fitted on account data: pass a DataFrame or Frame")
            frame = X if isinstance(X, Frame) else Frame(X, id_column=id_column)
            return np.asarray(self._core.predict_proba(frame._native)), frame.index
        if _is_account_data(X):
            index = X.index
            X = X.to_pandas() if isinstance(X, Frame) else X
            X = X.to_numpy(dtype=np.float64)
        else:
            index = None
            X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {X.shape}, the model expects {self.n_features_in_} "
                             "features")
        z = X @ self.coef_[0] + self.intercept_[0]
        return 1.0 / (1.0 + np.exp(-z)), index

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, columns [P(retain), P(churn)] (scikit-learn's shape).

        A numpy ``X`` gives an (n, 2) array; account data gives a DataFrame indexed by
        account id with columns 0 and 1.
        """
        p, index = self._proba1(X)
        out = np.column_stack([1.0 - p, p])
        if index is None:
            return out
        return pd.DataFrame(out, index=index, columns=self.classes_)

    def churn_probability(self, X: Any, *, id_column: Optional[str] = None) -> pd.Series:
        """P(churn) per account, as a Series indexed by account id."""
        p, index = self._proba1(X, id_column)
        return pd.Series(p, index=index, name="churn_probability")

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of churn per row."""
        p, _ = self._proba1(X)
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def predict(self, X: Any) -> np.ndarray:
        """1 where P(churn) >= 0.5, else 0."""
        p, _ = self._proba1(X)
        return (p >= 0.5).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy against 0/1 outcomes (scikit-learn's ``score``)."""
        return float(np.mean(self.predict(X) == _outcome(y)))

    def transform(self, X: Any) -> pd.DataFrame:
        """The design matrix the model sees for account data (standardised, one-hot)."""
        self._check_fitted()
        if self._core is None:
            raise TypeError("transform applies to models fitted on account data")
        frame = X if isinstance(X, Frame) else Frame(X)
        return pd.DataFrame(np.asarray(self._core.transform(frame._native)), index=frame.index,
                            columns=list(self.feature_names_in_))

    def coefficients(self) -> pd.Series:
        """Coefficients by feature name (design units for account data)."""
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.coef_.shape[1])]
        return pd.Series(self.coef_[0], index=list(names), name="coef")

    def to_json(self) -> str:
        """The fitted model (encoding included) as JSON; account-data models only."""
        self._check_fitted()
        if self._core is None:
            raise TypeError("to_json applies to models fitted on account data")
        return self._core.to_json()

    @classmethod
    def from_json(cls, text: str) -> "LogisticModel":
        """Rebuilds a model written by :meth:`to_json`."""
        core = _cscore.LogisticModelCore.from_json(text)
        m = cls(C=core.C)
        m._core = core
        m.classes_ = np.array([0, 1])
        m.coef_ = np.asarray(core.coef).reshape(1, -1)
        m.intercept_ = np.array([core.intercept])
        m.feature_names_in_ = np.array([f.name for f in core.features], dtype=object)
        m.n_features_in_ = len(m.feature_names_in_)
        return m

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self._core is not None:
            state["_core"] = self._core.to_json()
        return state

    def __setstate__(self, state: dict) -> None:
        core = state.get("_core")
        if isinstance(core, str):
            state["_core"] = _cscore.LogisticModelCore.from_json(core)
        self.__dict__.update(state)

    def _repr_html_(self) -> str:
        if self.coef_ is None:
            return f"<pre>{self!r}</pre>"
        coefs = self.coefficients().to_frame()
        coefs["direction"] = np.where(coefs["coef"] > 0, "raises churn", "lowers churn")
        colors = {"coef": pd.Series(np.where(coefs["coef"] > 0, "red", "green"),
                                    index=coefs.index)}
        return html_table(coefs.sort_values("coef", key=np.abs, ascending=False), colors=colors,
                          caption=f"LogisticModel(C={self.C}), intercept {self.intercept_[0]:.3f}")

    def __repr__(self) -> str:
        state = "unfitted" if self.coef_ is None else f"{self.coef_.shape[1]} features"
        return f"LogisticModel(C={self.C}) [{state}]"


@dataclass
class BacktestReport:
    """How well a churn score foresaw churn.

    ``auc`` ranks churners first; ``lift_top_decile`` is the churn rate of the riskiest 10%
    over the base rate; ``surprise_rate`` the share of churners that were green.
    """
    accounts: int
    churned: int
    base_rate: float
    auc: float
    lift_top_decile: float
    brier: float
    green_churned: int
    surprise_rate: float
    calibration: pd.DataFrame = field(repr=False)
    probability: Optional[pd.Series] = field(default=None, repr=False)
    outcome: Optional[pd.Series] = field(default=None, repr=False)

    def summary(self) -> pd.Series:
        """The headline figures as a Series."""
        return pd.Series({k: getattr(self, k) for k in
                          ["accounts", "churned", "base_rate", "auc", "lift_top_decile", "brier",
                           "green_churned", "surprise_rate"]}, name="backtest")

    def plot(self, axes: Optional[Sequence[Any]] = None) -> Sequence[Any]:
        """ROC and calibration curves side by side; returns the two Axes."""
        from . import plots
        if axes is None:
            import matplotlib.pyplot as plt
            _, axes = plt.subplots(1, 2, figsize=(9, 4))
        plots.roc_curve(self.outcome, self.probability, ax=axes[0])
        plots.calibration_curve(self.outcome, self.probability, ax=axes[1],
                                bins=len(self.calibration) or 10)
        return axes

    def _repr_html_(self) -> str:
        s = self.summary().to_frame()
        color = pd.Series(None, index=s.index, dtype=object)
        color["auc"] = "green" if self.auc >= 0.8 else "yellow" if self.auc >= 0.7 else "red"
        color["surprise_rate"] = ("green" if self.surprise_rate <= 0.05 else
                                  "yellow" if self.surprise_rate <= 0.15 else "red")
        return html_table(s, colors={"backtest": color}, caption="Backtest")


def backtest(probability: Any, churned: Any, *, green_below: float = 0.2,
             green: Optional[Any] = None, calibration_bins: int = 10) -> BacktestReport:
    """Backtests churn probabilities against outcomes.

    ``green`` (a boolean per account, e.g. the scorecard's colour at the horizon) says who
    was shown green; without it, accounts with probability below ``green_below`` are.
    """
    p = probability.to_numpy(dtype=np.float64) if isinstance(probability, pd.Series) else \
        np.asarray(probability, dtype=np.float64)
    y = _outcome(churned)
    g = None if green is None else _outcome(green)
    r = _cscore.backtest(np.ascontiguousarray(p), y, green_below=green_below, green=g,
                         calibration_bins=calibration_bins)
    cal = pd.DataFrame(r.pop("calibration"))
    index = probability.index if isinstance(probability, pd.Series) else None
    return BacktestReport(**r, calibration=cal,
                          probability=pd.Series(p, index=index, name="churn_probability"),
                          outcome=pd.Series(y, index=index, name="churned"))


def stratified_split(y: Any, *, test_size: float = 0.2, seed: int = 0) -> tuple:
    """(train positions, test positions), stratified by the 0/1 outcome ``y``; the same split
    on every platform and in every cscore tool for the same seed."""
    train, test = _cscore.stratified_split(_outcome(y), float(test_size), int(seed))
    return np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)


def encode_target(data: Any, target: str, positive: str) -> pd.Series:
    """0/1 outcome per account from a target column (``positive`` marks churn)."""
    frame = data if isinstance(data, Frame) else Frame(data)
    return pd.Series(np.asarray(_cscore.encode_target(frame._native, target, str(positive))),
                     index=frame.index, name=target)


def fit_scorecard_weights(subscores: pd.DataFrame, churned: Any, *, C: float = 1e4,
                          tol: float = 1e-10, max_iter: int = 200) -> pd.Series:
    """Non-negative measure weights (summing to 1) learned from churn outcomes.

    ``subscores`` is accounts x measures (0-100 sub-scores); a measure whose sub-score rises
    with churn gets weight 0 rather than a negative one.
    """
    x = subscores.to_numpy(dtype=np.float64)
    r = _cscore.fit_scorecard_weights(np.asfortranarray(x), _outcome(churned), C=C, tol=tol,
                                      max_iter=max_iter)
    return pd.Series(np.asarray(r["weights"]), index=subscores.columns, name="weight")
