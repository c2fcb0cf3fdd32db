"""The demonstration dataset's yearly cycle around the numbers (written by ``demo.write``):
its peer-challenge groups, its return deadline, LAs' resubmissions and a provisional return.
Every name and code is fictional, as in ``pipeline.edges.demo``."""

from __future__ import annotations
