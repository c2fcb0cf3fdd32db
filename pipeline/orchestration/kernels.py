"""Kernels started by forking a process that has already loaded what a kernel loads.

A kernel is a new Python process that imports ipykernel and IPython before it can answer: about
0.25 s of CPU and half a second of wall time per report, a fifth of a report's whole cost. A
fork server imports them once; each kernel is then a fork of it (copy-on-write, a few
milliseconds) that goes on exactly as `python -m ipykernel_launcher` would. Every kernel still
runs in a process of its own, from the same untouched state: one report's code cannot reach
another's.

The server is one process per run, started by the driver; workers ask it for kernels over a
Unix socket and watch and signal each kernel through a pidfd, which cannot hit a reused process
ID. Where any of this is missing (not Linux, no server), kernels start the usual way.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys

from jupyter_client.provisioning import LocalProvisioner

#: what every kernel imports before it answers (and the light report facade its notebook uses)
PRELOAD = ("ipykernel.kernelapp", "IPython", "pipeline.report")


def available() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


class Server:
    """The fork server of a run: `address` is what workers pass to `launch`."""

    def __init__(self, env: dict[str, str]):
        self.address = f"tartan-kernels-{os.getpid()}-{secrets.token_hex(8)}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import serve; serve()", self.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        # listening at once; it loads the rest while the driver validates (a kernel asked for
        # meanwhile waits for it)
        if self.proc.stdout.readline().strip() != b"listening":
            self.close()
            raise RuntimeError("the kernel fork server did not start")

    def close(self) -> None:
        """Stop the server; any kernel it still has is killed with it."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def serve() -> None:
    """The fork server's main loop (run as its own process by `Server`)."""
    import importlib

    # Ctrl-C is the driver's to handle: it closes the server, and that ends every kernel
    # (kernels ignore it too, as those started by the workers, which ignore it, always have)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + sys.argv[1])  # Linux's abstract namespace: no file to leave behind
    listener.listen(64)
    sys.stdout.write("listening\n")
    sys.stdout.flush()
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
                    # anyone may reach an abstract socket: serve this user's processes only
                    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                    if struct.unpack("3i", creds)[1] != os.getuid():
                        continue
                    request = json.loads(conn.makefile("rb").readline())
                    # no reaping between the fork and the child being counted
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
                    try:
                        pid = os.fork()
                        if pid == 0:
                            listener.close()
                            conn.close()
                            _become_kernel(request)  # never returns
                        children.add(pid)
                    finally:
                        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                    conn.sendall(f"{pid}\n".encode())
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def _become_kernel(request: dict) -> None:
    """In the forked child: be `python -m ipykernel_launcher ARGS` run with this environment
    and working folder, in a session of its own (as jupyter_client starts kernels)."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # its parent is this server: the kernel exits should the server go
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        sys.argv = ["ipykernel_launcher", *request["args"]]
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]  # as ipykernel_launcher does; the kernel adds it back
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class Kernel:
    """A forked kernel, as jupyter_client's provisioner handles a Popen."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.fd = os.pidfd_open(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.fd], [], [], 0)[0]:
            self.returncode = -1  # ended; its exit status belongs to the server
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("kernel", timeout)
            self.returncode = -1
        with contextlib.suppress(OSError):
            os.close(self.fd)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.fd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def launch(address: str, cmd: list[str], env: dict[str, str], cwd: str) -> Kernel:
    """Ask the server at `address` for a kernel run as `cmd` would run it."""
    args = cmd[cmd.index("ipykernel_launcher") + 1 :]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("\0" + address)
        sock.sendall(json.dumps({"args": args, "env": env, "cwd": cwd}).encode() + b"\n")
        reply = sock.makefile("rb").readline().strip()
    if not reply.isdigit():
        raise ConnectionError(f"the kernel fork server at {address} started no kernel")
    return Kernel(int(reply))


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, but the kernel is forked by the run's server (the
    usual start when the server cannot be reached, e.g. a Dask worker on another machine)."""

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
        if isinstance(self.process, Kernel) and self.process.poll() is not None:
            return  # it has ended: its process group ID may be another's by now
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
