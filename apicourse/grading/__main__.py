"""``python -m apicourse.grading grade-class | grade NOTEBOOK | certificate`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from apicourse import grading
from apicourse.grading.certificates import export_certificate
from apicourse.grading.class_command import grade_class
from apicourse.grading.lms import LMS_FILES
from apicourse.grading.self_grading import grade_notebook, learner_name, record


# --- command line -------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m apicourse.grading grade-class | grade NOTEBOOK | certificate`` (see ``--help``)."""
    description = (grading.__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m apicourse.grading", description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    cls = commands.add_parser("grade-class", help="autograde every submission, record attempts, export CSV")
    cls.add_argument("--course", help="the nbgrader course folder (default: the folder you are in if it is one, "
                     "else quiz/)")
    cls.add_argument("--ledger", help="SQLAlchemy URL of the instructor's attempts ledger (default: "
                     "$APICOURSE_INSTRUCTOR_LEDGER_URL, else <course>/attempts.db)")
    cls.add_argument("--lms", action="append", choices=sorted(LMS_FILES), default=[],
                     help="also write the gradebook file this LMS imports (repeatable)")
    cls.add_argument("--csv", help="where to write the CSV (default: <course>/grades.csv)")
    cls.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    cls.add_argument("--workers", type=int, help="nbgrader processes sharing the class (default: 2 per CPU core)")
    cls.add_argument("--require-sandbox", action="store_true",
                     help="refuse to grade unless each submission can run in the bubblewrap sandbox")
    one = commands.add_parser("grade", help="grade one notebook and record the attempt")
    one.add_argument("notebook")
    one.add_argument("--learner")
    one.add_argument("--ledger")
    cert = commands.add_parser("certificate", help="write certificate.json and certificate.html")
    cert.add_argument("--directory", default=".")
    cert.add_argument("--learner")
    cert.add_argument("--ledger")
    args = parser.parse_args(argv)
    if args.command == "grade-class":
        report = grade_class(args.course, ledger=args.ledger, csv_path=args.csv, feedback=not args.no_feedback,
                             workers=args.workers, require_sandbox=args.require_sandbox, lms=args.lms)
        print(report)
        if args.require_sandbox and not report.sandbox.startswith("Submissions ran sandboxed"):
            return 2
        return 1 if report.tampered or any(p.startswith("nbgrader") for p in report.problems) else 0
    if args.command == "grade":
        result = grade_notebook(args.notebook)
        result.learner = args.learner or learner_name()
        if result.graded:
            record(result, args.ledger)
        print(result.text())
        return 0 if result.graded else 1
    certificate = export_certificate(args.directory, ledger=args.ledger, learner=args.learner)
    print(certificate)
    return 1 if certificate.error else 0


if __name__ == "__main__":
    sys.exit(main())
