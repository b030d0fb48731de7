"""The attempts ledger: every graded attempt, kept for good, so that the best score is never lost.

nbgrader keeps only a student's latest submission and has no notion of a best score; this ledger does.
It is one table in any SQLAlchemy database: SQLite in the learner's data directory by default, or
``$APICOURSE_LEDGER_URL`` (for example PostgreSQL shared by a JupyterHub class).

    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'ledger.db'}"
    >>> ledger = Ledger(url)
    >>> ledger.record(NewAttempt("ada", "module_assessment", 6, 10)).attempts
    1
    >>> standing = ledger.record(NewAttempt("ada", "module_assessment", 10, 10))
    >>> standing = ledger.record(NewAttempt("ada", "module_assessment", 0, 10))
    >>> standing.attempt, standing.latest_score, standing.best_score, standing.passed
    (3, 0.0, 10.0, True)

If the database cannot be written (a file locked by another program, a file that is not a database), the
attempt is not lost: it goes to a small *pending* file next to the ledger and is added the next time the
ledger opens. The ledger file itself is never replaced or repaired behind your back.
"""

from __future__ import annotations

import csv
import html
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from hashlib import sha1, sha256
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Float, Integer, String, Text, create_engine, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import NullPool

LEDGER_URL_VAR = "APICOURSE_LEDGER_URL"
"""Environment variable: any SQLAlchemy URL for the ledger (default: SQLite in the user's data dir)."""

_T = TypeVar("_T")

SOURCES = {
    "self": "the learner's own grading (grade_my_quiz): their progress and certificate",
    "instructor": "the instructor's grade-class: the only attempts the instructor's export counts",
}
"""Who produced an attempt (the ``source`` column). The instructor's export counts only ``instructor`` ones,
and keeps its ledger where learners have no credentials (see quiz/README.md, "Who can change a grade")."""

PASS_FRACTION = 0.7
"""A score of 70% or more passes."""

IMPORTED = "imported"
"""The ``source`` of an attempt carried over from an exported certificate: self-reported, never graded here
(see :mod:`apicourse.grading.carry_over`). The instructor's CSV leaves such attempts out."""


def data_dir() -> Path:
    """The learner's data directory for the course (``~/.local/share/apicourse`` on Linux).

    >>> data_dir().name
    'apicourse'
    """
    try:
        from platformdirs import user_data_dir

        return Path(user_data_dir("apicourse", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs comes with jupyter
        return Path.home() / ".local" / "share" / "apicourse"


def default_url(environ: Mapping[str, str] | None = None) -> str:
    """``$APICOURSE_LEDGER_URL`` if set, else a SQLite file in :func:`data_dir`.

    >>> default_url({"APICOURSE_LEDGER_URL": "postgresql://class-db.example/apicourse"})
    'postgresql://class-db.example/apicourse'
    >>> default_url({}).endswith("ledger.db")
    True
    """
    env = os.environ if environ is None else environ
    return env.get(LEDGER_URL_VAR) or f"sqlite:///{data_dir() / 'ledger.db'}"


def passed(score: float, max_score: float) -> bool:
    """Whether ``score`` out of ``max_score`` reaches 70%.

    >>> passed(7, 10), passed(6.9, 10), passed(0, 0)
    (True, False, False)
    """
    return max_score > 0 and score / max_score >= PASS_FRACTION - 1e-9


class LedgerError(RuntimeError):
    """The ledger could not be read or written; the message says why and what to do.

    ``pending`` is the file that kept an attempt which could not be recorded (or None).
    """

    def __init__(self, message: str, pending: Path | None = None):
        super().__init__(message)
        self.pending = pending


class _Base(DeclarativeBase):
    pass


class Attempt(_Base):
    """One graded attempt (a row of the ``apicourse_attempts`` table)."""

    __tablename__ = "apicourse_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    learner: Mapped[str] = mapped_column(String(200), index=True)
    assignment: Mapped[str] = mapped_column(String(200), index=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    graded_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, stored naive
    source: Mapped[str] = mapped_column(String(20), default="self")  # who produced it: see SOURCES
    submission: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass
class NewAttempt:
    """An attempt to record: who, which assignment, the score, and optional details.

    >>> NewAttempt("ada", "module_assessment", 8, 10).source
    'self'
    """

    learner: str
    assignment: str
    score: float
    max_score: float
    source: str = "self"
    submission: str | None = None
    details: dict[str, Any] | None = None
    graded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_json(self) -> str:
        data = asdict(self)
        data["graded_at"] = self.graded_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, line: str) -> NewAttempt:
        data = json.loads(line)
        data["graded_at"] = datetime.fromisoformat(data["graded_at"])
        return cls(**data)


@dataclass
class Standing:
    """A learner's record on one assignment, right after an attempt (or at any time)."""

    learner: str
    assignment: str
    attempts: int
    attempt: int | None
    latest_score: float | None
    best_score: float | None
    max_score: float | None
    best_at: datetime | None

    @property
    def passed(self) -> bool:
        """Whether the best score passes (70%)."""
        return self.best_score is not None and passed(self.best_score, self.max_score or 0)

    @property
    def best_percent(self) -> float | None:
        if self.best_score is None or not self.max_score:
            return None
        return 100.0 * self.best_score / self.max_score


def _produced_by(source: str | None) -> tuple[Any, ...]:
    """The filter keeping only attempts ``source`` produced (:data:`SOURCES`), or no filter."""
    return () if source is None else (Attempt.source == source,)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class Ledger:
    """The attempts ledger at ``url`` (default :func:`default_url`).

    ``timeout`` is how long to wait for a database another process has locked before giving up.
    """

    def __init__(self, url: str | None = None, *, timeout: float = 15.0):
        self.url = url or default_url()
        self.timeout = timeout
        parsed = make_url(self.url)
        self.sqlite_file: Path | None = None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self.sqlite_file = Path(parsed.database).expanduser()
        if self.sqlite_file is not None:
            self.pending_file = self.sqlite_file.with_name(self.sqlite_file.name + ".pending.jsonl")
        else:
            digest = sha1(self.url.encode()).hexdigest()[:12]
            self.pending_file = data_dir() / f"ledger-{digest}.pending.jsonl"
        self._engine: Engine | None = None

    # -- plumbing ---------------------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """Where the ledger lives, for messages (a file path, or the URL without its password)."""
        if self.sqlite_file is not None:
            return str(self.sqlite_file)
        return make_url(self.url).render_as_string(hide_password=True)

    def _engine_or_fail(self) -> Engine:
        if self._engine is None:
            kwargs: dict[str, Any] = {}
            if self.sqlite_file is not None:
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
                kwargs = {"connect_args": {"timeout": self.timeout}, "poolclass": NullPool}
            engine = create_engine(self.url, **kwargs)
            try:
                _Base.metadata.create_all(engine)
            except SQLAlchemyError as error:
                engine.dispose()
                raise self._explain(error) from error
            self._engine = engine
        return self._engine

    def _explain(self, error: Exception, pending: Path | None = None) -> LedgerError:
        text = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        if "locked" in text or "busy" in text:
            why = f"The attempts ledger {self.where} is locked by another program ({text})."
            todo = "Close whatever holds it (another grading still running?) and grade again."
        elif "not a database" in text or "malformed" in text or "corrupt" in text:
            why = f"The attempts ledger {self.where} is not a readable database ({text}). It was left untouched."
            todo = (
                f"Move it aside (or set {LEDGER_URL_VAR} to another database) and grade again; "
                "keep the old file if you want to try to recover it."
            )
        else:
            why = f"The attempts ledger {self.where} could not be used ({text})."
            todo = f"Check the file or {LEDGER_URL_VAR} and grade again."
        kept = f" This attempt was kept in {pending} and will be added when the ledger works again." if pending else ""
        return LedgerError(f"{why} {todo}{kept}", pending=pending)

    def _keep_pending(self, attempt: NewAttempt) -> Path | None:
        try:
            self.pending_file.parent.mkdir(parents=True, exist_ok=True)
            with self.pending_file.open("a", encoding="utf-8") as out:
                out.write(attempt.to_json() + "\n")
            return self.pending_file
        except OSError:
            return None

    def _flush_pending(self, session: Session) -> None:
        """Add attempts kept while the ledger was unusable (each exactly once, by uid)."""
        if not self.pending_file.exists():
            return
        claimed = self.pending_file.with_name(f"{self.pending_file.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        try:
            self.pending_file.rename(claimed)  # atomic: a concurrent flush cannot take the same lines
        except OSError:
            return
        lines = claimed.read_text(encoding="utf-8").splitlines()
        for line in lines:
            try:
                attempt = NewAttempt.from_json(line)
            except (ValueError, TypeError, KeyError):
                continue
            if session.scalar(select(Attempt.id).where(Attempt.uid == attempt.uid)) is None and not (
                attempt.source == "instructor" and attempt.submission is not None
                and session.scalar(select(Attempt.id).where(*self._same_submission(attempt)).limit(1)) is not None
            ):  # the class command kept one it could not check: a submission counts once
                session.add(self._row(attempt))
        session.flush()
        self._claimed.append((claimed, lines))

    @staticmethod
    def _same_submission(attempt: NewAttempt) -> tuple[Any, ...]:
        return (Attempt.learner == attempt.learner, Attempt.assignment == attempt.assignment,
                Attempt.submission == attempt.submission, Attempt.source == attempt.source)

    @staticmethod
    def _row(attempt: NewAttempt) -> Attempt:
        return Attempt(
            uid=attempt.uid,
            learner=attempt.learner,
            assignment=attempt.assignment,
            score=float(attempt.score),
            max_score=float(attempt.max_score),
            graded_at=_naive_utc(attempt.graded_at),
            source=attempt.source,
            submission=attempt.submission,
            details=json.dumps(attempt.details) if attempt.details is not None else None,
        )

    def _run(self, work: Callable[[Session], _T], attempt: NewAttempt | None = None) -> _T:
        """Run ``work(session)`` in one transaction; turn database failures into a clear LedgerError."""
        self._claimed: list[tuple[Path, list[str]]] = []
        try:
            engine = self._engine_or_fail()
            with Session(engine) as session, session.begin():
                self._flush_pending(session)
                outcome = work(session)
        except (SQLAlchemyError, LedgerError) as error:
            # put back any pending lines we had claimed, then keep this attempt too
            for claimed, lines in self._claimed:
                self._restore_claimed(claimed, lines)
            pending = self._keep_pending(attempt) if attempt is not None else None
            if isinstance(error, LedgerError):
                if pending:
                    error = self._explain_again(error, pending)
                raise error from None
            raise self._explain(error, pending) from error
        for claimed, _ in self._claimed:
            claimed.unlink(missing_ok=True)
        return outcome

    def _restore_claimed(self, claimed: Path, lines: list[str]) -> None:
        try:
            with self.pending_file.open("a", encoding="utf-8") as out:
                out.writelines(line + "\n" for line in lines)
            claimed.unlink(missing_ok=True)
        except OSError:
            pass

    @staticmethod
    def _explain_again(error: LedgerError, pending: Path) -> LedgerError:
        message = f"{error} This attempt was kept in {pending} and will be added when the ledger works again."
        return LedgerError(message, pending=pending)

    # -- the ledger's API ------------------------------------------------------------------------------
    def record(self, attempt: NewAttempt) -> Standing:
        """Record one attempt and return the learner's standing right after it.

        Raises :class:`LedgerError` (with the attempt kept in ``error.pending``) if the database is unusable.
        """

        def work(session: Session) -> Standing:
            row = self._row(attempt)
            session.add(row)
            session.flush()
            number = session.scalar(
                select(func.count(Attempt.id)).where(
                    Attempt.learner == attempt.learner,
                    Attempt.assignment == attempt.assignment,
                    Attempt.id <= row.id,
                )
            )
            standing = self._standing(session, attempt.learner, attempt.assignment)
            standing.attempt = number
            return standing

        return self._run(work, attempt)

    def standing(self, learner: str, assignment: str, *, imported: bool = True) -> Standing:
        """The learner's attempts, latest and best score on ``assignment`` (zeros and Nones if none yet).

        ``imported=False`` counts only attempts graded here, not those carried over from a certificate.
        """
        return self._run(lambda session: self._standing(session, learner, assignment, imported=imported))

    def has_submission(self, learner: str, assignment: str, submission: str, source: str) -> bool:
        """Whether an attempt for exactly this submission (a hash) was already recorded from ``source``."""
        query = select(Attempt.id).where(
            Attempt.learner == learner,
            Attempt.assignment == assignment,
            Attempt.submission == submission,
            Attempt.source == source,
        )
        return self._run(lambda session: session.scalar(query.limit(1)) is not None)

    def fingerprint(self, source: str | None = None) -> str:
        """A digest of every row (of ``source``'s rows only, if given), to tell whether anything changed the
        ledger between two moments.

        >>> import tempfile, pathlib
        >>> book = Ledger(f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'a.db'}")
        >>> before = book.fingerprint(); _ = book.record(NewAttempt("ada", "quiz", 8, 10))
        >>> book.fingerprint() != before
        True
        """
        columns = [c for c in Attempt.__table__.columns]

        def work(session: Session) -> str:
            query = select(*columns).order_by(Attempt.id)
            rows = session.execute(query if source is None else query.where(Attempt.source == source))
            return sha1(repr([tuple(row) for row in rows]).encode()).hexdigest()

        return self._run(work)

    def learners(self, assignment: str, source: str | None = None) -> list[str]:
        """Everyone with at least one attempt on ``assignment`` (only from ``source`` if given), sorted."""
        query = select(Attempt.learner).where(Attempt.assignment == assignment, *_produced_by(source)).distinct()
        return sorted(self._run(lambda session: list(session.scalars(query))))

    def attempts(self, learner: str, assignment: str, source: str | None = None) -> list[Attempt]:
        """Every attempt of ``learner`` on ``assignment`` (only from ``source`` if given), oldest first."""
        query = (
            select(Attempt)
            .where(Attempt.learner == learner, Attempt.assignment == assignment, *_produced_by(source))
            .order_by(Attempt.graded_at, Attempt.id)
        )

        def work(session: Session) -> list[Attempt]:
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

        return self._run(work)

    @staticmethod
    def _standing(session: Session, learner: str, assignment: str, *, imported: bool = True) -> Standing:
        mine: tuple[Any, ...] = (Attempt.learner == learner, Attempt.assignment == assignment)
        if not imported:
            mine += (Attempt.source != IMPORTED,)
        count = session.scalar(select(func.count(Attempt.id)).where(*mine)) or 0
        latest = session.execute(
            select(Attempt.score).where(*mine).order_by(Attempt.graded_at.desc(), Attempt.id.desc()).limit(1)
        ).first()
        best = session.execute(
            select(Attempt.score, Attempt.max_score, Attempt.graded_at)
            .where(*mine)
            .order_by((Attempt.score / Attempt.max_score).desc(), Attempt.graded_at)
            .limit(1)
        ).first()
        return Standing(
            learner=learner,
            assignment=assignment,
            attempts=count,
            attempt=None,
            latest_score=latest[0] if latest else None,
            best_score=best[0] if best else None,
            max_score=best[1] if best else None,
            best_at=best[2].replace(tzinfo=UTC) if best else None,
        )

    # -- exports ----------------------------------------------------------------------------------------
    def export_csv(self, assignment: str, path: Path) -> Path:
        """Write ``student,latest,best,attempts,passed`` for everyone with an attempt; return ``path``.

        Only attempts graded here count: a record a learner imported from a certificate proves nothing.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["student", "latest", "best", "attempts", "passed"])
            for learner in self.learners(assignment):
                s = self.standing(learner, assignment, imported=False)
                if not s.attempts:
                    continue
                writer.writerow([learner, _num(s.latest_score), _num(s.best_score), s.attempts, s.passed])
        return path

    def certificate(self, learner: str, assignment: str) -> dict[str, Any]:
        """The record of a learner's best attempt, as a small dict (raises LookupError if no attempt yet)."""
        s = self.standing(learner, assignment)
        if not s.attempts:
            raise LookupError(f"No graded attempt of {assignment} by {learner} yet: grade the quiz first.")
        record = {
            "course": "Working with APIs",
            "assignment": assignment,
            "learner": learner,
            "best_score": s.best_score,
            "max_score": s.max_score,
            "percent": round(s.best_percent or 0.0, 1),
            "passed": s.passed,
            "pass_mark_percent": round(PASS_FRACTION * 100),
            "best_at": s.best_at.isoformat() if s.best_at else None,
            "attempts": s.attempts,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return {**record, "checksum": certificate_checksum(record)}

    def write_certificate(self, learner: str, assignment: str, directory: Path) -> tuple[Path, Path]:
        """Write ``certificate.json`` and ``certificate.html`` into ``directory``; return both paths."""
        record = self.certificate(learner, assignment)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        json_path = directory / "certificate.json"
        html_path = directory / "certificate.html"
        json_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        html_path.write_text(certificate_html(record), encoding="utf-8")
        return json_path, html_path


def certificate_checksum(record: Mapping[str, Any]) -> str:
    """The SHA-256 of a certificate record (without its own ``checksum`` field), in canonical JSON.

    It shows that a file is whole and unchanged since export; it is no signature: anyone can compute it.

    >>> certificate_checksum({"best_score": 8, "checksum": "x"}) == certificate_checksum({"best_score": 8})
    True
    """
    body = {key: value for key, value in record.items() if key != "checksum"}
    return sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def certificate_html(record: dict[str, Any]) -> str:
    """A small standalone HTML page for a certificate record (see :meth:`Ledger.certificate`).

    >>> "PASSED" in certificate_html({"learner": "ada", "assignment": "quiz", "best_score": 8, "max_score": 10,
    ...     "percent": 80.0, "passed": True, "best_at": "2026-11-26T10:00:00+00:00", "attempts": 3})
    True
    """
    e = {k: html.escape(str(v)) for k, v in record.items()}
    verdict = "PASSED" if record.get("passed") else "NOT PASSED YET"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Certificate · {e.get('assignment', '')}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;text-align:center}}
.apicourse-certificate{{border:3px double #555;padding:2em}}h1{{margin-top:0}}</style></head>
<body><div class="apicourse-certificate">
<h1>{e.get('course', 'Working with APIs')}</h1>
<p>Module assessment <code>{e.get('assignment', '')}</code></p>
<p class="apicourse-learner"><strong>{e.get('learner', '')}</strong></p>
<p class="apicourse-best">Best score <strong>{_num(record.get('best_score'))}/{_num(record.get('max_score'))}</strong>
({e.get('percent', '')}%) — <strong>{verdict}</strong> (pass mark {e.get('pass_mark_percent', '70')}%)</p>
<p>Best attempt on {e.get('best_at', '')} · {e.get('attempts', '')} attempt(s) in all</p>
</div></body></html>
"""
