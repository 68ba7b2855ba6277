"""The GPU fast path: whole training steps captured as CUDA graphs and replayed.

A small recurrent network on a GPU spends its training step launching
kernels, not computing: the step of a 64-unit LSTM on batches of 128 is a few
hundred tiny kernels, each cheaper to run than to launch from Python. A CUDA
graph records the whole step once -- gathering the batch, forward, loss,
backward, gradient clipping and the optimizer update -- and replays it with a
single launch.

What makes a step replayable:

* every tensor it reads or writes lives at a fixed address: the training set
  already sits on the device (``DeviceDataset``, ``WindowDataset``), the batch
  order is copied into one index buffer per epoch, and a step counter on the
  device tells each replay which slice of that order to gather;
* nothing waits for the host: the loss and gradient norm of every step are
  written into per-epoch device buffers, read once when the epoch ends;
* the optimizer keeps its step count on the device: Adam and RMSprop are
  switched to ``capturable=True`` before their first step (SGD needs
  nothing). Only a fit that captures switches, so configurations that train
  eagerly keep the faster eager optimizer.

Each distinct batch size (the full one, and the last partial batch of an
epoch) gets its own graph, so every sample is trained exactly as the eager
loop trains it. A graph is captured after ``WARMUP_STEPS`` eager steps of its
size (real training steps, run on the capture stream as PyTorch's CUDA-graph
notes ask, so that lazily created state -- optimizer moments, cuDNN and cuBLAS
workspaces -- exists before capture). The same ``_step`` runs eagerly with
``capture=False``; tests use that on the CPU to check the machinery (batch
order, partial batches, loss and norm buffers, history) against the plain
skorch loop.

``StepGraphs`` is the replay machinery itself (warm-up, recording, replay,
fallback); ``CapturedTraining`` runs the recurrent estimators' epochs on it
and ``_word2vec.SkipGramSteps`` the skip-gram engine's batch updates.
"""

import collections
import functools
import warnings

import torch

#: Eager steps of a batch size before its graph is captured.
WARMUP_STEPS = 3

#: The estimators' optimizers (by class name) that need ``capturable=True`` to be
#: captured (SGD keeps no step count).
NEEDS_CAPTURABLE = ("Adam", "RMSprop")


def capture_blocker(net, dataset, capture=True):
    """Why training steps of ``net`` on ``dataset`` cannot be captured, or None.

    Checks what is known not to replay: modules that need host-side data
    (``capture_blocker(ragged)`` on the module), and, when ``capture``, an
    optimizer that has stepped without ``capturable=True`` (its step counts
    live on the host: a network fitted eagerly, then warm-started on the
    fast path).
    """
    module_check = getattr(net.module_, "capture_blocker", None)
    ragged = getattr(dataset, "lengths", None) is not None
    reason = module_check(ragged) if module_check is not None else None
    if reason:
        return reason
    optimizer = net.optimizer_
    if capture and _needs_capturable(optimizer) and optimizer.state:
        return (f"the {type(optimizer).__name__} optimizer has stepped without "
                "capturable=True (the network was fitted eagerly before: fast_path=False, "
                "or a configuration that cannot be captured); fit from scratch to capture")
    return None


def warn_fallback(failure, stacklevel=2):
    """Warn that a capture failed (unexpected for a configuration let through)
    and training ran eagerly. ``stacklevel`` counts from the caller, as
    ``warnings.warn`` would there."""
    warnings.warn(f"The GPU fast path could not be used ({failure}); training ran eagerly, "
                  "with the same results, only slower. fast_path=False skips the attempt.",
                  RuntimeWarning, stacklevel=stacklevel + 1)


def _needs_capturable(optimizer):
    return type(optimizer).__name__ in NEEDS_CAPTURABLE and not all(
        group.get("capturable") for group in optimizer.param_groups)


class StepGraphs:
    """Training steps run eagerly, then as CUDA graphs: the replay machinery
    that the recurrent estimators and the skip-gram engine share.

    A step is a callable doing device work only (its inputs read from tensors
    at fixed addresses, never from Python values that change between steps).
    ``run(key, step)`` runs it eagerly for the first ``WARMUP_STEPS`` times of
    its ``key`` (a batch size), on the capture stream, then records it once
    and replays the graph from then on. A recording that fails turns capture
    off: every later step runs eagerly, with the same results, and
    ``failure`` says why.

    Subclasses override ``_clear`` for what must be reset before each eager
    step and before recording (the recurrent nets' gradients).
    """

    def __init__(self, device, capture):
        self.capture = capture
        self.stream = torch.cuda.Stream(device) if capture else None
        self.graphs = {}
        self.eager_steps = collections.Counter()
        self.failure = None

    def run(self, key, step, capturable=True):
        """Run ``step`` once (replayed when its graph exists); True if replayed.
        ``capturable=False`` runs it eagerly, never recorded (a one-off shape)."""
        graph = self.graphs.get(key)
        if (graph is None and capturable and self.capture
                and self.eager_steps[key] >= WARMUP_STEPS):
            graph = self._capture(key, step)
        if graph is not None:
            graph.replay()
            return True
        self._eager(key, step)
        return False

    def _clear(self):
        """Reset what a step must not inherit from the last one (nothing here)."""

    def _eager(self, key, step):
        self._clear()
        if self.stream is None:
            step()
        else:
            # Warm-up runs on the capture stream (lazy handles are per stream).
            current = torch.cuda.current_stream()
            self.stream.wait_stream(current)
            with torch.cuda.stream(self.stream), warnings.catch_warnings():
                # PyTorch warns that a capturable optimizer runs uncaptured: by
                # design, for these few steps.
                warnings.filterwarnings("ignore", message=".*capturable=True.*")
                step()
            current.wait_stream(self.stream)
        self.eager_steps[key] += 1

    def _record(self, step):
        """A CUDA graph of ``step()``: recorded, not run."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self.stream):
            step()
        return graph

    def _capture(self, key, step):
        """Record ``step`` for ``key``; None (and eager steps from now on) if the
        recording fails."""
        self._clear()
        try:
            graph = self._record(step)
        except RuntimeError as exc:
            # Something in this configuration does not replay; train on
            # eagerly (same results) and let the caller say so.
            self.capture, self.failure = False, f"capture failed: {exc}"
            self._clear()
            return None
        self.graphs[key] = graph
        return graph


class CapturedTraining(StepGraphs):
    """The training epochs of one ``fit_loop``, each step a graph replay.

    Parameters
    ----------
    net : SequenceEngine
        The initialised engine (module, criterion, optimizer).
    iterator : BatchSlicer
        The training iterator skorch built: its dataset, batch size, shuffle
        flag and generator define the batches, exactly as it would draw them.
    health : GradientHealth
        Clips (when it has a ``max_norm``) and measures the gradient norm
        inside the step.
    capture : bool
        Capture CUDA graphs (a CUDA device); False runs every step eagerly.
    """

    def __init__(self, net, iterator, health, capture):
        dataset = iterator.dataset
        device = dataset.device
        n, size = len(dataset), iterator.batch_size
        self.net, self.dataset, self.health = net, dataset, health
        self.batch_size = size
        self.shuffle, self.generator = iterator.shuffle, iterator.generator
        self.sizes = [min(size, n - start) for start in range(0, n, size)]
        self.order = torch.arange(n, device=device)
        self.counter = torch.zeros((), dtype=torch.long, device=device)
        self.losses = torch.zeros(len(self.sizes), device=device, dtype=torch.float32)
        self.norms = torch.zeros(len(self.sizes), device=device, dtype=torch.float32)
        # Where the criterion counts a batch's targets (tokens), the counts
        # weigh the losses in the epoch's mean, recorded in the step too.
        self.counts = (torch.zeros(len(self.sizes), device=device, dtype=torch.float32)
                       if hasattr(net.criterion_, "count") else None)
        self.offsets = {s: torch.arange(s, device=device) for s in set(self.sizes)}
        self.params = [p for p in net.module_.parameters() if p.requires_grad]
        super().__init__(device, capture)
        if capture and _needs_capturable(net.optimizer_):
            for group in net.optimizer_.param_groups:  # no state yet (capture_blocker)
                group["capturable"] = True

    def run_epoch(self):
        """Train one epoch. Returns ``(losses, norms, sizes, replayed)``: the
        per-batch losses and gradient norms (device tensors), the batch sizes
        (a list, or a device tensor of the targets counted by the criterion)
        and how many steps were graph replays."""
        if hasattr(self.dataset, "start_epoch"):  # as BatchSlicer does
            self.dataset.start_epoch()
        if self.shuffle:
            self.order.copy_(torch.randperm(len(self.dataset), generator=self.generator))
        self.counter.zero_()
        self.net._set_training(True)
        replayed = sum(self.run(size, functools.partial(self._step, size))
                       for size in self.sizes)
        sizes = self.sizes if self.counts is None else self.counts
        return self.losses, self.norms, sizes, replayed

    def _step(self, size):
        """Train on batch ``counter`` of the epoch: device work only, so that a
        graph can record it. Gradients are assumed cleared."""
        net = self.net
        index = self.order[self.counter * self.batch_size + self.offsets[size]]
        Xi, yi = self.dataset.batch(index)
        loss = net.get_loss(net.infer(Xi), yi, X=Xi, training=True)
        loss.backward()
        norm = self.health.clip_and_measure(self.params)
        net.optimizer_.step()
        at = self.counter.view(1)
        self.losses.index_copy_(0, at, loss.detach().float().view(1))
        self.norms.index_copy_(0, at, norm.detach().float().view(1))
        if self.counts is not None:
            self.counts.index_copy_(0, at, net.criterion_.count(yi).float().view(1))
        self.counter += 1

    def _clear(self):
        # Gradients set to None are allocated inside a graph when it is
        # recorded, so each replay writes them afresh instead of adding to the
        # last step's.
        self.net.optimizer_.zero_grad(set_to_none=True)
