"""scikit-learn checks that need no data, for estimators that take text.

parametrize_with_checks skips a string-input estimator whole (its checks feed
numeric arrays), so these run by name.
"""

from sklearn.utils import estimator_checks

DATA_FREE_CHECKS = [
    estimator_checks.check_estimator_cloneable, estimator_checks.check_estimator_repr,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_get_params_invariance, estimator_checks.check_set_params,
    estimator_checks.check_valid_tag_types, estimator_checks.check_estimator_tags_renamed,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    estimator_checks.check_mixin_order,
]
