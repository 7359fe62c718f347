"""xAPI 1.0.3 statements for what a learner does: pure builders with stable ids.

A statement's id is a UUID 5 of the site's address, the kind of event and its natural key (the
attempt, the learner and course, …): the same event always gets the same id, so that a
statement sent again after a lost reply is one the LRS already has, never a second record.

Vocabulary: ADL's verbs (``completed``, ``attempted``, ``passed``, ``failed``) and activity
types (``module``, ``course``, ``assessment``); a certificate follows the Open Badges xAPI
recipe (verb ``earned``, object type ``badge``), as the certificate is an Open Badges 3.0
credential.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

XAPI_VERSION = "1.0.3"
ADL_VERB = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITY = "http://adlnet.gov/expapi/activities/"
VERBS = {
    "completed": ADL_VERB + "completed",
    "attempted": ADL_VERB + "attempted",
    "passed": ADL_VERB + "passed",
    "failed": ADL_VERB + "failed",
    "earned": "http://specification.openbadges.org/xapi/verbs/earned.json",
}
ACTIVITY_TYPES = {
    "module": ADL_ACTIVITY + "module",
    "course": ADL_ACTIVITY + "course",
    "assessment": ADL_ACTIVITY + "assessment",
    "badge": "http://activitystrea.ms/schema/1.0/badge",
}
OPEN_BADGES_RECIPE = "http://specification.openbadges.org/xapi/recipe/base/0"
BADGE_ASSERTION = "http://specification.openbadges.org/xapi/extensions/badgeassertion.json"
PLATFORM = "elearn"

ActorMode = Literal["mbox", "account"]
Names = Mapping[Any, str]  # a language map: language tag -> text


@dataclass(frozen=True)
class Site:
    """Where the statements come from: the public address and how learners are named."""

    public_url: str
    actor: ActorMode = "mbox"

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


@dataclass(frozen=True)
class Learner:
    user_id: int
    email: str
    name: str


def statement_id(site: Site, kind: str, *key: object) -> str:
    """The one id of one event: the same site, kind and key give the same UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, site.url(f"/xapi/{kind}/" + "/".join(map(str, key)))))


def registration(site: Site, attempt_id: int) -> str:
    """The UUID that ties an attempt's statements together (``context.registration``)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, site.url(f"/attempts/{attempt_id}")))


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z`` (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(seconds: float) -> str:
    """An ISO 8601 duration as xAPI wants it: 3723.5 -> ``PT1H2M3.5S`` (0.01 s precision)."""
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs = f"{rest // 100}" if rest % 100 == 0 else f"{rest / 100:.2f}".rstrip("0")
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def actor(site: Site, learner: Learner) -> dict[str, Any]:
    """The learner as an Agent: by e-mail (``mbox``), or by an opaque account id only."""
    if site.actor == "account":
        return {
            "objectType": "Agent",
            "account": {"homePage": site.public_url, "name": str(learner.user_id)},
        }
    return {"objectType": "Agent", "name": learner.name, "mbox": f"mailto:{learner.email}"}


def _number(value: float) -> float | int:
    """A whole number as an integer (40, not 40.0), so statements read as they always have."""
    return int(value) if float(value).is_integer() else value


def _verb(name: str) -> dict[str, Any]:
    return {"id": VERBS[name], "display": {"en-US": name}}


def _activity(iri: str, kind: str, name: Names) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {"type": ACTIVITY_TYPES[kind], "name": dict(name)},
    }


def _context(lang: str, **extra: Any) -> dict[str, Any]:
    return {"platform": PLATFORM, "language": lang, **extra}


def _statement(
    id_: str,
    site: Site,
    learner: Learner,
    verb: str,
    obj: dict[str, Any],
    when: datetime,
    **rest: Any,
) -> dict[str, Any]:
    return {
        "id": id_,
        "actor": actor(site, learner),
        "verb": _verb(verb),
        "object": obj,
        **rest,
        "timestamp": timestamp(when),
    }


def course_iri(site: Site, course_id: str) -> str:
    return site.url(f"/courses/{course_id}")


def exam_iri(site: Site, exam_id: str) -> str:
    return site.url(f"/exams/{exam_id}")


def module_completed(
    site: Site,
    learner: Learner,
    *,
    course_id: str,
    course_title: Names,
    module_id: str,
    module_title: Names,
    lang: str,
    when: datetime,
) -> dict[str, Any]:
    course = _activity(course_iri(site, course_id), "course", course_title)
    return _statement(
        statement_id(site, "module-completed", learner.user_id, course_id, module_id),
        site,
        learner,
        "completed",
        _activity(f"{course['id']}/modules/{module_id}", "module", module_title),
        when,
        result={"completion": True},
        context=_context(lang, contextActivities={"parent": [course]}),
    )


def course_completed(
    site: Site,
    learner: Learner,
    *,
    course_id: str,
    course_title: Names,
    lang: str,
    when: datetime,
) -> dict[str, Any]:
    return _statement(
        statement_id(site, "course-completed", learner.user_id, course_id),
        site,
        learner,
        "completed",
        _activity(course_iri(site, course_id), "course", course_title),
        when,
        result={"completion": True},
        context=_context(lang),
    )


def exam_attempted(
    site: Site,
    learner: Learner,
    *,
    exam_id: str,
    exam_title: Names,
    attempt_id: int,
    lang: str,
    when: datetime,
) -> dict[str, Any]:
    return _statement(
        statement_id(site, "exam-attempted", attempt_id),
        site,
        learner,
        "attempted",
        _activity(exam_iri(site, exam_id), "assessment", exam_title),
        when,
        context=_context(lang, registration=registration(site, attempt_id)),
    )


def exam_scored(
    site: Site,
    learner: Learner,
    *,
    exam_id: str,
    exam_title: Names,
    attempt_id: int,
    lang: str,
    started: datetime,
    submitted: datetime,
    percent: float,
    marks: float,
    max_marks: float,
    passed: bool,
) -> dict[str, Any]:
    """``passed`` or ``failed``, with the score, success and the time the attempt took.

    The raw score and its maximum are in marks (each item's fraction times its maximum mark);
    ``percent`` is the one over the other, so that scaled = raw / max.
    """
    scaled = min(1.0, max(0.0, round(percent / 100, 4)))
    maximum = round(max_marks, 4)
    return _statement(
        statement_id(site, "exam-scored", attempt_id),
        site,
        learner,
        "passed" if passed else "failed",
        _activity(exam_iri(site, exam_id), "assessment", exam_title),
        submitted,
        result={
            "score": {"scaled": scaled, "raw": round(marks, 4), "min": 0, "max": _number(maximum)},
            "success": passed,
            "completion": True,
            "duration": duration((submitted - started).total_seconds()),
        },
        context=_context(lang, registration=registration(site, attempt_id)),
    )


def certificate_earned(
    site: Site,
    learner: Learner,
    *,
    exam_id: str,
    title: Names,
    code: str,
    attempt_id: int | None,
    lang: str,
    when: datetime,
) -> dict[str, Any]:
    """The Open Badges recipe: the learner earned the achievement; the credential is the result."""
    context = _context(
        lang, contextActivities={"category": [{"objectType": "Activity", "id": OPEN_BADGES_RECIPE}]}
    )
    if attempt_id is not None:
        context["registration"] = registration(site, attempt_id)
    return _statement(
        statement_id(site, "certificate-earned", code),
        site,
        learner,
        "earned",
        _activity(site.url(f"/achievements/{exam_id}"), "badge", title),
        when,
        result={
            "completion": True,
            "success": True,
            "extensions": {BADGE_ASSERTION: {"@id": site.url(f"/api/v1/credentials/{code}")}},
        },
        context=context,
    )
