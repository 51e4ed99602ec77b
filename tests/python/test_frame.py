"""Frames: pandas / numpy in without copies, typed columns, CSV, errors as cscore exceptions."""
import numpy as np
import pandas as pd
import pytest

import cscore


def mixed_frame():
    return pd.DataFrame({
        "arr": [100.0, 250.5, np.nan],
        "seats": [10, 20, 30],
        "active": [True, False, True],
        "plan": ["pro", "basic", None],
        "segment": pd.Categorical(["smb", "ent", "smb"]),
        "nps": pd.array([9, None, 3], dtype="Int64"),
        "renewal": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
    }, index=pd.Index(["a1", "a2", "a3"], name="account"))


def test_round_trip_keeps_values_types_and_index():
    df = mixed_frame()
    frame = cscore.Frame(df)
    assert len(frame) == 3 and frame.shape == (3, 7)
    assert frame.dtypes == {"arr": "float64", "seats": "int64", "active": "bool",
                            "plan": "categorical", "segment": "categorical", "nps": "int64",
                            "renewal": "timestamp"}
    back = frame.to_pandas()
    assert list(back.index) == ["a1", "a2", "a3"]
    np.testing.assert_array_equal(back["arr"], df["arr"])
    assert list(back["seats"]) == [10, 20, 30]
    assert list(back["active"]) == [True, False, True]
    assert back["plan"].isna().tolist() == [False, False, True]
    assert list(back["plan"][:2]) == ["pro", "basic"]
    assert list(back["segment"]) == ["smb", "ent", "smb"]
    assert back["nps"].isna().tolist() == [False, True, False]
    assert back["nps"].iloc[2] == 3
    assert back["renewal"].iloc[0] == pd.Timestamp("2024-01-01")
    assert pd.isna(back["renewal"].iloc[1])


def test_numeric_columns_are_viewed_not_copied():
    df = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0) * 2,
                       "n": np.arange(5, dtype=np.int64), "f": np.ones(5, dtype=bool)})
    frame = cscore.Frame(df)
    for col in ["a", "b", "n", "f"]:
        assert np.shares_memory(frame.column(col).to_numpy(), df[col].to_numpy()), col


def test_fortran_array_columns_are_views_and_c_order_is_copied():
    x = np.asfortranarray(np.random.default_rng(1).random((50, 3)))
    frame = cscore.Frame(x, columns=["p", "q", "r"], ids=[f"acc{i}" for i in range(50)])
    assert np.shares_memory(frame.column("q").to_numpy(), x)
    np.testing.assert_array_equal(frame.column("r").to_numpy(), x[:, 2])
    c = np.ascontiguousarray(x)
    frame_c = cscore.Frame(c, columns=["p", "q", "r"])
    assert not np.shares_memory(frame_c.column("q").to_numpy(), c)
    np.testing.assert_array_equal(frame_c.column("q").to_numpy(), c[:, 1])


def test_frame_keeps_viewed_arrays_alive():
    values = np.linspace(0, 1, 1000)
    frame = cscore.Frame({"v": values})
    expected = values.copy()
    del values
    np.testing.assert_array_equal(frame.column("v").to_numpy(), expected)


def test_views_handed_out_are_read_only():
    frame = cscore.Frame({"v": np.zeros(3)})
    with pytest.raises(ValueError):
        frame.column("v").to_numpy()[0] = 1.0


def test_dict_of_arrays_with_ids_and_conversions():
    frame = cscore.Frame({"x": np.array([1, 2], dtype=np.int32), "s": np.array(["a", "b"])},
                         ids=["u", "v"])
    assert frame.dtypes == {"x": "int64", "s": "categorical"}
    assert list(frame.index) == ["u", "v"]
    assert frame.row_of("v") == 1 and frame.row_of("zz") is None


def test_id_column_becomes_the_index():
    df = pd.DataFrame({"account_id": ["x", "y"], "v": [1.0, 2.0]})
    frame = cscore.Frame(df, id_column="account_id")
    assert frame.columns == ["v"]
    assert list(frame.index) == ["x", "y"] and frame.index.name == "account_id"


def test_take_selects_rows_and_index():
    frame = cscore.Frame(mixed_frame())
    sub = frame.take([2, 0])
    assert list(sub.index) == ["a3", "a1"]
    assert list(sub.column("seats")) == [30, 10]
    with pytest.raises(IndexError):
        frame.take([5])


def test_duplicate_ids_raise_with_the_library_message():
    df = pd.DataFrame({"v": [1.0, 2.0]}, index=["dup", "dup"])
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Frame(df)
    assert str(err.value) == "duplicate account id 'dup' (rows 1 and 2)"
    assert err.value.code == "INVALID_ARGUMENT"
    assert isinstance(err.value, ValueError) and isinstance(err.value, cscore.Error)


def test_unknown_column_is_a_key_error_with_a_plain_message():
    frame = cscore.Frame({"logins": np.zeros(2)})
    with pytest.raises(KeyError) as err:
        frame.column("login")
    assert isinstance(err.value, cscore.NotFoundError)
    assert str(err.value).startswith("unknown column 'login'")


def test_bad_inputs_raise_python_errors():
    with pytest.raises(TypeError):
        cscore.Frame(42)
    with pytest.raises(ValueError):
        cscore.Frame(np.zeros(3))
    with pytest.raises(ValueError):
        cscore.Frame({"m": np.zeros((2, 2))})
    with pytest.raises(cscore.InvalidArgumentError):
        cscore.Frame({"a": np.zeros(2), "b": np.zeros(3)})


def test_csv_text_and_located_errors():
    frame = cscore.Frame.from_csv_text("id,x,plan\nA,1.5,pro\nB,,basic\n", id_column="id")
    assert list(frame.index) == ["A", "B"]
    assert frame.dtypes["x"] == "float64"
    assert np.isnan(frame.column("x")["B"])
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Frame.from_csv_text("id,x\n1,2\n2,abc\n", source_name="acc.csv", id_column="id",
                                   types={"x": "float64"})
    assert str(err.value).startswith("acc.csv:3:3:")
    assert "'x'" in str(err.value)


def test_read_csv_telco(telco_path):
    frame = cscore.Frame.read_csv(telco_path)
    assert frame.shape == (7043, 20)
    assert frame.dtypes["tenure"] in ("int64", "float64")
    np.testing.assert_array_equal(frame.column("tenure").to_numpy(), pd.read_csv(telco_path)["tenure"])
    assert frame.dtypes["Contract"] == "categorical"
    pdf = pd.read_csv(telco_path)
    np.testing.assert_allclose(frame.column("MonthlyCharges").to_numpy(), pdf["MonthlyCharges"])


def test_read_csv_missing_file_raises():
    with pytest.raises(cscore.Error):
        cscore.Frame.read_csv("/nonexistent/accounts.csv")
