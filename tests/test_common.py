"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_rnn

# Small, fast settings. 40 epochs because check_regressors_train asks for R^2 > 0.5
# on its 200-sample dataset (read as 10-step sequences).
FAST = dict(hidden_size=16, max_epochs=40, batch_size=32, lr=1e-2, early_stopping=False,
            random_state=0)

# SkipGramTransformer and RNNLanguageModel take text, which these checks cannot feed
# them: their data-free checks run in tests/test_text.py and tests/test_language.py.
TEXT_ESTIMATORS = ("SkipGramTransformer", "RNNLanguageModel")
ESTIMATORS = [getattr(sklearn_rnn, name)(**FAST) for name in sklearn_rnn.__all__
              if isinstance(getattr(sklearn_rnn, name), type) and name not in TEXT_ESTIMATORS]

# {check name: reason} for checks an estimator may fail (marked xfail, not strict).
EXPECTED_FAILURES = {
    "check_methods_subset_invariance": (
        "The networks compute in float32, and PyTorch's CPU matrix kernels block the "
        "work differently for a batch of 1 and a batch of 20, so a prediction can "
        "differ in the 7th significant digit (measured: 1.8e-7 absolute, 1.2e-6 "
        "relative, on 1 of 20 samples); the check allows 1e-7. On the 2026-12 dev "
        "machine only ElmanRegressor and TDNNRegressor failed it (the others passed, "
        "XPASS): which do depends on the CPU's kernels, so the mark stays on all. Batch invariance to "
        "float32 precision is tested in tests/test_recurrent.py. (Filling every predict "
        "batch up to batch_size makes it exact, measured, but made predicting one "
        "sample 6x slower: 2.7 ms instead of 0.42 ms for a 64-unit LSTM.)"),
    "check_sample_weight_equivalence_on_dense_data": (
        "Equivalent only to float32 rounding: weighted and repeated data (27 samples) "
        "train in one batch of 32 with the same weighted mean loss, but the sums run "
        "in a different order, and 40 epochs of Adam carry the rounding (1e-8 after one "
        "epoch) to about 1e-5 (regressors: measured 1.2e-5 to 2.1e-5) and 1e-7 to 4e-6 "
        "(classifiers) in the predictions, beyond the check's rtol of 1e-7. "
        "tests/test_recurrent.py asserts the equivalence to 1e-6 over fewer epochs. With "
        "several batches per epoch the repeated data have more steps per epoch, so "
        "minibatch training differs in any case (as for scikit-learn's SGD and MLP)."),
}


# Forecasters read the rows of X as consecutive time steps, and predict(X) forecasts
# the steps *after* the fitted data. Checks that assume rows are exchangeable
# samples do not apply.
FORECASTER_FAILURES = {
    "check_regressors_train": (
        "predicts the training rows as if they were the steps after the training "
        "data (a forecast from the end of the series), so it cannot reproduce the "
        "in-sample targets the check scores."),
    "check_regressor_data_not_an_array": (
        "predicts the training rows given as a DataFrame; with an index the forecaster "
        "refuses rows that are not after the fitted data (they would be labelled as past "
        "steps while holding forecasts of future ones)."),
    "check_methods_sample_order_invariance": (
        "row order is time order: shuffling the rows to predict changes the forecast "
        "horizon of each row."),
    "check_methods_subset_invariance": (
        "row order is time order: row i of X is forecast i steps after the fitted data, "
        "but alone it is the first step after it."),
    "check_estimators_empty_data_messages": (
        "X holds covariates only; zero covariate columns with a target y is a valid "
        "univariate series, so fitting it does not raise."),
    "check_sample_weight_equivalence_on_dense_data": (
        "rows are time steps: repeating a row makes a different series (new windows "
        "that span the copies), so integer row weights cannot equal repeated rows."),
}


def _expected_failed_checks(estimator):
    if "Forecaster" in type(estimator).__name__:
        return {**EXPECTED_FAILURES, **FORECASTER_FAILURES}
    return EXPECTED_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
