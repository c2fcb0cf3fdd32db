"""Where jobs run, behind one `concurrent.futures.Executor` interface.

- ``local`` (the default): worker processes on this machine, one more than cores. Each runs one
  notebook at a time, in its own kernel (forked from the run's kernel server, see kernels.py).
  Workers ignore Ctrl-C; the driver stops them.
- ``dask``: a Dask distributed cluster, either one started here (a LocalCluster, one
  single-threaded worker process per core) or an existing one at ``--scheduler ADDRESS``. Every
  worker needs the same environment (this project installed, `make setup`) and must see the
  same paths: the output folder, and its ``.tartan-work`` slices, on shared storage.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

from pipeline.core.errors import ConfigError


def _start_worker(templates: str | None) -> None:
    """A local worker ignores Ctrl-C (the driver stops it) and loads what jobs use."""
    from pipeline.orchestration.jobs import warm_up

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up(templates)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop at once: nothing more starts, and running workers are terminated (their kernels
    end with the run's kernel server, or, started the usual way, with the worker they watch)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=10)


@contextmanager
def local(workers: int, templates: str | None = None) -> Iterator[Executor]:
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_start_worker,
        initargs=(templates,),
    )
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


@contextmanager
def dask(workers: int, scheduler: str | None) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ConfigError("--executor dask needs the 'distributed' package") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ConfigError(
                f"--scheduler {scheduler}: no Dask scheduler answered ({exc}); start one with "
                "'dask scheduler' and workers with 'dask worker ADDRESS', or leave out "
                "--scheduler for a local cluster"
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    except BaseException:
        client.cancel(list(client.futures.values()), force=True)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def default_workers() -> int:
    """One more worker than cores: a worker waiting for its kernel to start or stop leaves
    its core to another (about 5% faster than one per core here; two more was slower)."""
    return (os.cpu_count() or 1) + 1


def open_executor(
    kind: str, workers: int | None, scheduler: str | None = None, templates: str | None = None
):
    """The executor `kind` ('local' or 'dask') as a context manager. `templates`: the charts'
    specifications the driver wrote, for local workers to read (Dask workers build their own)."""
    n = max(1, workers or default_workers())
    if kind == "local":
        if scheduler:
            raise ConfigError("--scheduler needs --executor dask")
        return local(n, templates)
    if kind == "dask":
        return dask(n, scheduler)
    raise ConfigError(f"executor {kind!r}: expected local or dask")
