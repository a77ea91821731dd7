"""The generated production stream: reproducible, and drifting exactly as it says it does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_course import data


def test_shape_and_reproducibility():
    stream = data.production_stream(days=10, drift_day=4, batch_size=50, reference_size=300)
    assert len(stream.batches) == 10
    assert [b.day for b in stream.batches] == list(range(10))
    assert [b.drifted for b in stream.batches] == [False] * 4 + [True] * 6
    assert list(stream.reference_X.columns) == list(data.STREAM_FEATURES)
    assert stream.reference_X.shape == (300, 6) and len(stream.reference_y) == 300
    batch = stream.batches[0]
    assert batch.X.shape == (50, 6) and batch.y.name == "target"
    assert set(batch.y.unique()) <= {0, 1}
    assert stream.categorical == ("region", "is_premium")
    again = data.production_stream(days=10, drift_day=4, batch_size=50, reference_size=300)
    pd.testing.assert_frame_equal(stream.batches[7].X, again.batches[7].X)
    other = data.production_stream(days=10, drift_day=4, batch_size=50, random_state=1)
    assert not stream.batches[7].X.equals(other.batches[7].X)


def test_kinds_and_errors():
    assert data.production_stream(days=3, kind="none").drift_day is None
    assert not any(b.drifted for b in data.production_stream(days=3, kind="none").batches)
    assert data.production_stream(days=3, kind="concept").drifted_columns == ()
    with pytest.raises(ValueError, match="stream kind"):
        data.production_stream(kind="gradual")
    with pytest.raises(ValueError):
        data.production_stream(days=0)


def _pooled(stream, drifted: bool) -> pd.DataFrame:
    return pd.concat([b.X for b in stream.batches if b.drifted == drifted], ignore_index=True)


def test_data_drift_moves_exactly_the_drifted_columns():
    stream = data.production_stream(days=20, drift_day=10, batch_size=300, kind="data")
    before, after = _pooled(stream, False), _pooled(stream, True)
    for column in ["age", "income", "tenure", "n_products"]:
        p = stats.ks_2samp(before[column], after[column]).pvalue
        assert (p < 1e-6) == (column in stream.drifted_columns), (column, p)
    regions = pd.crosstab(
        np.r_[np.zeros(len(before)), np.ones(len(after))],
        pd.concat([before.region, after.region]),
    )
    assert stats.chi2_contingency(regions).pvalue < 1e-6
    assert after.income.mean() > 1.3 * before.income.mean()
    assert after.tenure.std() > 1.5 * before.tenure.std()


def test_concept_drift_keeps_features_but_hurts_the_model():
    stream = data.production_stream(days=20, drift_day=10, batch_size=300, kind="concept")
    before, after = _pooled(stream, False), _pooled(stream, True)
    for column in ["income", "tenure", "age"]:
        assert stats.ks_2samp(before[column], after[column]).pvalue > 1e-3, column
    numeric = [c for c in stream.reference_X.columns if c != "region"]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["region"]), (StandardScaler(), numeric)),
        LogisticRegression(max_iter=500),
    ).fit(stream.reference_X, stream.reference_y)
    accuracy = [model.score(b.X, b.y) for b in stream.batches]
    assert np.mean(accuracy[:10]) - np.mean(accuracy[10:]) > 0.1
