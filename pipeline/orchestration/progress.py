"""Progress of a run: a bar on a terminal (done / total, failed, unchanged, ETA); plain lines
elsewhere (CI logs), at most one per tenth of the work or per minute."""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


class Progress:
    def __init__(self, total: int, what: str, enabled: bool | None = None, stream=None):
        """`enabled`: None for a bar on a terminal and lines otherwise; False for nothing."""
        self.total, self.what = total, what
        self.stream = stream or sys.stderr
        self.done = self.failed = self.cached = 0
        self.started = time.monotonic()
        self._last_line, self._last_tenth = self.started, 0
        self.bar = None
        self.quiet = enabled is False or total == 0
        if not self.quiet and enabled is None and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=what, unit="report", file=self.stream)

    def update(self, result) -> None:
        self.done += 1
        self.failed += result.status != "ok"
        self.cached += bool(getattr(result, "cached", False))
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed, refresh=False)
            return
        now = time.monotonic()
        tenth = self.done * 10 // self.total
        if tenth > self._last_tenth or now - self._last_line >= 60 or self.done == self.total:
            self._last_tenth, self._last_line = tenth, now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        text = f"{self.what}: {self.done} of {self.total} done, {self.failed} failed"
        run = self.done - self.cached
        if self.done < self.total and run:
            left = elapsed / run * (self.total - self.done)
            text += f", about {_duration(left)} left"
        elif self.done == self.total:
            text += f", in {_duration(elapsed)}"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
