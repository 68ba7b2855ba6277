"""Recurrent neural network estimators that behave like any scikit-learn estimator."""

from .forecasting import LSTMForecaster, RNNForecaster
from .tdnn import TDNNClassifier, TDNNRegressor
from .text import SkipGramTransformer
from .language import RNNLanguageModel
from .persistence import load, save
from .recurrent import (ElmanClassifier, ElmanRegressor, GRUClassifier, GRURegressor,
                        LSTMClassifier, LSTMRegressor, RNNClassifier, RNNRegressor)

__version__ = "0.1.0"

__all__ = ["ElmanClassifier", "ElmanRegressor", "GRUClassifier", "GRURegressor",
           "LSTMClassifier", "LSTMForecaster", "LSTMRegressor", "RNNClassifier",
           "RNNLanguageModel",
           "RNNForecaster", "RNNRegressor", "SkipGramTransformer", "TDNNClassifier",
           "TDNNRegressor", "__version__", "load", "save"]
