"""scikit-learn's estimator checks over every public estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_rnn

# Small, fast settings. 40 epochs because check_regressors_train asks for R^2 > 0.5
# on its 200-sample dataset (read as 10-step sequences).
FAST = dict(hidden_size=16, max_epochs=40, batch_size=32, lr=1e-2, early_stopping=False,
            random_state=0)

ESTIMATORS = [getattr(sklearn_rnn, name)(**FAST) for name in sklearn_rnn.__all__
              if name != "__version__"]

# {check name: reason} for checks an estimator is expected to fail.
EXPECTED_FAILURES = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
