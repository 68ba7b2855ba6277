"""The training engine: a skorch net fed by batches sliced on the device.

skorch's default DataLoader collates every batch sample by sample; for a
small RNN that costs more than the training step itself (measured: 0.75 ms
per batch of 128 on 2 CPU cores). Here the whole training set is moved to the
training device once and each batch is one ``index_select`` (shuffled) or a
view (in order).
"""

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping

from ._fast_path import CapturedTraining, capture_blocker, warn_fallback


# Inference batches (``SequenceEngine._predict_batch``): at most this many
# sequences, whose hidden states hold at most this many floats (64 MB), unless
# training used more sequences.
PREDICT_BATCH, PREDICT_FLOATS = 512, 1 << 24


class DeviceDataset(torch.utils.data.Dataset):
    """Padded inputs, optional lengths, targets and sample weights on one device.

    A batch's ``X`` is the input tensor, or a dict of module inputs (``x``,
    ``lengths``) and the ``sample_weight`` that ``SequenceEngine.get_loss``
    reads (skorch's recipe for sample weights).
    """

    def __init__(self, x, lengths=None, y=None, sample_weight=None):
        self.x, self.lengths, self.y = x, lengths, y
        self.sample_weight = sample_weight

    def __len__(self):
        return self.x.shape[0]

    @property
    def device(self):
        return self.x.device

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        x = self.x[index]
        if self.lengths is not None or self.sample_weight is not None:
            x = {"x": x}
            if self.lengths is not None:
                x["lengths"] = self.lengths[index]
            if self.sample_weight is not None:
                x["sample_weight"] = self.sample_weight[index]
        return x, (None if self.y is None else self.y[index])


class BatchSlicer:
    """Iterate over a dataset in batches, optionally reshuffled per pass.

    The dataset needs ``__len__``, ``device`` and ``batch(index)`` taking a
    slice or an index tensor on that device (DeviceDataset, or a dataset that
    cuts windows from a series on the fly), and may have ``start_epoch()``,
    called before each pass (per-epoch random state: the language model's
    cut points).

    ``generator`` is a CPU :class:`torch.Generator` owned by the estimator's
    fit, so the batch order follows ``random_state`` alone.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.generator = shuffle, generator

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n, size = len(self.dataset), self.batch_size
        if hasattr(self.dataset, "start_epoch"):
            self.dataset.start_epoch()
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.dataset.device)
            for start in range(0, n, size):
                yield self.dataset.batch(order[start:start + size])
        else:
            for start in range(0, n, size):
                yield self.dataset.batch(slice(start, start + size))


class NonFiniteLoss(ArithmeticError):
    """Raised inside training when a batch loss is NaN or infinite."""


class StopTraining(KeyboardInterrupt):
    """Early stopping's signal. skorch's EarlyStopping stops training by raising
    KeyboardInterrupt; this subclass tells it apart from the user's Ctrl-C, so
    that an early stop is not taken for an interrupted fit (which would put the
    last epoch's weights back over the best epoch's)."""


class EarlyStop(EarlyStopping):
    """skorch's EarlyStopping with scikit-learn's MLP semantics, raising
    :class:`StopTraining` when it stops.

    ``threshold`` (the estimators' ``tol``) only decides what counts as
    progress for ``patience``: an epoch that does not beat the best score so
    far by ``threshold`` is a miss. The weights kept (``load_best``) are those
    of the best epoch, however small its lead (skorch keeps only epochs that
    beat the threshold, so a later, better epoch could be thrown away).
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_score_ = np.inf if self.lower_is_better else -np.inf

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        best = self.best_score_
        if score < best if self.lower_is_better else score > best:
            self.best_score_, self.best_epoch_ = score, net.history[-1, "epoch"]
            if self.load_best:
                self.best_model_weights_ = _copy_state(net.module_)
        tol = self.threshold * (abs(best) if self.threshold_mode == "rel" else 1.0)
        progressed = score < best - tol if self.lower_is_better else score > best + tol
        self.misses_ = 0 if progressed or not math.isfinite(best) else self.misses_ + 1
        if self.misses_ == self.patience:
            if net.verbose:
                # skorch prints an epoch's row after every other callback: this
                # one stops before that, so print it here.
                printer = dict(net.callbacks_).get("print_log")
                if printer is not None:
                    printer.on_epoch_end(net)
                self._sink(f"Stopping since {self.monitor} has not improved in the last "
                           f"{self.patience} epochs.", verbose=net.verbose)
            raise StopTraining


def _copy_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class SequenceEngine(NeuralNet):
    """skorch's NeuralNet restricted to datasets that slice their own batches.

    Held by the estimators as ``net_``; never exposed as a base class.

    ``fast_path`` (set by the estimator, not a skorch parameter) chooses how
    training epochs run: None, skorch's loop; "capture", steps replayed as
    CUDA graphs (see ``_fast_path.py``); "eager", the same step machinery
    without capture (what the tests check against skorch's loop on the CPU).
    """

    fast_path = None
    _runner = _runner_iterator = None

    def get_default_callbacks(self):
        # skorch's PrintLog formats a table and flushes stdout every epoch even
        # when it prints nothing (7-10% of a small fit): only when verbose.
        # (initialize_callbacks, run again by every fit, reads verbose anew.)
        return [(name, callback) for name, callback in super().get_default_callbacks()
                if self.verbose or name != "print_log"]

    def get_dataset(self, X, y=None):
        if not hasattr(X, "batch"):
            raise TypeError("SequenceEngine takes a dataset with batch(index) "
                            f"(DeviceDataset, WindowDataset), got {type(X).__name__}")
        return X

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # Keep the last completed epoch's weights; on a non-finite loss or an
        # interruption, training stops and those weights come back (see _base).
        self.interrupted_ = False
        self.good_state_ = _copy_state(self.module_)
        self.good_epochs_ = len(self.history)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except StopTraining:
            raise  # early stopping: not an interruption
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise  # skorch's partial_fit stops training quietly on it
        finally:
            self._end_fast_path()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch, with the batch losses kept on the device and read once.

        skorch calls ``loss.item()`` after every batch, a host synchronisation
        per step on a GPU; there the losses are stacked and copied once at the
        end of the pass, then written into the same per-batch history records.
        On the CPU, where ``item()`` costs nothing and holding the tensors cost
        4-8 % of a small net's fit (measured), each is read at once. A
        non-finite loss is detected at the end of the pass (the caller restores
        the last completed epoch). Training epochs on the fast path replay
        captured steps instead (``_fast_path.py``).
        """
        if iterator is None:
            return
        runner = self._fast_runner(iterator) if training else None
        if runner is not None:
            losses, norms, sizes, replayed = runner.run_epoch()
            self.history.record("graph_steps", replayed)
            dict(self.callbacks_)["gradient_health"].add_norms(norms)
            for _ in sizes:
                self.history.new_batch()
            values = losses.cpu().tolist()
            if torch.is_tensor(sizes):
                sizes = sizes.cpu().tolist()
        else:
            values, sizes = self._eager_epoch(iterator, training, step_fn, **fit_params)
        records = self.history[-1]["batches"][-len(values):] if values else []
        for record, value, size in zip(records, values, sizes):
            record[prefix + "_loss"] = value
            record[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(values))
        bad = [v for v in values if not math.isfinite(v)]
        if bad:
            raise NonFiniteLoss(f"the {'training' if training else 'validation'} loss "
                                f"became {bad[0]} in epoch {len(self.history)}")

    def _eager_epoch(self, iterator, training, step_fn, **fit_params):
        """One pass through skorch's step, batch by batch: ``(losses, sizes)``."""
        deferred = torch.device(self.device).type != "cpu"
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].detach()
            size = self.batch_weight(batch)
            losses.append(loss if deferred else loss.item())
            sizes.append(size.item() if torch.is_tensor(size) and not deferred else size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if deferred and losses:
            losses = torch.stack(losses).float().cpu().tolist()
            if any(torch.is_tensor(size) for size in sizes):
                sizes = torch.stack([torch.as_tensor(size, device=self.device)
                                     for size in sizes]).cpu().tolist()
        return losses, sizes

    def batch_weight(self, batch):
        """The weight of a batch's loss in the epoch's mean loss: its samples, or
        the targets its loss averages over where the criterion counts them
        (the language model's tokens; a tensor, read with the losses)."""
        X, y = batch
        count = getattr(self.criterion_, "count", None)
        if count is not None and y is not None:
            return count(y)
        return len(y) if y is not None else len(X)

    def _fast_runner(self, iterator):
        """The fast-path runner for this fit's training iterator, or None (skorch's
        loop): built on the first training epoch, kept until the fit ends."""
        if self.fast_path is None:
            return None
        if self._runner is not None and self._runner_iterator is iterator:
            return self._runner or None
        capture = self.fast_path == "capture"
        reason = capture_blocker(self, iterator.dataset, capture)
        if reason is not None:
            self._say(f"Fast path off: {reason}; training eagerly.")
            self._runner = False
        else:
            self._runner = CapturedTraining(
                self, iterator, dict(self.callbacks_)["gradient_health"], capture)
        self._runner_iterator = iterator
        return self._runner or None

    def _end_fast_path(self):
        """Release the runner (its graphs hold device memory); report a capture
        that failed, which is unexpected for a configuration let through."""
        runner, self._runner, self._runner_iterator = self._runner, None, None
        if runner:
            # The last replay's gradients live in a graph's memory pool.
            self.optimizer_.zero_grad(set_to_none=True)
        if runner and runner.failure:
            warn_fallback(runner.failure)
        elif runner and runner.graphs:
            self._say("Fast path: training steps replayed as CUDA graphs for batch "
                      f"sizes {sorted(runner.graphs, reverse=True)}.")

    def _say(self, message):
        if self.verbose:
            print(message)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        self.good_state_ = _copy_state(self.module_)
        self.good_epochs_ = len(self.history)

    def release_training_data(self):
        """Drop what only training needed, so a fitted estimator pickles small:
        the validation set, the weight snapshot, per-batch records."""
        self.train_split = None
        self.good_state_ = None
        # Every fit sets a new one; unpickling a torch Generator leaks native
        # memory (2.7 KB a load in torch 2.13) and it was a quarter of a pickle.
        self.iterator_train__generator = None
        for epoch in reversed(self.history):  # this fit's epochs: earlier ones are done
            if not epoch.get("batches"):
                break
            epoch["batches"] = []
        for _, callback in self.callbacks_:
            callback.__dict__.pop("norms_", None)
            callback.__dict__.pop("params_", None)
            callback.__dict__.pop("steps_", None)

    def restore_last_good_epoch(self, *, fresh_moments=False):
        """Weights and history of the last completed epoch (drops a partial one).

        ``fresh_moments``: also clear the optimizer's state (Adam's moments, SGD's
        momentum). After a non-finite loss they hold NaN or inf, and every later
        step would write them into the restored weights again.
        """
        self.module_.load_state_dict(self.good_state_)
        del self.history[self.good_epochs_:]
        if fresh_moments:
            self.optimizer_.state.clear()

    def _set_training(self, training=True):
        # skorch sets the mode of every module on every batch (13 us each); this
        # reads them (2 us), so a submodule a user switched is switched back.
        if any(m.training != training for m in self.module_.modules()):
            super()._set_training(training)

    def predict_batches(self, dataset):
        """Module outputs for a whole dataset, on the CPU.

        One fitted check, one eval switch and one no_grad context for the pass,
        instead of skorch's per-batch evaluation_step, and a single copy to the
        host at the end (no per-batch device sync on a GPU).
        """
        if not hasattr(self, "module_"):
            self.check_is_fitted()  # (skorch's error)
        self._set_training(False)
        size = self._predict_batch(dataset)
        with torch.no_grad():
            if len(dataset) <= size:  # one batch, as it is (a request to a served model)
                return self.infer(dataset.batch(slice(None))[0]).cpu()
            out = [self.infer(x) for x, _ in BatchSlicer(dataset, size)]
        return torch.cat(out).cpu()

    def _predict_batch(self, dataset):
        """Batches of inference: the training batch, or more (no gradients to keep)
        -- up to PREDICT_BATCH sequences while a batch's hidden states (padded
        steps x the width the head reads) stay within PREDICT_FLOATS. A GRU of
        hidden 8 predicted 10,000 sequences 6.8x faster than in the batches of
        16 that "auto" gives a small training set."""
        steps = dataset.x.shape[1] if dataset.x.ndim > 1 else 1
        width = max(getattr(getattr(self.module_, "head", None), "in_features", 1),
                    dataset.x.shape[-1])
        return max(self.batch_size, min(PREDICT_BATCH, PREDICT_FLOATS // (steps * width)))

    def infer(self, x, **fit_params):
        # Batches already sit on the device; skip skorch's per-batch to_tensor.
        if isinstance(x, dict):
            inputs = {k: v for k, v in x.items() if k != "sample_weight"}
            return self.module_(**inputs, **fit_params)
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion's loss; with sample weights in ``X``, their weighted mean.

        The weights arrive scaled to mean 1 over the training (or validation)
        set, so the mean of ``weight * loss`` over a batch is an unbiased
        estimate of the weighted mean loss over the whole set -- the loss of
        the data set with each sample repeated ``weight`` times -- and the
        learning rate keeps its meaning. Without weights, skorch's loss.
        """
        weight = X.get("sample_weight") if isinstance(X, dict) else None
        if weight is None:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        criterion = self.criterion_
        reduction, criterion.reduction = criterion.reduction, "none"
        try:
            per_sample = super().get_loss(y_pred, y_true, X=X, training=training)
        finally:
            criterion.reduction = reduction
        if weight.ndim == 2:  # a weight per step ahead (a forecaster's direct strategy)
            per_step = per_sample.reshape(*weight.shape, -1).mean(dim=2)
            return (per_step * weight).mean()
        return (per_sample.reshape(len(weight), -1).mean(dim=1) * weight).mean()


class WindowDataset(torch.utils.data.Dataset):
    """Training windows cut from stacked series on the fly.

    ``series`` is ``(n_rows, n_channels)`` on the device, ``target`` its
    ``(n_rows,)`` target channel, ``starts`` the first row of each window.
    Sample ``i`` is the window ``series[starts[i]:starts[i] + lookback]`` and
    the targets ``target[starts[i] + lookback:][:horizon]``. Only one batch of
    windows ever exists at a time: memory grows with the series, not with
    ``n_windows * lookback``. ``sample_weight`` (optional: one per window, or
    ``(n_windows, horizon)``, one per step it forecasts)
    comes with a batch as in :class:`DeviceDataset`.
    """

    def __init__(self, series, target, starts, lookback, horizon, sample_weight=None):
        self.series, self.target, self.starts = series, target, starts
        self.sample_weight = sample_weight
        self._window = torch.arange(lookback, device=series.device)
        self._ahead = torch.arange(lookback, lookback + horizon, device=series.device)

    def __len__(self):
        return self.starts.shape[0]

    @property
    def device(self):
        return self.series.device

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        start = self.starts[index][:, None]
        x = self.series[start + self._window]
        if self.sample_weight is not None:
            x = {"x": x, "sample_weight": self.sample_weight[index]}
        return x, self.target[start + self._ahead]


class GradientHealth(Callback):
    """Record gradient health per epoch, and clip when ``max_norm`` is set.

    History keys: ``grad_norm`` (mean global gradient norm before clipping),
    ``grad_norm_max`` and ``clipped`` (share of steps whose norm exceeded
    ``max_norm``). With clipping every step is measured; without, every
    ``SAMPLE``-th step (the first of each epoch included); on the GPU fast
    path, every step (inside the captured graph). Norms stay on the device
    until the epoch ends.
    """

    def __init__(self, max_norm=None):
        self.max_norm = max_norm

    def on_epoch_begin(self, net, **kwargs):
        self.norms_ = []
        self.steps_ = 0
        # Listed once per epoch: walking skorch's named-parameter generator on
        # every batch cost more than the norm itself.
        self.params_ = [p for p in net.module_.parameters() if p.requires_grad]

    #: Without clipping, the norm is only recorded, on every SAMPLE-th step: on a
    #: small CPU net one norm costs ~70 us, 2-3 % of a training step.
    SAMPLE = 8

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.steps_ = getattr(self, "steps_", 0) + 1
        if self.max_norm is None and (self.steps_ - 1) % self.SAMPLE:
            return
        norm = self.clip_and_measure(self.params_)
        if norm is not None:
            self.norms_.append(norm.detach().reshape(1))

    def clip_and_measure(self, params):
        """The global gradient norm of ``params`` before clipping (None when none
        has a gradient), after clipping their gradients to ``max_norm`` when it
        is set. Device work only, so the fast path records it inside a captured
        step."""
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return None
        norm = torch.nn.utils.get_total_norm(grads)
        if self.max_norm is not None:
            torch.nn.utils.clip_grads_with_norm_(params, self.max_norm, norm)
        return norm

    def add_norms(self, norms):
        """Norms measured outside ``on_grad_computed`` (the fast path: every step)."""
        self.norms_.append(norms.detach().clone())

    def on_epoch_end(self, net, **kwargs):
        if not self.norms_:
            return
        norms = torch.cat(self.norms_).float().cpu()
        net.history.record("grad_norm", float(norms.mean()))
        net.history.record("grad_norm_max", float(norms.max()))
        clipped = 0.0 if self.max_norm is None else float((norms > self.max_norm).float().mean())
        net.history.record("clipped", clipped)
