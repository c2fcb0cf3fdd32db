"""Where jobs run, behind one `concurrent.futures.Executor` interface.

- ``local`` (the default): worker processes on this machine, one more than cores. Each runs one
  notebook at a time, in its own kernel (forked from the run's kernel server, see kernels.py).
  Workers ignore Ctrl-C; the driver stops them. A worker never outlives the driver: it watches
  the driver's process and, the moment the driver is gone (killed, even by SIGKILL), ends with
  its kernel rather than go on writing into the output folder without the driver's lock.
- ``dask``: a Dask distributed cluster, either one started here (a LocalCluster, one
  single-threaded worker process per core) or an existing one at ``--scheduler ADDRESS``. Every
  worker needs the same environment (this project installed, `make setup`) and must see the
  same paths: the output folder, and its ``.tartan-work`` slices, on shared storage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

import psutil

from pipeline.core.errors import ConfigError

#: seconds between looks at the driver, where it cannot be watched through a pidfd
WATCH_INTERVAL = 0.2
#: seconds a stopped worker has to end before it is killed
STOP_GRACE = 5


def _start_worker(templates: str | None, driver: int) -> None:
    """A local worker ignores Ctrl-C (the driver stops it), ends with the driver, and loads what
    jobs use."""
    from pipeline.orchestration.jobs import warm_up

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _end_worker(143))
    watch_driver(driver)
    warm_up(templates)


def watch_driver(driver: int) -> None:
    """End this process, with its kernel, as soon as process `driver` (its parent) is gone: a
    daemon thread waits on a pidfd of the driver (on Linux; elsewhere it looks every
    WATCH_INTERVAL seconds for the parent to change)."""
    fd = None
    with contextlib.suppress(OSError, AttributeError):
        fd = os.pidfd_open(driver)
    # checked after the pidfd is open: while the driver is still the parent, the pidfd is its
    # own and not that of a process that reused its ID
    if os.getppid() != driver:
        _end_worker(1)
    threading.Thread(target=_wait_for, args=(driver, fd), name="driver-watch", daemon=True).start()


def _wait_for(driver: int, fd: int | None) -> None:
    if fd is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)  # readable once the process has ended
        while not poller.poll():
            pass
    else:
        while os.getppid() == driver:
            time.sleep(WATCH_INTERVAL)
    _end_worker(1)


def _end_worker(code: int) -> None:
    """End this worker now, and the kernels it started itself (a kernel forked from the run's
    server is the server's, and ends with it)."""
    for child in psutil.Process().children():
        for kill in (os.killpg, os.kill):  # the kernel's session, then the kernel
            with contextlib.suppress(OSError):
                if kill is os.kill or os.getpgid(child.pid) == child.pid:
                    kill(child.pid, signal.SIGKILL)
    os._exit(code)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop at once: nothing more starts, and running workers are ended (each with any kernel
    it started; a kernel forked from the run's server ends with the server), killed should one
    not end within STOP_GRACE seconds."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for p in processes:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=STOP_GRACE)


@contextmanager
def local(workers: int, templates: str | None = None) -> Iterator[Executor]:
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_start_worker,
        initargs=(templates, os.getpid()),
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
