"""Helpers for module 05 (monitoring) that learners are not asked to write: cleaning a sample
before a drift statistic, and a fast count of distinct values. Exercises 5.1 (``psi``) and 5.2
(``drift_report``) in solutions/monitoring.py use them; the statistics themselves are the
exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd


def finite_sample(values) -> tuple[np.ndarray | pd.Series, bool]:
    """One sample, ready for a drift statistic: missing values dropped, and whether it is numeric.

    Args:
        values: a list, numpy array or pandas Series.

    Returns:
        ``(sample, numeric)``. A numeric sample (bool excluded) comes back as a float array
        without NaN, ``inf`` and ``-inf``; any other sample as a Series without missing values.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        array = series.to_numpy(dtype=float, na_value=np.nan)  # no copy for float64
        finite = np.isfinite(array)
        return (array if finite.all() else array[finite]), True
    # Categories stay a Series: counting pandas' own string dtype is faster than numpy objects.
    return (series.dropna() if series.hasnans else series), False


def more_distinct_than(values, limit: int, *others) -> bool:
    """Whether ``values`` (and ``others``, taken together with it) hold more than ``limit``
    distinct values.

    Args:
        values: a 1-d array or Series.
        limit: the number of distinct values not to exceed.
        *others: more samples counted with ``values``.

    Returns:
        True when the samples together hold more than ``limit`` distinct values.
    """
    # A prefix with more than `limit` values settles it without hashing millions of rows.
    if len(pd.unique(np.asarray(values[:2000]))) > limit:
        return True
    if others:
        values = np.concatenate([np.asarray(values), *(np.asarray(o) for o in others)])
    return len(pd.unique(np.asarray(values))) > limit
