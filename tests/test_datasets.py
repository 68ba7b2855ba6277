"""The shipped data sets: shape, columns, and figures checked against the source."""

import numpy as np
import pytest

from sklearn_rnn.datasets import load_us_crime

COUNTS = ["violent_crime", "homicide", "rape", "robbery", "aggravated_assault",
          "property_crime", "burglary", "larceny", "motor_vehicle_theft"]
RATES = ["violent_rate", "homicide_rate", "rape_rate", "robbery_rate",
         "aggravated_assault_rate", "property_rate", "burglary_rate", "larceny_rate",
         "motor_vehicle_theft_rate"]


def test_us_crime_states_shape_and_columns():
    crime = load_us_crime()
    # 50 states and DC over 1979-2019, Mississippi only from 1995.
    assert crime.shape == (50 * 41 + 25, 24)
    assert list(crime.columns) == (["year", "state", "state_name", "population"] + COUNTS
                                   + ["rape_legacy", "rape_revised"] + RATES)
    assert crime["state"].nunique() == 51
    assert "US" not in set(crime["state"])
    assert crime["year"].min() == 1979 and crime["year"].max() == 2019
    assert crime.loc[crime["state"] == "MS", "year"].min() == 1995
    # Sorted into one contiguous annual series per state.
    assert crime["state"].is_monotonic_increasing
    assert (crime.groupby("state")["year"].diff().dropna() == 1).all()


def test_us_crime_rates_and_counts_complete():
    crime = load_us_crime(national=True)
    assert not crime[["population"] + COUNTS + RATES].isna().any().any()
    assert (crime[RATES] >= 0).all().all()
    np.testing.assert_allclose(crime["homicide_rate"],
                               crime["homicide"] / crime["population"] * 1e5)


@pytest.mark.parametrize("year, rate", [(1979, 548.9), (1991, 758.2), (2019, 379.4)])
def test_us_crime_national_violent_rate(year, rate):
    # Published national rates (see sklearn_rnn/datasets/data/README.md).
    us = load_us_crime(states=False, national=True).set_index("year")
    assert len(us) == 41 and (us["state"] == "US").all()
    assert round(us.loc[year, "violent_rate"], 1) == rate


def test_us_crime_rape_definitions():
    crime = load_us_crime(national=True)
    before = crime["year"] <= 2012
    assert (crime.loc[before, "rape"] == crime.loc[before, "rape_legacy"]).all()
    assert (crime.loc[~before, "rape"] == crime.loc[~before, "rape_revised"]).all()
    assert crime.loc[before, "rape_revised"].isna().all()
    assert crime.loc[crime["year"] >= 2017, "rape_legacy"].isna().all()
    # The state totals count the definition in use, so the parts add up.
    states = crime[crime["state"] != "US"]
    parts = states[["homicide", "rape", "robbery", "aggravated_assault"]].sum(axis=1)
    assert (np.abs(states["violent_crime"] - parts) <= 10).mean() > 0.99


def test_us_crime_options():
    assert "violent_rate" not in load_us_crime(rates=False).columns
    assert load_us_crime(rates=False).shape[1] == 15
    assert len(load_us_crime(national=True)) == 50 * 41 + 25 + 41
    with pytest.raises(ValueError, match="states=False and national=False"):
        load_us_crime(states=False)
    with pytest.raises(TypeError, match="rates must be a bool"):
        load_us_crime(rates="yes")


def test_violent_crime_is_the_sum_of_its_parts_but_where_the_docstring_says():
    crime = load_us_crime(national=True)
    parts = crime[["homicide", "rape", "robbery", "aggravated_assault"]].sum(axis=1)
    off = crime[np.abs(crime["violent_crime"] / parts - 1) > 1e-3]
    assert sorted(zip(off.state, off.year)) == [("HI", 2015), ("NH", 2013), ("RI", 2012),
                                                ("US", 2013), ("US", 2014), ("US", 2015)]
    # And two by a few counts.
    by_counts = crime[crime["violent_crime"] != parts]
    assert sorted(zip(by_counts.state, by_counts.year)) == sorted(
        list(zip(off.state, off.year)) + [("US", 1981), ("WA", 1997)])
    small = by_counts[by_counts.state.isin(["WA"]) | (by_counts.year == 1981)]
    assert sorted((parts[small.index] - small["violent_crime"]).tolist()) == [3, 10]
