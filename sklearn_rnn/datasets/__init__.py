"""Real data sets for the examples, shipped with the package (no download)."""

from ._crime import load_us_crime

__all__ = ["load_us_crime"]
