"""`make bench`: every benchmark prints its figures and ratios against a baseline run in the same process."""

from __future__ import annotations

import argparse

from bench import ownership


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--points", type=int, default=1_000_000, help="incidents for the bulk benchmark")
    parser.add_argument("--single", type=int, default=20_000, help="points for the single-point benchmark")
    args = parser.parse_args()
    ownership.run(args.points, args.single)


if __name__ == "__main__":
    main()
