"""The FBI's annual crime estimates for the US states, 1979-2019."""

from importlib.resources import as_file, files

import numpy as np
import pandas as pd

_FILE = "us_estimated_crimes_1979_2019.csv"

# Offence counts in the order of the FBI tables, and the name of each rate.
# ``rape`` is derived from the two published definitions (see load_us_crime).
_COUNTS = {
    "violent_crime": "violent_rate",
    "homicide": "homicide_rate",
    "rape": "rape_rate",
    "robbery": "robbery_rate",
    "aggravated_assault": "aggravated_assault_rate",
    "property_crime": "property_rate",
    "burglary": "burglary_rate",
    "larceny": "larceny_rate",
    "motor_vehicle_theft": "motor_vehicle_theft_rate",
}

#: First year of the FBI's revised (broader) rape definition.
_REVISED_RAPE_FROM = 2013


def load_us_crime(*, rates=True, states=True, national=False):
    """Load the FBI's estimated crime counts for the US states, 1979-2019.

    One row per area and year, in long format, sorted by ``state`` then
    ``year`` so that each area's rows form one contiguous annual series. The
    states are the 50 states and the District of Columbia; Mississippi's
    series starts in 1995, every other one covers 1979-2019 (41 years).

    Parameters
    ----------
    rates : bool, default=True
        Add the rate per 100,000 inhabitants of every offence, as
        ``<offence>_rate`` columns (``violent_rate``, ``homicide_rate``,
        ``rape_rate``, ``robbery_rate``, ``aggravated_assault_rate``,
        ``property_rate``, ``burglary_rate``, ``larceny_rate``,
        ``motor_vehicle_theft_rate``); none of them is ever missing.
    states : bool, default=True
        Include the rows of the 50 states and DC.
    national : bool, default=False
        Include the national estimates, under ``state == "US"``. They are the
        FBI's own totals, not the sum of the state rows (before 1995 the state
        rows lack Mississippi).

    Returns
    -------
    crime : pandas.DataFrame
        Columns ``year``, ``state`` (postal abbreviation, ``"US"`` for the
        nation), ``state_name``, ``population``, the counts
        ``violent_crime``, ``homicide``, ``rape``, ``robbery``,
        ``aggravated_assault``, ``property_crime``, ``burglary``,
        ``larceny``, ``motor_vehicle_theft``, the two published rape counts
        ``rape_legacy`` and ``rape_revised`` (float, NaN where not
        published), and with ``rates=True`` the rates listed above.

    Raises
    ------
    ValueError
        If both ``states`` and ``national`` are False.

    Notes
    -----
    The FBI changed its definition of rape in 2013. ``rape_legacy`` (the
    narrower "forcible rape") is published for 1979-2016 and
    ``rape_revised`` for 2013-2019. ``rape`` takes the legacy count up to
    2012 and the revised one from 2013, the definition the FBI's violent
    crime totals use, so ``rape`` and ``rape_rate`` are complete but jump
    upwards in 2013 (by a third nationally) without any change in crime.
    ``violent_crime`` is kept exactly as published: it follows the same
    switch, except for the national totals of 2013-2015, which the FBI still
    computed with the legacy count; there, ``violent_crime`` is about 2.7%
    below ``homicide + rape + robbery + aggravated_assault``. Three state rows
    of the published file disagree with the sum of their parts too, and are
    kept as published: Hawaii 2015 (``violent_crime`` 19% above it), New
    Hampshire 2013 (6% below) and Rhode Island 2012 (0.4% above); two more
    by a few counts: Washington 1997 (3 below) and the national total of
    1981 (10 below).

    The counts are estimates, including for agencies that did not report;
    the raw file's ``caveats`` column (not returned) describes the years in
    which a state's figures were imputed. Source: the FBI's Uniform Crime
    Reporting program, public domain; see ``data/README.md`` in this
    package for provenance.

    Examples
    --------
    >>> from sklearn_rnn.datasets import load_us_crime
    >>> crime = load_us_crime()
    >>> crime.shape
    (2075, 24)
    >>> crime[["year", "state", "population", "violent_crime", "violent_rate"]].head(2)
       year state  population  violent_crime  violent_rate
    0  1979    AK      406000           1994    491.133005
    1  1980    AK      440142           1919    435.995656
    >>> us = load_us_crime(states=False, national=True).set_index("year")
    >>> us.loc[[1979, 1991, 2019], "violent_rate"].round(1).tolist()
    [548.9, 758.2, 379.4]
    """
    for name, value in [("rates", rates), ("states", states), ("national", national)]:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool; got {value!r}.")
    if not (states or national):
        raise ValueError("states=False and national=False select no rows; set at "
                         "least one of them to True.")

    with as_file(files(__package__) / "data" / _FILE) as path:
        raw = pd.read_csv(path)

    is_national = raw["state_abbr"].isna()
    raw = raw[(is_national & national) | (~is_national & states)]
    crime = pd.DataFrame({
        "year": raw["year"],
        "state": raw["state_abbr"].fillna("US"),
        "state_name": raw["state_name"].fillna("United States"),
        "population": raw["population"],
    })
    revised = raw["year"] >= _REVISED_RAPE_FROM
    for column in _COUNTS:
        if column == "rape":
            crime[column] = raw["rape_revised"].where(revised, raw["rape_legacy"])
            crime[column] = crime[column].astype("int64")
        else:
            crime[column] = raw[column]
    crime["rape_legacy"] = raw["rape_legacy"].astype("float64")
    crime["rape_revised"] = raw["rape_revised"].astype("float64")
    if rates:
        for column, rate in _COUNTS.items():
            crime[rate] = crime[column] / crime["population"] * 1e5
    return crime.sort_values(["state", "year"]).reset_index(drop=True)
