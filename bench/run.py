"""Run the benchmark scenarios against the production server and print a verdict table.

Usage (from the repository root)::

    .venv/bin/python bench/run.py                      # every scenario, 10 s each
    .venv/bin/python bench/run.py --scenario readyz api-communities --duration 5
    BENCH_DATABASE_URL=postgresql://bench@127.0.0.1:5432/bench .venv/bin/python bench/run.py

Each scenario gets a fresh database and server. Results are also saved as JSON under
``bench/results/``. The exit status is 1 when a scenario fails its threshold.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from harness import (
    DEFAULT_CONNECTIONS,
    DEFAULT_DURATION_S,
    DEFAULT_THREADS,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WARMUP_S,
    DEFAULT_WORKERS,
    BenchError,
    BenchOptions,
    ScenarioResult,
    WrkOptions,
    format_table,
    measure_scenario,
    write_results,
)
from scenarios import SCENARIOS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        action="extend",
        nargs="+",
        choices=list(SCENARIOS),
        metavar="NAME",
        help=f"scenarios to run (default: all of {', '.join(SCENARIOS)})",
    )
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="wrk threads")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="server processes")
    parser.add_argument(
        "--warmup", type=float, default=DEFAULT_WARMUP_S, help="seconds on the target first"
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="wrk timeout")
    parser.add_argument(
        "--database-url", default=None, help="default: $BENCH_DATABASE_URL, else temp SQLite"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> BenchOptions:
    wrk = WrkOptions(
        connections=args.connections,
        threads=args.threads,
        duration_s=args.duration,
        timeout_s=args.timeout,
    )
    return BenchOptions(
        wrk=wrk, workers=args.workers, warmup_s=args.warmup, database_url=args.database_url
    )


def list_scenarios() -> None:
    for name, scenario in SCENARIOS.items():
        print(f"{name:20} {scenario.path:28} {scenario.description}")


def run(names: Sequence[str], options: BenchOptions) -> list[ScenarioResult]:
    """Measure each named scenario in turn, reporting progress on stderr."""
    results = []
    for name in names:
        scenario = SCENARIOS[name]
        print(f"-- {name}: {scenario.path} ({scenario.description})", file=sys.stderr, flush=True)
        result = measure_scenario(scenario, options)
        print(
            f"   {result.target.requests_per_s:,.0f} req/s, "
            f"/healthz {result.healthz_before.requests_per_s:,.0f} before, "
            f"{result.healthz_after.requests_per_s:,.0f} after"
            + (f", {result.worker_restarts} worker(s) replaced" if result.worker_restarts else ""),
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        list_scenarios()
        return 0
    options = options_from(args)
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    try:
        results = run(args.scenario or list(SCENARIOS), options)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    print(format_table(results))
    if not args.no_save:
        print(f"\nsaved {write_results(results, options, started_at, load_at_start)}")
    return 1 if any(result.verdict == "FAIL" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
