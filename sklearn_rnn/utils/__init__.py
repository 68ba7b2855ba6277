"""Input validation and torch plumbing shared by the estimators."""

from ._torch import (autograd_on, check_memory, check_thread_count, draw_seed, module_build,
                     python_scalars, resolve_device, robust_mean, robust_std, torch_session,
                     torch_threads)
from ._validation import (SequenceBatch, check_count, check_not_times, check_sample_weight,
                          check_sequences, refuse_bool_numbers, unit_mean_weights)

__all__ = ["SequenceBatch", "autograd_on", "check_count", "check_not_times", "check_sample_weight",
           "check_memory", "check_sequences", "check_thread_count", "draw_seed", "module_build",
           "python_scalars", "refuse_bool_numbers", "resolve_device", "robust_mean", "robust_std",
           "torch_session", "torch_threads", "unit_mean_weights"]
