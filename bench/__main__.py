"""`make bench`: every benchmark prints its figures and ratios against a baseline run in the same process."""

from __future__ import annotations

import argparse

from bench import chronic, evaluation, field, intake, open311, ownership, pages, store


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--points", type=int, default=1_000_000, help="incidents for the bulk benchmark")
    parser.add_argument("--single", type=int, default=20_000, help="points for the single-point benchmark")
    parser.add_argument("--reresolve", type=int, default=1_000_000, help="case points re-resolved after a grid change")
    parser.add_argument("--import", dest="n_import", type=int, default=100_000, help="cases imported from a GeoPackage")
    parser.add_argument("--open", dest="n_open", type=int, default=100_000, help="open incidents for the page bench")
    parser.add_argument("--scored", type=int, default=100_000, help="cases for the evaluation bench")
    parser.add_argument("--posts", dest="n_posts", type=int, default=1000, help="requests posted through Open311")
    parser.add_argument("--chronic", type=int, default=100_000, help="cases for the chronic-place detection bench")
    parser.add_argument(
        "--only",
        choices=["ownership", "store", "pages", "evaluation", "open311", "field", "intake", "chronic"],
        default=None,
    )
    args = parser.parse_args()
    if args.only in (None, "ownership"):
        ownership.run(args.points, args.single)
    if args.only in (None, "store"):
        store.run(args.reresolve, args.n_import)
    if args.only in (None, "pages"):
        pages.run(args.n_open)
    if args.only in (None, "evaluation"):
        evaluation.run(args.scored)
    if args.only in (None, "open311"):
        open311.run(args.n_posts)
    if args.only in (None, "field"):
        field.run()
    if args.only in (None, "intake"):
        intake.run(args.n_open)
    if args.only in (None, "chronic"):
        chronic.run(args.chronic)


if __name__ == "__main__":
    main()
