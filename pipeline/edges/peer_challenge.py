"""A dataset's peer-challenge groups: ``peer_challenge.yaml`` beside ``dataset.yaml``.

Each year a regional group's LAs meet in groups of two to four for a peer-challenge day, and each
LA's self-assessment is moderated beforehand by another LA. The file names them for one
financial year::

    year: 2026-27                # the financial year the groups are for (its quarters' packs)
    indicators: [rereferrals_pct, cla_3_placements_pct]   # optional: the headline indicators
    groups:
      - id: north-a              # a slug: lower-case letters, digits and hyphens (file names)
        name: Northmoor group A  # optional: how the pages name it (default: its id)
        las: [ZL101, ZL102, ZL103]
        moderators:              # optional: whose self-assessment (key) which LA moderates
          ZL101: ZL104
          ZL102: ZL105

Checked as it is read, every problem collected and reported together (each naming the file, its
line and the LA): a group has two to four LAs, all known, all the dataset's own (they send
returns) and all in one region; every own LA is in exactly one group; a moderated LA is one of its
group's; a moderator is a known LA, neither the LA itself nor one of its group; the year is a
financial year (``2026-27``); the indicators are the catalogue's. Without the file there are no
groups and no group packs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.edges.yaml_files import read_yaml

#: the file's name in a dataset folder
FILE = "peer_challenge.yaml"
#: the fewest and most LAs in a group
SMALLEST, LARGEST = 2, 4
#: the headline indicators a group pack shows side by side, unless the file names its own: the
#: front door, child protection, children in care, care leavers and the workforce
DEFAULT_INDICATORS = (
    "rereferrals_pct",
    "referrals_nfa_pct",
    "assessments_45_days_pct",
    "icpc_15_days_pct",
    "cpp_second_time_pct",
    "cin_visits_pct",
    "cla_3_placements_pct",
    "cla_long_term_stability_pct",
    "care_leavers_eet_pct",
    "sw_turnover_pct",
    "sw_caseload",
)
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_YEAR = re.compile(r"^([1-9][0-9]{3})-([0-9]{2})$")
_TOP_KEYS = ("year", "indicators", "groups")
_GROUP_KEYS = ("id", "name", "las", "moderators")


@dataclass(frozen=True)
class Group:
    """One peer-challenge group: its LAs, and who moderates each one's self-assessment."""

    id: str
    name: str
    region_code: str
    las: tuple[str, ...]
    #: moderated LA -> the LA that moderates its self-assessment
    moderators: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "region_code": self.region_code,
            "las": list(self.las),
            "moderators": dict(self.moderators),
        }


@dataclass(frozen=True)
class PeerChallenge:
    """The year's groups and the indicators their packs show."""

    year: str  # e.g. 2026-27
    groups: tuple[Group, ...]
    indicators: tuple[str, ...] = DEFAULT_INDICATORS

    def covers(self, period: str) -> bool:
        """Whether `period` is a quarter of the groups' financial year."""
        p = parse_slug(period)
        return p.is_quarter and p.start_year == int(self.year[:4])

    def in_region(self, region_code: str) -> list[Group]:
        return [g for g in self.groups if g.region_code == region_code]

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)


def load(data: Path, reference, catalogue: Catalogue) -> PeerChallenge | None:
    """The dataset's peer-challenge groups, checked against its reference data (`reference`:
    ``pipeline.edges.reference.Reference``) and the catalogue; None without the file."""
    path = Path(data) / FILE
    if not path.exists():
        return None
    file = read_yaml(path)
    reader = _Reader(path, reference, catalogue)
    found = reader.read(file.node)
    if reader.problems:
        raise ConfigError(_problems_text(path, reader.problems))
    return found


def _problems_text(path: Path, problems: list[tuple[int, str]]) -> str:
    """Every problem, by line, each naming the file (the first line alone when there is one)."""
    lines = [f"{path}, line {line}: {message}" for line, message in sorted(problems)]
    if len(lines) == 1:
        return lines[0]
    return f"{path}: {len(lines)} problems with the peer-challenge groups:\n" + "\n".join(lines)


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def _pairs(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's entries by their key's text: key -> (key node, value node)."""
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _text(node: yaml.Node | None) -> str | None:
    """A scalar's text (None for a list, mapping or null)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value).strip()


class _Reader:
    """Reads the file's nodes, collecting every problem with its line."""

    def __init__(self, path: Path, reference, catalogue: Catalogue):
        self.path, self.catalogue = path, catalogue
        self.names = reference.la_names
        self.region_of = reference.region_of
        self.own = list(reference.own_las["la_code"])
        self.problems: list[tuple[int, str]] = []
        self.seen: dict[str, tuple[str, int]] = {}  # LA -> (group id, line) of its group
        self.ids: set[str] = set()
        #: codes listed in the group being read that are already refused (not told twice)
        self.refused: set[str] = set()

    def problem(self, node: yaml.Node | None, message: str) -> None:
        self.problems.append((_line(node), message))

    def la(self, code: str) -> str:
        """'ZL101 (Aldermoor)', or the code alone when unknown."""
        return f"{code} ({self.names[code]})" if code in self.names else code

    def read(self, node: yaml.Node | None) -> PeerChallenge | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "expected a mapping with year and groups (see `tartan init`)")
            return None
        top = _pairs(node)
        for key, (knode, _) in top.items():
            if key not in _TOP_KEYS:
                self.problem(knode, f"unknown key {key!r}; expected {', '.join(_TOP_KEYS)}")
        year = self.year(top.get("year"), node)
        indicators = self.indicators(top.get("indicators"))
        groups_node = top.get("groups", (node, None))[1]
        if not isinstance(groups_node, yaml.SequenceNode) or not groups_node.value:
            self.problem(
                top.get("groups", (node,))[0], "expected groups: a list of groups (id, las)"
            )
            return None
        groups = [g for item in groups_node.value if (g := self.group(item)) is not None]
        for code in self.own:
            if code not in self.seen:
                self.problem(
                    top["groups"][0],
                    f"LA {self.la(code)} is in no group; expected every LA of the dataset in "
                    "exactly one group",
                )
        return PeerChallenge(year or "", tuple(groups), indicators)

    def year(self, entry, top: yaml.Node) -> str | None:
        if entry is None:
            self.problem(top, "no year; expected the financial year of the groups, e.g. 2026-27")
            return None
        text = _text(entry[1])
        m = _YEAR.match(text or "")
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            self.problem(
                entry[1],
                f"year {text!r} is not a financial year; expected e.g. 2026-27 (the year it "
                "starts, a hyphen and the last two digits of the next)",
            )
            return None
        return text

    def indicators(self, entry) -> tuple[str, ...]:
        if entry is None:
            return tuple(i for i in DEFAULT_INDICATORS if i in self.catalogue)
        node = entry[1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, "expected indicators: a list of indicator ids")
            return ()
        out = []
        for item in node.value:
            ind = _text(item)
            if ind is None or ind not in self.catalogue:
                self.problem(
                    item,
                    f"indicator {ind!r} is not in the catalogue "
                    "(data_contracts/indicators.yaml); expected an indicator id",
                )
            elif ind in out:
                self.problem(item, f"indicator {ind} is listed twice")
            else:
                out.append(ind)
        return tuple(out)

    def group(self, node: yaml.Node) -> Group | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "expected a group: a mapping with id, name, las, moderators")
            return None
        g = _pairs(node)
        for key, (knode, _) in g.items():
            if key not in _GROUP_KEYS:
                self.problem(knode, f"unknown key {key!r}; expected {', '.join(_GROUP_KEYS)}")
        gid = _text(g.get("id", (None, None))[1])
        if gid is None or not _SLUG.match(gid):
            self.problem(
                g.get("id", (node, node))[1],
                f"group id {gid!r}: expected a short slug of lower-case letters, digits and "
                "hyphens (it names the group pack's file), e.g. north-a",
            )
            return None
        if gid in self.ids:
            self.problem(g["id"][1], f"group id {gid} is used twice; expected each id once")
            return None
        self.ids.add(gid)
        name = _text(g.get("name", (None, None))[1]) or gid
        las = self.members(gid, g.get("las"), node)
        region = self.one_region(gid, las, node)
        moderators = self.moderators(gid, las, g.get("moderators"))
        return Group(gid, name, region, tuple(c for c, _ in las), moderators)

    def members(self, gid: str, entry, group: yaml.Node) -> list[tuple[str, yaml.Node]]:
        """The group's known own LAs, each with its node; its other codes are problems."""
        node = entry[1] if entry else None
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node or group, f"group {gid}: expected las: a list of LA codes")
            return []
        if not SMALLEST <= len(node.value) <= LARGEST:
            self.problem(
                node,
                f"group {gid} has {len(node.value)} LA{'' if len(node.value) == 1 else 's'} "
                f"({', '.join(_text(i) or '?' for i in node.value)}); expected {SMALLEST} to "
                f"{LARGEST}",
            )
        out = []
        for item in node.value:
            code = _text(item) or ""
            self.refused.add(code)
            if code not in self.names:
                self.problem(
                    item, f"group {gid}: LA {code!r} is not in reference/local_authorities.csv"
                )
            elif code not in self.own:
                self.problem(
                    item,
                    f"group {gid}: LA {self.la(code)} is not one of the dataset's own LAs (it "
                    "sends no returns); expected the dataset's LAs only",
                )
            elif code in self.seen:
                other, line = self.seen[code]
                where = "twice in this group" if other == gid else f"also in group {other}"
                self.problem(
                    item,
                    f"LA {self.la(code)} is {where} (line {line}); expected every LA in "
                    "exactly one group",
                )
            else:
                self.seen[code] = (gid, _line(item))
                self.refused.discard(code)
                out.append((code, item))
        return out

    def one_region(self, gid: str, las: list[tuple[str, yaml.Node]], group: yaml.Node) -> str:
        """The group's region; LAs of several regions are a problem (a regional report links
        the packs of its region's groups)."""
        regions = sorted({self.region_of[c] for c, _ in las})
        if len(regions) > 1:
            first = self.region_of[las[0][0]]
            for code, item in las:
                if self.region_of[code] != first:
                    self.problem(
                        item,
                        f"group {gid}: LA {self.la(code)} is in region {self.region_of[code]}, "
                        f"the group's first LA in {first}; expected a group's LAs all in one "
                        "region",
                    )
        return regions[0] if regions else ""

    def moderators(self, gid: str, las: list[tuple[str, yaml.Node]], entry) -> dict[str, str]:
        if entry is None:
            return {}
        node = entry[1]
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"group {gid}: expected moderators: a mapping LA: moderating LA")
            return {}
        members = {c for c, _ in las}
        out = {}
        for knode, vnode in node.value:
            la, mod = _text(knode) or "", _text(vnode) or ""
            if la in self.refused:  # listed in a group, and already told why it cannot be
                continue
            if la not in members:
                self.problem(
                    knode,
                    f"group {gid}: moderators names LA {self.la(la)}, which is not one of the "
                    "group's LAs; expected a moderated LA of this group",
                )
            elif mod not in self.names:
                self.problem(
                    vnode,
                    f"group {gid}: LA {self.la(la)}'s moderator {mod!r} is not in "
                    "reference/local_authorities.csv; expected a known LA's code",
                )
            elif mod == la:
                self.problem(
                    vnode, f"group {gid}: LA {self.la(la)} moderates itself; expected another LA"
                )
            elif mod in members:
                self.problem(
                    vnode,
                    f"group {gid}: LA {self.la(la)} is moderated by {self.la(mod)}, an LA of its "
                    "own group; expected an LA from outside the group",
                )
            else:
                out[la] = mod
        return out
