"""CEL from Python: compile against variables or a frame, evaluate on values or a frame."""
import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "cel"), reason="expr module not built")
cel = getattr(cscore, "cel", None)


@pytest.fixture
def accounts():
    return pd.DataFrame({
        "logins_30d": [3.0, 25.0, np.nan, 8.0],
        "seats": np.array([10, 20, 30, 40], dtype=np.int64),
        "segment": pd.Categorical(["SMB", "ENT", "SMB", "SMB"]),
        "active": [True, False, True, True],
        "renewal": pd.to_datetime(["2024-04-01", "2024-06-01", "2024-03-11", "2025-01-01"]),
    }, index=pd.Index(["a", "b", "c", "d"], name="account_id"))


def test_evaluate_with_declared_variables_and_python_values():
    prog = cel.compile("x * 2 + size(name)", variables={"x": "int", "name": "string"})
    assert prog.result_kind == "int"
    assert prog.variables == ["name", "x"]
    assert prog.evaluate(x=4, name="abc") == 11
    assert prog.evaluate({"x": 1}, name="") == 2
    assert cel.evaluate("[1, 2.5, 'a', true, null] + [b'x']") == [1, 2.5, "a", True, None, b"x"]
    assert cel.evaluate("{'k': 1}['k'] + 1") == 2
    assert cel.evaluate("18446744073709551615u") == cel.Uint(2**64 - 1)
    assert cel.evaluate("x", x=2**63) == cel.Uint(2**63)
    assert cel.evaluate("type(1)") == "int" and isinstance(cel.evaluate("type(1)"), cel.Type)


def test_times_and_durations_round_trip():
    t = pd.Timestamp("2024-03-01T12:00:00Z")
    out = cel.evaluate("t + d", t=t, d=dt.timedelta(hours=1))
    assert out == pd.Timestamp("2024-03-01T13:00:00Z")
    assert cel.evaluate("d", d=dt.timedelta(seconds=90)) == dt.timedelta(seconds=90)
    # `now` is passed in, never read from the clock.
    assert cel.evaluate("now", now="2024-03-01") == pd.Timestamp("2024-03-01", tz="UTC")


def test_compile_errors_carry_line_column_and_caret():
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cel.compile("x +", variables={"x": "int"})
    msg = str(err.value)
    assert msg.startswith("1:") and "^" in msg
    with pytest.raises(cscore.InvalidArgumentError, match="undeclared|unknown"):
        cel.compile("nope > 1", variables={"x": "int"})
    with pytest.raises(cscore.InvalidArgumentError, match="unknown CEL type 'decimal'"):
        cel.compile("x", variables={"x": "decimal"})


def test_error_values_raise_with_the_message():
    prog = cel.compile("1 / x", variables={"x": "int"})
    with pytest.raises(cscore.InvalidArgumentError, match="divide by zero"):
        prog.evaluate(x=0)
    with pytest.raises(TypeError, match="object"):
        prog.evaluate(x=object())


def test_evaluate_frame_matches_row_by_row(accounts):
    prog = cel.compile("logins_30d < 10.0 && segment == 'SMB'", data=accounts)
    assert prog.result_kind == "bool"
    out = prog.evaluate_frame(accounts)
    assert list(out.index) == ["a", "b", "c", "d"]
    assert out.dtype == "boolean"
    assert out["a"] and not out["b"] and out["d"]
    assert out.isna()["c"]  # missing logins: an error row, neither true nor false
    assert out.attrs["num_errors"] == 1 and "account 'c'" in out.attrs["first_error"]
    rowwise = prog.evaluate_frame(accounts, rowwise=True)
    pd.testing.assert_series_equal(out, rowwise)
    with pytest.raises(cscore.InvalidArgumentError, match="account 'c'"):
        prog.evaluate_frame(accounts, errors="raise")


def test_evaluate_frame_result_types(accounts):
    f = cscore.Frame(accounts)
    assert f._native.num_rows == 4
    assert cel.compile("seats * 2", data=f).evaluate_frame(f).tolist() == [20, 40, 60, 80]
    d = cel.compile("double(seats) / 4.0", data=f).evaluate_frame(f, threads=2)
    np.testing.assert_allclose(d.to_numpy(), [2.5, 5.0, 7.5, 10.0])
    days = cel.compile("days_until(renewal)", data=f).evaluate_frame(f, now="2024-03-01")
    assert days["c"] == 10
    s = cel.compile("segment + '!'", data=f).evaluate_frame(f)
    assert s.tolist() == ["SMB!", "ENT!", "SMB!", "SMB!"]


def test_metric_functions_read_the_history(accounts):
    h = cscore.History(accounts.index, days=3)
    assert h._native.num_accounts == 4
    h.add("logins", np.asfortranarray([[1.0, 2, 3], [3, 3, 3], [5, 4, 3], [0, 0, 9]]))
    prog = cel.compile("trend('logins', 3) > 0.0", data=accounts, history=h)
    assert prog.evaluate_frame(accounts, history=h).tolist() == [True, False, False, True]
    avg = cel.compile("avg('logins', 3)", metrics=["logins"])
    assert avg.evaluate(history=h, account="d") == 3.0
    with pytest.raises(ValueError, match="account="):
        avg.evaluate(history=h)


def test_programs_pickle_by_source():
    prog = cel.compile("x > 1", variables={"x": "int"})
    again = pickle.loads(pickle.dumps(prog))
    assert again.source == "x > 1" and again.evaluate(x=3) is True
    frame_prog = cel.compile("seats > 1", data={"seats": np.array([1], dtype=np.int64)})
    with pytest.raises(TypeError, match="variables="):
        pickle.dumps(frame_prog)
