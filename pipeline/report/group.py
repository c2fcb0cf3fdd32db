"""The peer-challenge group pack: a group's LAs side by side on the headline indicators, each
one's strengths, areas for development and questions exactly as its evidence pack states them,
who moderates whom, prompts for the moderators and printable space for their notes."""

from __future__ import annotations

import pandas as pd

from pipeline.core.vocabulary import NOT_ACCEPTED, OK, STATUS_SYMBOLS
from pipeline.core.wording import listed
from pipeline.html import group as markup
from pipeline.html.sections import BAND_RULE
from pipeline.report.common import HTML, Report

#: an LA's return for the period, after its name
RETURN_WORDS = {"accepted": "", NOT_ACCEPTED: " (return not accepted)", "missing": " (no return)"}


class PeerChallengePack(Report):
    """One group and period: the data its group pack shows."""

    CSVS = ("figures", "areas")
    SECTIONS = ("headline", "side_by_side", "moderation", "evidence", "prompts", "notes", "method")
    figures: pd.DataFrame  # the group's LAs' rows for the period, headline indicators only
    areas: pd.DataFrame  # the region and England for the period, likewise

    @property
    def group(self) -> dict:
        return self.context["group"]

    @property
    def las(self) -> list[dict]:
        return self.context["las"]

    @property
    def england(self) -> str:
        return self.context["england_label"]

    def _why_no_figures(self, la: dict) -> str:
        if la["return_status"] == NOT_ACCEPTED:
            return (
                f"{la['name']}'s return for {self.period_label} was not accepted by "
                "validation, so there are no figures, evidence or prompts for it. Figures from "
                "earlier quarters are not used in their place."
            )
        return f"No return was received from {la['name']} for {self.period_label}."

    # ------------------------------------------------------------------ sections
    def headline(self) -> HTML:
        g, las = self.group, self.las
        names = [la["name"] for la in las]
        lede = (
            f"{g['name']}, {self.region_name}: {', '.join(names[:-1])} and {names[-1]}, side "
            f"by side for {self.period_label}, with each one's evidence and prompts for its "
            f"moderator, for the peer-challenge year {g['year']}."
        )
        points = [
            f"{la['name']}: {_count(len(la['strengths']), 'strength')}, "
            f"{_count(len(la['development']), 'area')} for development and "
            f"{_count(len(la['questions']), 'question')} for peer challenge."
            if la["return_status"] == "accepted"
            else self._why_no_figures(la)
            for la in las
        ]
        members = [markup.Member(la["name"], la["pack"], _return_words(la)) for la in las]
        title = f"{g['name']}: peer-challenge group pack, {self.period_label}"
        return HTML(markup.headline(title, lede, points, members))

    def side_by_side(self) -> HTML:
        now = self.figures[self.figures["period"].eq(self.period)]
        mine = {(r["la_code"], r["indicator_id"]): r for r in now.to_dict("records")}
        areas = self.areas[self.areas["period"].eq(self.period)]
        area = {(r["area_code"], r["indicator_id"]): r for r in areas.to_dict("records")}
        region = self.context["region"]["code"]
        rows = []
        for ind_id in self.context["indicators"]:
            ind = self.catalogue[ind_id]
            cells, sns = [], []
            for la in self.las:
                r = mine.get((la["code"], ind_id))
                cells.append(_cell(ind, r, la["return_status"]))
                sn = r.get("sn_mean") if r is not None else None
                sns.append(ind.format(sn) if r is not None and pd.notna(sn) else "")
            rows.append(
                markup.Row(
                    ind.label,
                    cells,
                    sns,
                    _area(ind, area.get((region, ind_id))),
                    _area(ind, area.get(("england", ind_id))),
                )
            )
        caption = (
            f"{self.group['name']}, {self.period_label}: each LA's figure and quartile band (A "
            "best to D worst; the letter is in every coloured cell), its statistical "
            f"neighbours' mean, the region and {self.england}"
        )
        marked = [la["name"] for la in self.las if la.get("provisional")]
        names = [la["name"] + (" (provisional)" if la["name"] in marked else "") for la in self.las]
        note = (
            f"Provisional: {', '.join(marked)} marked {'its' if len(marked) == 1 else 'their'} "
            f"return for {self.period_label} provisional, so these figures may be revised."
            if marked
            else ""
        )
        table = markup.side_by_side(caption, names, rows, self.england) + markup.band_key()
        return HTML(table + markup.paragraph(note))

    def moderation(self) -> HTML:
        rows = []
        for la in self.las:
            mod = la["moderator"]
            moderates = "; ".join(f"{m['name']} ({m['group']})" for m in la["moderates"])
            rows.append(
                [
                    la["name"],
                    mod["name"] if mod else "not named in peer_challenge.yaml",
                    moderates or "none named",
                ]
            )
        g = self.group
        caption = f"Who moderates whom: {g['name']}, peer-challenge year {g['year']}"
        return HTML(markup.moderation(rows, caption))

    def evidence(self) -> HTML:
        out = []
        for la in self.las:
            if la["return_status"] != "accepted":
                out.append(markup.no_figures(la["name"], self._why_no_figures(la)))
                continue
            groups = [
                (
                    f"Strengths ({len(la['strengths'])})",
                    [s["text"] for s in la["strengths"]],
                    "No indicator meets the rules for a strength.",
                ),
                (
                    f"Areas for development ({len(la['development'])})",
                    [s["text"] for s in la["development"]],
                    "No indicator meets the rules for an area for development.",
                ),
                (
                    f"Questions for peer challenge ({len(la['questions'])})",
                    [s["text"] for s in la["questions"]],
                    "No area for development, so no question was generated.",
                ),
            ]
            out.append(markup.evidence(la["name"], la["pack"], groups))
        return HTML("".join(out))

    def prompts(self) -> HTML:
        out = []
        for la in self.las:
            mod = la["moderator"]["name"] if la["moderator"] else None
            if la["return_status"] != "accepted":
                out.append(markup.no_figures(la["name"], self._why_no_figures(la)))
                continue
            out.append(markup.prompts(la["name"], mod, self._prompts(la)))
        return HTML("".join(out))

    def _prompts(self, la: dict) -> list[str]:
        """What a moderator might ask of one LA, from its evidence: the practice behind its
        strengths, its plan for each area for development, what it could take from the group's
        strengths, and how it knows its self-assessment is right."""
        name, out = la["name"], []
        if la["strengths"]:
            out.append(
                f"Strengths: {listed(self._quoted(s) for s in la['strengths'])}. Ask {name} for "
                "the evidence behind them beyond the figures (audits, children's and families' "
                "views), what makes them work, and which of them the group could learn from."
            )
        if la["development"]:
            out.append(
                f"Areas for development: {listed(self._quoted(s) for s in la['development'])}. "
                f"Test {name}'s plan for each: what is being done, by whom and by when, and "
                "which figure will show it is working."
            )
        out += self._learning(la)
        out.append(
            f"Does {name}'s own self-assessment name these strengths and areas for development? "
            "Where it differs from the figures, ask what it knows that they do not show."
        )
        return out

    def _learning(self, la: dict) -> list[str]:
        """An area for development of one LA that is another's strength in the group: what the
        peer-challenge day is for."""
        out = []
        for s in la["development"]:
            ind = s["indicator_id"]
            peers = [
                o["name"]
                for o in self.las
                if o is not la and any(t["indicator_id"] == ind for t in o.get("strengths", []))
            ]
            if peers:
                out.append(
                    f"{self.catalogue[ind].label} is an area for development for {la['name']} "
                    f"and a strength for {listed(peers)}: ask what {la['name']} could take from "
                    f"{'its' if len(peers) == 1 else 'their'} practice on the day."
                )
        return out

    def _quoted(self, s: dict) -> str:
        """'<label> (<value>, band <B>)': the figure a statement is about."""
        ind = self.catalogue[s["indicator_id"]]
        f = s.get("figures", {})
        value = f.get("value")
        shown = ind.format(value) if isinstance(value, int | float) else ""
        band = f", band {f['band']}" if f.get("band") else ""
        return f"{ind.label} ({shown}{band})" if shown else ind.label

    def notes(self) -> HTML:
        return HTML(
            "".join(
                markup.notes_box(la["name"], la["moderator"]["name"] if la["moderator"] else None)
                for la in self.las
            )
        )

    def method(self) -> HTML:
        points = [
            f"The groups and who moderates whom: the dataset's peer_challenge.yaml, for the "
            f"peer-challenge year {self.group['year']}.",
            "The indicators side by side: the headline indicators that file names, or "
            "Tartan's default set across the front door, child protection, children in care, "
            "care leavers and the workforce.",
            "Each LA's strengths, areas for development and questions are its evidence pack's, "
            "word for word, found by the rules that pack sets out under How the figures are "
            "made.",
            BAND_RULE,
            "The SN mean is the mean of each LA's statistical neighbours' figures; the region's "
            f"and {self.england}'s figures are those of the regional report.",
            "Prompts for the moderator are made from each LA's evidence by fixed rules: one per "
            "strength, one per area for development, and one on the self-assessment as a whole.",
        ]
        if self.context.get("disclosure"):
            points.append(f"Disclosure control: {self.context['disclosure']}")
        points.append(f"Contract: {self.context['contract']}.")
        return HTML(markup.method(points))


def _return_words(la: dict) -> str:
    """After an LA's name: its return, when not accepted, or its figures, when provisional."""
    if la.get("provisional") and la["return_status"] == "accepted":
        return " (provisional figures)"
    return RETURN_WORDS.get(la["return_status"], "")


def _cell(ind, r: dict | None, status: str) -> markup.Cell:
    """An LA's figure on an indicator, as its cell shows it."""
    if status == NOT_ACCEPTED:
        return markup.Cell("", "", "return not accepted")
    if r is None:
        return markup.Cell("", "", "no figure" if status == "accepted" else "no return")
    if r["status"] == OK and pd.notna(r["value"]):
        band = r.get("band")
        return markup.Cell(ind.format(r["value"]), band if isinstance(band, str) else "")
    return markup.Cell("", "", r["status"] if r["status"] in STATUS_SYMBOLS else "no figure")


def _area(ind, r: dict | None) -> str:
    if r is None:
        return ""
    if r["status"] == OK and pd.notna(r["value"]):
        return ind.format(r["value"])
    return r["status"] if r["status"] in STATUS_SYMBOLS else ""


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
