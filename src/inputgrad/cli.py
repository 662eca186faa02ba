"""Command line: `inputgrad <command>` (also `python -m inputgrad`)."""

from __future__ import annotations

import argparse
import sys


def cmd_smoke_data(args) -> int:
    from .smoke import make_mirror

    out = make_mirror(args.out_dir, seed=args.seed)
    print(f"synthetic mirror written to {out}; use INPUTGRAD_DATA_MIRROR={out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inputgrad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    smoke = sub.add_parser("smoke-data", help="write tiny synthetic datasets + SHA256SUMS")
    smoke.add_argument("out_dir")
    smoke.add_argument("--seed", type=int, default=0)
    smoke.set_defaults(func=cmd_smoke_data)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
