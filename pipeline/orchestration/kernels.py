"""Kernels started by forking a process that has already loaded what a kernel loads.

A kernel is a new Python process that imports ipykernel and IPython before it can answer: about
0.2 s of CPU and half a second of wall time per report, a fifth of a report's whole cost. A
fork server imports them once; each kernel is then a fork of it (copy-on-write, a few
milliseconds) that goes on as `python -m ipykernel_launcher` would: a process of its own, in a
session of its own, with the request's environment and working folder. Every kernel starts from
the same untouched state, so one report's code cannot reach another's.

What a fork cannot take from the request is what Python reads once at start-up (PYTHONHASHSEED,
PYTHONPATH and the like): the server is started with the kernel spec's environment for that.

The server is one process per run, started by the driver. Workers ask it for kernels over a
Unix socket, with the run's secret; each answer carries a pidfd of the new kernel, opened before
the kernel could have ended, through which the worker watches and signals it. A kernel ends with
the server, and the server with the driver. Where any of this is missing (not Linux, no pidfd,
the server unreachable, e.g. from a Dask worker on another machine), kernels start the usual way.
"""

from __future__ import annotations

import contextlib
import ctypes
import hmac
import json
import os
import select
import signal
import socket
import subprocess
import sys

from jupyter_client.provisioning import LocalProvisioner

#: what every kernel imports before it answers (and the light report facade its notebook uses):
#: ipykernel's kernel class with its debugger (debugpy: half of a kernel's start-up) and what
#: IPython's shell and jupyter_client's address lookup import when a kernel starts
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "psutil",
    "sqlite3",
    "tornado.platform.asyncio",
    "pipeline.report",
)
#: seconds a worker waits for the server's answer before starting its kernel the usual way
ANSWER_TIMEOUT = 30
_PR_SET_PDEATHSIG = 1


def available() -> bool:
    """Whether kernels can be forked here: Linux, with pidfds the system lets us open."""
    if not (sys.platform.startswith("linux") and hasattr(os, "pidfd_open")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # an old kernel, or a sandbox that forbids it
        return False
    return True


class Server:
    """The fork server of a run. `address` is what workers pass to `launch`: the socket's name
    and the run's secret, which only the driver and its workers are given."""

    def __init__(self, env: dict[str, str]):
        name = f"tartan-kernels-{os.getpid()}-{os.urandom(8).hex()}"
        secret = os.urandom(32).hex()
        self.address = f"{name}/{secret}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import serve; serve()", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        try:  # the secret goes by pipe: a command line is anyone's to read
            self.proc.stdin.write(secret.encode() + b"\n")
            self.proc.stdin.flush()
            # listening at once; it loads the rest while the driver validates (a kernel asked
            # for meanwhile waits for it)
            listening = self.proc.stdout.readline().strip() == b"listening"
        except OSError:
            listening = False
        if not listening:
            self.close()
            raise RuntimeError("the kernel fork server did not start")

    def close(self) -> None:
        """Stop the server; any kernel it still has is killed with it."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def serve() -> None:
    """The fork server's main loop (run as its own process by `Server`)."""
    import importlib

    # Ctrl-C is the driver's to handle: it closes the server, and that ends every kernel
    # (kernels ignore it too, as those started by the workers, which ignore it, always have).
    # Ended otherwise, the server still ends its kernels first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))
    secret = sys.stdin.buffer.readline().strip()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + sys.argv[1])  # Linux's abstract namespace: no file to leave behind
    listener.listen(64)
    sys.stdout.write("listening\n")
    sys.stdout.flush()
    # debugpy checks, as it is imported, whether breakpoints could be missed, and says so on
    # stderr, the driver's: kernels here are never debugged from outside
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    for name in PRELOAD:
        importlib.import_module(name)
    children: set[int] = set()

    def reap(*_):
        with contextlib.suppress(ChildProcessError):
            while True:
                pid, _status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    return
                children.discard(pid)

    signal.signal(signal.SIGCHLD, reap)
    stdin = sys.stdin.fileno()
    try:
        while True:
            ready, _, _ = select.select([stdin, listener], [], [])
            if stdin in ready and not os.read(stdin, 1024):
                return  # the driver has gone: so do the server and its kernels
            if listener in ready:
                conn, _ = listener.accept()
                with conn, contextlib.suppress(Exception):  # a bad request fails alone
                    _answer(conn, secret, children, listener)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # none reaped now: none of their IDs reused
        for pid in list(children):
            _kill(pid)


def _kill(pid: int) -> None:
    """Kill an unreaped child, and its session (which it may not have made yet)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def _answer(conn: socket.socket, secret: bytes, children: set[int], listener) -> None:
    """Fork a kernel for one request and send back its pidfd (nothing, to a wrong secret)."""
    conn.settimeout(5)
    request = json.loads(conn.makefile("rb").readline())
    if not hmac.compare_digest(str(request.get("secret", "")).encode(), secret):
        return
    # not reaped before it is counted and its pidfd opened: the pidfd is of this kernel even
    # if it has ended by the time the worker reads it
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    request["server"] = os.getpid()  # taken here: by the time the child asks, it may be gone
    try:
        pid = os.fork()
        if pid == 0:
            listener.close()
            conn.close()
            _become_kernel(request)  # never returns
        children.add(pid)
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            _kill(pid)
            raise
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    try:
        socket.send_fds(conn, [f"{pid}\n".encode()], [fd])
    except OSError:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)  # no one would watch it
        raise
    finally:
        os.close(fd)


def _become_kernel(request: dict) -> None:
    """In the forked child: be `python -m ipykernel_launcher ARGS` run with this environment
    and working folder, in a session of its own (as jupyter_client starts kernels)."""
    code = 1
    try:
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        server = request["server"]
        # killed with the server, however it ends; and a server already gone has no kernels
        with contextlib.suppress(Exception):  # the kernel's own watch of its parent remains
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != server:
            os._exit(1)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(server)  # as jupyter_client sets it for a fresh one
        # ipykernel read its parent from the environment when the server imported it: its
        # parent is the server, which the kernel watches as a fresh one watches its worker
        watch = f"--IPKernelApp.parent_handle={server}"
        sys.argv = ["ipykernel_launcher", *request["args"], watch]
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]  # as ipykernel_launcher does; the kernel adds it back
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        # as an interpreter ends: exit handlers, then the output flushed
        with contextlib.suppress(BaseException):
            import atexit

            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class Kernel:
    """A forked kernel, handled as jupyter_client's provisioner handles a Popen, through its
    pidfd: it can never signal a process that reused the kernel's ID."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int):
        self.pid = pid
        self.fd = pidfd
        self.returncode: int | None = None

    def _ended(self, timeout: float | None) -> bool:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        return bool(poller.poll(None if timeout is None else int(timeout * 1000)))

    def poll(self) -> int | None:
        if self.returncode is None and self.fd >= 0 and self._ended(0):
            self.returncode = -1  # ended; its exit status belongs to the server
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired("kernel", timeout)
            self.returncode = -1
        self.close()
        return self.returncode

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.fd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def __del__(self):
        with contextlib.suppress(OSError):
            self.close()


def launch(address: str, cmd: list[str], env: dict[str, str], cwd: str) -> Kernel:
    """Ask the server at `address` for a kernel run as `cmd` would run it."""
    name, _, secret = address.partition("/")
    args = cmd[cmd.index("ipykernel_launcher") + 1 :]
    request = {"secret": secret, "args": args, "env": env, "cwd": cwd}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(ANSWER_TIMEOUT)
        sock.connect("\0" + name)
        sock.sendall(json.dumps(request).encode() + b"\n")
        data, fds, _flags, _ = socket.recv_fds(sock, 64, 1)
        while fds and data and not data.endswith(b"\n"):
            more = sock.recv(64)
            data += more
            if not more:
                break
    if not fds:
        raise ConnectionError(f"the kernel fork server {name} started no kernel")
    pid = data.strip()
    if not pid.isdigit():
        os.close(fds[0])
        raise ConnectionError(f"the kernel fork server {name} gave no kernel")
    return Kernel(int(pid), fds[0])


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, but the kernel is forked by the run's server (the
    usual start when the server cannot be reached)."""

    def __init__(self, server: str, **kwargs):
        super().__init__(**kwargs)
        self.server = server

    async def launch_kernel(self, cmd, **kwargs):
        if "ipykernel_launcher" not in cmd:
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            self.process = launch(self.server, cmd, env, cwd)
        except OSError:
            return await super().launch_kernel(cmd, **kwargs)
        self.pid = self.pgid = self.process.pid  # a session of its own
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        if isinstance(self.process, Kernel):
            # its whole session, while its living leader keeps that from being anyone else's
            if self.process.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(self.pgid, signum)
                self.process.send_signal(signum)  # should its session have been out of reach
            return
        await super().send_signal(signum)


@contextlib.contextmanager
def server(env: dict[str, str]):
    """A fork server for the run, as its address; "" where kernels start the usual way."""
    if not available():
        yield ""
        return
    try:
        srv = Server(env)
    except (OSError, RuntimeError):
        yield ""
        return
    try:
        yield srv.address
    finally:
        srv.close()
