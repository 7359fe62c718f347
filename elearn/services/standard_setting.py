"""Standard setting: a certifier runs a modified-Angoff study of an exam; invited panellists rate.

Who does what (docs/decisions/0009-standard-setting.md): a certifier (or an admin) opens a study,
choosing its panellists among the holders of the panellist role, opens round 2 and closes it; the
panellists rate. Nobody rates in a study they run: the one who runs it sees every rating while
round 1 is still meant to be independent. The computations are in
:mod:`elearn.domain.standard_setting`; this module reads and writes the rows around them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from elearn.domain.content import ExamSpec, ItemSpec
from elearn.domain.errors import N_, Conflict, InvalidAnswer, NotFound
from elearn.domain.itemtypes import (
    PresentedItem,
    describe_answer,
    full_key_response,
    option_ids,
    present,
    prompt_ids,
)
from elearn.domain.numbers import whole_number
from elearn.domain.standard_setting import (
    RATINGS_FOLDER,
    Spread,
    StudyInfo,
    StudyResult,
    final_ratings,
    item_ratings,
    observed_facility,
    parse_rating,
    spread,
    study_result,
)
from elearn.models import (
    AttemptSlot,
    Exam,
    ExamAttempt,
    ExamVersion,
    Item,
    ItemPanelRating,
    ItemVersion,
    Study,
    StudyItem,
    StudyPanellist,
    StudyRating,
    User,
    UserRole,
)
from elearn.services import audit, reports

PANELLIST = "panellist"
MIN_PANEL = 2
NOT_A_RATING = N_("A rating is a probability from 0 to 1 in steps of 0.05.")


# --- reading a study --------------------------------------------------------------------------


def _study(session: Session, study_id: int) -> Study:
    study = session.get(Study, study_id)
    if study is None:
        raise NotFound(N_("There is no such study."))
    return study


def _spec(session: Session, study: Study) -> ExamSpec:
    version = session.get(ExamVersion, study.exam_version_id)
    assert version is not None
    return ExamSpec.model_validate(version.spec)


def _panel(session: Session, study_id: int) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(StudyPanellist, col(StudyPanellist.user_id) == col(User.id))
            .where(StudyPanellist.study_id == study_id)
            .order_by(col(User.name), col(User.id))
        )
    )


def _study_items(session: Session, study_id: int) -> list[tuple[StudyItem, Item]]:
    return list(
        session.exec(
            select(StudyItem, Item)
            .join(Item, col(Item.id) == col(StudyItem.item_id))
            .where(StudyItem.study_id == study_id)
            .order_by(col(StudyItem.position))
        ).all()
    )


def _ratings(session: Session, study_id: int) -> list[StudyRating]:
    return list(session.exec(select(StudyRating).where(StudyRating.study_id == study_id)))


def _status(study: Study) -> str:
    """'round-1', 'round-2' or 'closed'."""
    return "closed" if study.closed_at is not None else f"round-{study.round}"


@dataclass(frozen=True)
class StudyRow:
    study: Study
    runner: str
    panellists: int
    items: int


def studies(*, session: Session) -> list[StudyRow]:
    """Every study, newest first, with its size: the certifier's list."""
    rows = session.exec(
        select(Study, User.name)
        .join(User, col(User.id) == col(Study.opened_by_id))
        .order_by(col(Study.opened_at).desc(), col(Study.id).desc())
    ).all()
    panel = dict(
        session.exec(
            select(StudyPanellist.study_id, func.count()).group_by(col(StudyPanellist.study_id))
        ).all()
    )
    items = dict(
        session.exec(
            select(StudyItem.study_id, func.count()).group_by(col(StudyItem.study_id))
        ).all()
    )
    return [
        StudyRow(study, name, panel.get(study.id or 0, 0), items.get(study.id or 0, 0))
        for study, name in rows
    ]


def panellist_candidates(*, session: Session) -> list[User]:
    """Active users holding the panellist role: whom a study may invite."""
    return list(
        session.exec(
            select(User)
            .join(UserRole, col(UserRole.user_id) == col(User.id))
            .where(UserRole.role == PANELLIST, col(User.active).is_(True))
            .order_by(col(User.name), col(User.id))
        )
    )


# --- running a study (the certifier) ----------------------------------------------------------


def open_study(
    *,
    session: Session,
    exam_id: str,
    panellist_ids: Sequence[int],
    runner_id: int,
    note: str,
    now: datetime,
) -> Study:
    """Open a study of an exam's pool (its drawable items now) with the invited panellists."""
    exam = session.get(Exam, exam_id)
    if exam is None or not exam.active or exam.current_version_id is None:
        raise NotFound(N_("There is no such exam."))
    chosen = set(panellist_ids)
    if runner_id in chosen:
        raise Conflict(N_("You run this study: you cannot also rate in it."))
    allowed = {u.id for u in panellist_candidates(session=session)}
    if not chosen <= allowed:
        raise Conflict(N_("Only users with the panellist role can be invited."))
    if len(chosen) < MIN_PANEL:
        raise Conflict(N_("Invite at least two panellists."))
    version = session.get(ExamVersion, exam.current_version_id)
    assert version is not None
    spec = ExamSpec.model_validate(version.spec)
    order = [entry.topic for entry in spec.blueprint]
    pool = session.exec(
        select(Item).where(
            Item.bank_id == exam.bank_id,
            col(Item.active).is_(True),
            col(Item.retired_at).is_(None),
            col(Item.current_version_id).is_not(None),
            col(Item.topic).in_(order),
            Item.pool == (spec.pool or ""),
        )
    ).all()
    if not pool:
        raise Conflict(N_("The exam has no items to rate."))
    study = Study(
        exam_id=exam_id,
        exam_version_id=version.id or 0,
        opened_by_id=runner_id,
        opened_at=now,
        note=note.strip()[:500],
    )
    session.add(study)
    session.flush()
    assert study.id is not None
    ordered = sorted(pool, key=lambda i: (order.index(i.topic), i.key))
    for position, item in enumerate(ordered, start=1):
        session.add(
            StudyItem(
                study_id=study.id,
                item_id=item.id or 0,
                item_version_id=item.current_version_id or 0,
                topic=item.topic,
                position=position,
            )
        )
    for user_id in sorted(chosen):
        session.add(StudyPanellist(study_id=study.id, user_id=user_id, invited_at=now))
    audit.record(
        session=session,
        action="study.opened",
        subject=f"study:{study.id}",
        now=now,
        actor_id=runner_id,
        data={"exam": exam_id, "panellists": sorted(chosen), "items": len(ordered)},
    )
    session.flush()
    return study


@dataclass(frozen=True)
class PanelMember:
    user: User
    rated: int  # items with a rating of theirs (round 1 or 2)
    revised: int  # ratings changed in round 2


@dataclass(frozen=True)
class StudyDetail:
    study: Study
    spec: ExamSpec
    runner: User
    panel: list[PanelMember]
    items: int
    status: str
    ratings_path: str  # where its ratings file goes in the content tree


def study_detail(*, session: Session, study_id: int) -> StudyDetail:
    """A study as its certifier follows it: the panel and how far each has come."""
    study = _study(session, study_id)
    runner = session.get(User, study.opened_by_id)
    assert runner is not None
    rated: dict[int, set[int]] = defaultdict(set)
    revised: dict[int, int] = defaultdict(int)
    for user_id, round_, item_id in session.exec(
        select(StudyRating.user_id, StudyRating.round, StudyRating.item_id).where(
            StudyRating.study_id == study_id
        )
    ).all():
        rated[user_id].add(item_id)
        revised[user_id] += round_ == 2
    items = session.exec(
        select(func.count()).select_from(StudyItem).where(StudyItem.study_id == study_id)
    ).one()
    panel = [
        PanelMember(u, len(rated[u.id or 0]), revised[u.id or 0]) for u in _panel(session, study_id)
    ]
    return StudyDetail(
        study,
        _spec(session, study),
        runner,
        panel,
        items,
        _status(study),
        _ratings_path(session, study),
    )


def open_round_two(*, session: Session, study_id: int, actor_id: int, now: datetime) -> Study:
    """End round 1: panellists now see the panel's spread and may revise."""
    study = _study(session, study_id)
    if study.closed_at is not None:
        raise Conflict(N_("This study is closed."))
    if study.round != 1:
        raise Conflict(N_("Round 2 is open already."))
    rated = session.exec(
        select(func.count())
        .select_from(StudyRating)
        .where(StudyRating.study_id == study_id, StudyRating.round == 1)
    ).one()
    if not rated:
        raise Conflict(N_("Nobody has rated yet: round 1 is not done."))
    study.round, study.round_two_at = 2, now
    audit.record(
        session=session,
        action="study.round-2",
        subject=f"study:{study_id}",
        now=now,
        actor_id=actor_id,
        data={"round_one_ratings": rated},
    )
    session.flush()
    return study


def close_study(*, session: Session, study_id: int, actor_id: int, now: datetime) -> Study:
    """Close the study after the round that is open: its ratings are final."""
    study = _study(session, study_id)
    if study.closed_at is not None:
        raise Conflict(N_("This study is closed."))
    study.closed_at = now
    result = _result(session, study)
    audit.record(
        session=session,
        action="study.closed",
        subject=f"study:{study_id}",
        now=now,
        actor_id=actor_id,
        data={
            "exam": study.exam_id,
            "rounds": study.round,
            "recommended_cut": None if result.cut is None else round(result.cut, 2),
            "standard_error": None
            if result.standard_error is None
            else round(result.standard_error, 2),
        },
    )
    session.flush()
    return study


# --- rating (the panellist) -------------------------------------------------------------------


def _invited(session: Session, study_id: int, user_id: int) -> Study:
    """The study, if the user was invited to it; else "not found" (no hint that it exists)."""
    study = session.get(Study, study_id)
    if study is None or session.get(StudyPanellist, (study_id, user_id)) is None:
        raise NotFound(N_("There is no such study."))
    return study


@dataclass(frozen=True)
class InvitedStudy:
    study: Study
    items: int
    rated: int  # items this panellist has rated (in either round)
    status: str


def invited_studies(*, session: Session, user_id: int) -> list[InvitedStudy]:
    """The studies a panellist was invited to, newest first; they see no other."""
    invited = session.exec(
        select(Study)
        .join(StudyPanellist, col(StudyPanellist.study_id) == col(Study.id))
        .where(StudyPanellist.user_id == user_id)
        .order_by(col(Study.opened_at).desc(), col(Study.id).desc())
    ).all()
    ids = [s.id for s in invited]
    items = dict(
        session.exec(
            select(StudyItem.study_id, func.count())
            .where(col(StudyItem.study_id).in_(ids))
            .group_by(col(StudyItem.study_id))
        ).all()
    )
    rated: dict[int, set[int]] = defaultdict(set)
    for study_id, item_id in session.exec(
        select(StudyRating.study_id, StudyRating.item_id).where(
            col(StudyRating.study_id).in_(ids), StudyRating.user_id == user_id
        )
    ).all():
        rated[study_id].add(item_id)
    return [
        InvitedStudy(s, items.get(s.id or 0, 0), len(rated[s.id or 0]), _status(s)) for s in invited
    ]


@dataclass(frozen=True)
class TopicProgress:
    topic: str
    items: int
    rated: int


@dataclass(frozen=True)
class PanelOverview:
    study: Study
    spec: ExamSpec
    topics: list[TopicProgress]
    status: str


def panel_overview(*, session: Session, study_id: int, user_id: int) -> PanelOverview:
    """A panellist's study: its topics and how many items of each they have rated this round."""
    study = _invited(session, study_id, user_id)
    spec = _spec(session, study)
    items = session.exec(
        select(StudyItem.topic, StudyItem.item_id).where(StudyItem.study_id == study_id)
    ).all()
    own = set(
        session.exec(
            select(StudyRating.item_id).where(
                StudyRating.study_id == study_id, StudyRating.user_id == user_id
            )
        )
    )
    topics = []
    for entry in spec.blueprint:
        of_topic = [item_id for topic, item_id in items if topic == entry.topic]
        if of_topic:
            topics.append(
                TopicProgress(entry.topic, len(of_topic), sum(1 for i in of_topic if i in own))
            )
    return PanelOverview(study, spec, topics, _status(study))


@dataclass(frozen=True)
class SheetRow:
    item_id: int
    item_key: str
    shown: PresentedItem
    key: tuple[str, ...]
    rating: float | None  # this panellist's rating in the round open (round 2: else round 1's)
    revised: bool  # round 2: a round-2 rating of their own
    spread: Spread | None  # round 2: the panel's round-1 ratings, without names
    facility: float | None  # round 2: mean mark, where enough candidates answered
    responses: int


@dataclass(frozen=True)
class RatingSheet:
    study: Study
    topic: str
    rows: list[SheetRow]
    status: str


def _facilities(session: Session, version_ids: Sequence[int]) -> dict[int, tuple[int, float]]:
    """Scored responses to each item version in submitted attempts: how many, their mean."""
    return {
        version_id: (n, float(mean))
        for version_id, n, mean in session.exec(
            select(AttemptSlot.item_version_id, func.count(), func.avg(AttemptSlot.mark))
            .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptSlot.attempt_id))
            .where(
                col(AttemptSlot.item_version_id).in_(version_ids),
                col(AttemptSlot.mark).is_not(None),
                col(ExamAttempt.submitted_at).is_not(None),
            )
            .group_by(col(AttemptSlot.item_version_id))
        ).all()
    }


def rating_sheet(
    *, session: Session, study_id: int, user_id: int, topic: str, lang: str
) -> RatingSheet:
    """One topic's items with the key, for a panellist to rate; in round 2 with the spread."""
    study = _invited(session, study_id, user_id)
    rows = session.exec(
        select(StudyItem, Item.key, ItemVersion.spec)
        .join(Item, col(Item.id) == col(StudyItem.item_id))
        .join(ItemVersion, col(ItemVersion.id) == col(StudyItem.item_version_id))
        .where(StudyItem.study_id == study_id, StudyItem.topic == topic)
        .order_by(col(StudyItem.position))
    ).all()
    if not rows:
        raise NotFound(N_("This study has no such topic."))
    ids = [s.item_id for s, _k, _v in rows]
    ratings = session.exec(
        select(StudyRating).where(
            StudyRating.study_id == study_id, col(StudyRating.item_id).in_(ids)
        )
    ).all()
    own = {(r.round, r.item_id): r.rating for r in ratings if r.user_id == user_id}
    round_two = study.round == 2
    panel: dict[int, list[float]] = defaultdict(list)
    for r in ratings:
        if r.round == 1:
            panel[r.item_id].append(r.rating)
    facilities = (
        _facilities(session, [s.item_version_id for s, _k, _v in rows]) if round_two else {}
    )
    sheet = []
    for item, key, raw in rows:
        spec = ItemSpec.model_validate(raw)
        mine = own.get((study.round, item.item_id))
        responses, mean = facilities.get(item.item_version_id, (0, None))
        sheet.append(
            SheetRow(
                item_id=item.item_id,
                item_key=key,
                # Shown answered right, with the key in words: what a panellist judges.
                shown=present(
                    spec, lang, option_ids(spec), prompt_ids(spec), full_key_response(spec, lang)
                ),
                key=describe_answer(spec, lang),
                rating=mine if mine is not None or not round_two else own.get((1, item.item_id)),
                revised=round_two and mine is not None,
                spread=spread(panel[item.item_id]) if round_two else None,
                facility=observed_facility(responses, mean),
                responses=responses,
            )
        )
    return RatingSheet(study, topic, sheet, _status(study))


def save_ratings(
    *,
    session: Session,
    study_id: int,
    user_id: int,
    values: Mapping[str, str],
    now: datetime,
) -> int:
    """Save a panellist's ratings (by item id) for the round open now; '' takes one back.

    Every item must be the study's and every value a rating, or nothing is saved. In round 2 a
    rating equal to the panellist's round-1 one is no revision (and '' keeps round 1's). Saving
    the same values again changes nothing. Returns how many ratings changed.
    """
    study = _invited(session, study_id, user_id)
    if study.closed_at is not None:
        raise Conflict(N_("This study is closed: its ratings are final."))
    known = set(session.exec(select(StudyItem.item_id).where(StudyItem.study_id == study_id)).all())
    parsed: dict[int, float | None] = {}
    for name, text in values.items():
        item_id = whole_number(name)
        if item_id is None or item_id not in known:
            raise InvalidAnswer(N_("That is not an item of this study."))
        try:
            parsed[item_id] = parse_rating(text)
        except ValueError:
            raise InvalidAnswer(NOT_A_RATING) from None
    mine = session.exec(
        select(StudyRating).where(
            StudyRating.study_id == study_id,
            StudyRating.user_id == user_id,
            col(StudyRating.item_id).in_(list(parsed)),
        )
    ).all()
    existing = {r.item_id: r for r in mine if r.round == study.round}
    earlier = {r.item_id: r.rating for r in mine if r.round < study.round}
    changed = 0
    for item_id, wanted in parsed.items():
        value = None if wanted == earlier.get(item_id) else wanted
        row = existing.get(item_id)
        if value is None:
            if row is not None:
                session.delete(row)
                changed += 1
        elif row is None:
            session.add(
                StudyRating(
                    study_id=study_id,
                    user_id=user_id,
                    round=study.round,
                    item_id=item_id,
                    rating=value,
                    rated_at=now,
                )
            )
            changed += 1
        elif row.rating != value:
            row.rating, row.rated_at = value, now
            changed += 1
    session.flush()
    return changed


# --- results ------------------------------------------------------------------------------------


def _result(session: Session, study: Study) -> StudyResult:
    assert study.id is not None
    items = _study_items(session, study.id)
    ratings = _ratings(session, study.id)
    by_round: dict[int, dict[tuple[str, str], float]] = {1: {}, 2: {}}
    keys = {si.item_id: item.key for si, item in items}
    for r in ratings:
        by_round[r.round][(str(r.user_id), keys[r.item_id])] = r.rating
    spec = _spec(session, study)
    rated = dict(
        session.exec(  # type: ignore[call-overload]
            select(ItemVersion.id, ItemVersion.spec).where(
                col(ItemVersion.id).in_([si.item_version_id for si, _ in items])
            )
        ).all()
    )
    return study_result(
        blueprint=spec.blueprint,
        rules=spec.pass_rules,
        items=[(item.key, si.topic) for si, item in items],
        ratings=final_ratings(by_round[1], by_round[2]),
        panellists=[str(u.id) for u in _panel(session, study.id)],
        marks={item.key: float(rated[si.item_version_id].get("mark", 1.0)) for si, item in items},
    )


@dataclass(frozen=True)
class ItemLine:
    """One item of the results: its ratings by panellist and round, and what else is known."""

    item_key: str
    topic: str
    round_one: dict[int, float]  # by panellist id
    final: dict[int, float]
    author: float | None  # the item's own estimate (its file's angoff)
    responses: int
    facility: float | None


@dataclass(frozen=True)
class StudyResults:
    study: Study
    spec: ExamSpec
    runner: User
    panel: list[User]
    result: StudyResult
    lines: list[ItemLine]
    status: str

    def name(self, panellist: str) -> str:
        """A panellist's name by the id the domain result names them with."""
        return next((u.name for u in self.panel if str(u.id) == panellist), panellist)


def study_results(*, session: Session, study_id: int) -> StudyResults:
    """The results of a study (provisional while it is open), with every rating by name."""
    study = _study(session, study_id)
    items = _study_items(session, study_id)
    ratings = _ratings(session, study_id)
    round_one: dict[int, dict[int, float]] = defaultdict(dict)
    round_two: dict[int, dict[int, float]] = defaultdict(dict)
    for r in ratings:
        (round_one if r.round == 1 else round_two)[r.item_id][r.user_id] = r.rating
    versions = {
        v.id: ItemSpec.model_validate(v.spec)
        for v in session.exec(
            select(ItemVersion).where(
                col(ItemVersion.id).in_([si.item_version_id for si, _ in items])
            )
        )
    }
    facilities = _facilities(session, [si.item_version_id for si, _ in items])
    lines = []
    for si, item in items:
        responses, mean = facilities.get(si.item_version_id, (0, None))
        lines.append(
            ItemLine(
                item_key=item.key,
                topic=si.topic,
                round_one=dict(round_one[si.item_id]),
                final={**round_one[si.item_id], **round_two[si.item_id]},
                author=versions[si.item_version_id].angoff,
                responses=responses,
                facility=observed_facility(responses, mean),
            )
        )
    runner = session.get(User, study.opened_by_id)
    assert runner is not None
    return StudyResults(
        study,
        _spec(session, study),
        runner,
        _panel(session, study_id),
        _result(session, study),
        lines,
        _status(study),
    )


def _figure(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def results_csv(*, session: Session, study_id: int) -> bytes:
    """Every rating by item, panellist and round, then the results, as a spreadsheet reads it."""
    results = study_results(session=session, study_id=study_id)
    panel = results.panel
    header = [
        "item",
        "topic",
        *(f"round 1: {u.name}" for u in panel),
        *(f"final: {u.name}" for u in panel),
        "n",
        "mean",
        "sd",
        "author_estimate",
        "responses",
        "observed_facility",
    ]
    rows: list[list[object]] = []
    for line, item in zip(results.lines, results.result.items, strict=True):
        rows.append(
            [
                line.item_key,
                line.topic,
                *(_figure(line.round_one.get(u.id or 0), 2) for u in panel),
                *(_figure(line.final.get(u.id or 0), 2) for u in panel),
                item.n,
                _figure(item.mean),
                _figure(item.sd),
                _figure(line.author, 2),
                line.responses,
                _figure(line.facility),
            ]
        )
    result = results.result
    rows.append([])
    rows += [
        ["study", str(results.study.id)],
        ["exam", results.study.exam_id],
        ["status", results.status],
        ["rounds", str(results.study.round)],
        ["panellists", str(len(panel))],
        ["recommended_cut_percent", _figure(result.cut, 2)],
        ["standard_error_percent_points", _figure(result.standard_error, 2)],
        ["sd_of_panellists_cuts", _figure(result.cut_sd, 2)],
        ["icc_c1", _figure(result.icc, 3)],
        ["icc_items", str(result.icc_items)],
        ["exam_cut_in_file_percent", f"{results.spec.pass_rules.overall_percent:g}"],
    ]
    rows += [[f"cut of {results.name(p.panellist)}", _figure(p.cut, 2)] for p in result.panellists]
    for t in result.topics:
        rule = "" if t.required is None else f"rule {t.required:g}"
        rows.append([f"topic {t.topic} mean percent", _figure(t.percent, 2), t.drawn, rule])
    return reports.to_csv(header=header, rows=rows)


def _study_key(study: Study) -> str:
    """The study's id in the content tree: its ratings file is ``<bank>/ratings/<key>.yaml``."""
    return f"{study.exam_id}-study-{study.id}"


def _ratings_path(session: Session, study: Study) -> str:
    exam = session.get(Exam, study.exam_id)
    assert exam is not None
    return f"question_banks/{exam.bank_id}/{RATINGS_FOLDER}/{_study_key(study)}.yaml"


def ratings_file(*, session: Session, study_id: int) -> tuple[str, str]:
    """The ratings file of a closed study: its path in the content tree and its text."""
    from elearn.content.ratings import ratings_yaml  # YAML only for the download

    study = _study(session, study_id)
    if study.closed_at is None:
        raise Conflict(N_("The ratings file is made when the study is closed."))
    result = _result(session, study)
    if not item_ratings(result):
        raise Conflict(N_("No item has a rating: there is no ratings file to make."))
    info = StudyInfo(
        id=_study_key(study),
        exam=study.exam_id,
        closed=study.closed_at.date(),
        panellists=len(_panel(session, study_id)),
        rounds=study.round,
    )
    return _ratings_path(session, study), ratings_yaml(info, item_ratings(result))


# --- the exam's standard, beside its statistics -------------------------------------------------


@dataclass(frozen=True)
class RatingInUse:
    """The rating the draw uses for an item: the panel's, or else the author's estimate."""

    item_key: str
    topic: str
    rating: float | None
    panel: ItemPanelRating | None  # None: an author estimate (or no rating at all)


@dataclass(frozen=True)
class ExamStandard:
    cut: float  # the exam's pass_rules.overall_percent, as its file sets it
    topic_rules: dict[str, float]
    latest: StudyResults | None  # the newest closed study of the exam
    ratings: list[RatingInUse]

    @property
    def author_estimates(self) -> int:
        return sum(1 for r in self.ratings if r.panel is None and r.rating is not None)


def exam_standard(*, session: Session, exam_id: str) -> ExamStandard:
    """The exam's cut as set, the newest closed study's recommendation, and the ratings in use."""
    exam = session.get(Exam, exam_id)
    if exam is None or exam.current_version_id is None:
        raise NotFound(N_("There is no such exam."))
    version = session.get(ExamVersion, exam.current_version_id)
    assert version is not None
    spec = ExamSpec.model_validate(version.spec)
    latest = session.exec(
        select(Study.id)
        .where(Study.exam_id == exam_id, col(Study.closed_at).is_not(None))
        .order_by(col(Study.closed_at).desc(), col(Study.id).desc())
    ).first()
    topics = [entry.topic for entry in spec.blueprint]
    rows = session.exec(
        select(Item, ItemVersion.spec, ItemPanelRating)
        .join(ItemVersion, col(ItemVersion.id) == col(Item.current_version_id))
        .join(ItemPanelRating, col(ItemPanelRating.item_id) == col(Item.id), isouter=True)
        .where(
            Item.bank_id == exam.bank_id,
            col(Item.active).is_(True),
            col(Item.retired_at).is_(None),
            col(Item.topic).in_(topics),
            Item.pool == (spec.pool or ""),
        )
    ).all()
    in_use = sorted(
        (
            RatingInUse(
                item.key,
                item.topic,
                panel.rating if panel is not None else raw.get("angoff"),
                panel,
            )
            for item, raw, panel in rows
        ),
        key=lambda r: (topics.index(r.topic), r.item_key),
    )
    return ExamStandard(
        cut=spec.pass_rules.overall_percent,
        topic_rules=dict(spec.pass_rules.topics),
        latest=None if latest is None else study_results(session=session, study_id=latest),
        ratings=in_use,
    )
