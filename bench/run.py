"""Benchmark: `gkreport consolidate` against the usual pandas script and the bare I/O floor,
and `gkreport review` of a year of such months against one month's consolidate.

    python bench/run.py [--units N] [--tasks T] [--repeat R] [--workdir DIR] [--keep]
    python bench/run.py --sizes 100,1000,10000 --no-baseline
    python bench/run.py --units 1000 --profile

Outside the timed part it builds a synthetic workspace (plan workbook with N units, forms
written by `gkreport forms`, filled by the demo filler into input/PERIOD/) and a year of
history from it (bench/yearly.py: 12 consolidated periods). Then it times,
alternating the order from round to round, each measurement in its own child process, and
reports the median of R runs with the peak memory of the child's whole process tree.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a clone without installing: the checkout's gkreport
sys.path.insert(0, str(HERE))

MEASUREMENTS = ("gkreport", "baseline", "floor", "forms", "review")
YEAR_MONTHS = 12  # consolidated periods in the history `review` reads
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# ---------------------------------------------------------------- measuring a child process


@dataclass
class Sample:
    seconds: float
    cpu: float  # user + system seconds of the child and its reaped descendants
    peak_mib: float  # largest sum of RSS over the child and its descendants (sampled)
    maxrss_mib: float  # ru_maxrss from wait4: the largest single process


@dataclass
class Series:
    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_mib(self) -> float:
        return max(s.peak_mib for s in self.samples)


def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants (Linux /proc; 0 elsewhere)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, IndexError, ValueError):
            continue  # the process ended between two reads
    return total


def _cpu_busy(seconds: float = 1.0) -> float:
    """Fraction of all CPUs busy over `seconds` (Linux /proc/stat; 0 elsewhere)."""
    def ticks() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(x) for x in f.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    try:
        busy0, total0 = ticks()
        time.sleep(seconds)
        busy1, total1 = ticks()
    except OSError:
        return 0.0
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (up to `limit` s) until other programs leave the CPUs idle; the busy share seen.

    On a shared 2-core machine another program's burst doubles a run's time; waiting for a
    quiet moment before each measurement keeps the alternating samples comparable.
    """
    if limit <= 0:
        return 0.0
    deadline = time.monotonic() + limit
    busy = _cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = _cpu_busy()
    return busy


def measure(cmd: list[str], *, log: Path, env: dict[str, str] | None = None,
            interval: float = 0.02) -> Sample:
    """Run `cmd` as a child; wall time, sampled tree peak RSS and wait4's ru_maxrss."""
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=env, cwd=ROOT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    maxrss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)  # bytes / KiB
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(seconds, cpu, max(peak / 2**20, maxrss), maxrss)


def gkreport_cmd(*args: str) -> list[str]:
    """The CLI as a user's environment runs it: the console script beside this Python."""
    script = Path(sys.executable).parent / "gkreport"
    if script.exists() and os.access(script, os.X_OK):
        return [str(script), *args]
    return [sys.executable, "-m", "gkreport", *args]


def child_cmd(kind: str, ws: Path, period: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", kind,
            "--workdir", str(ws), "--period", period]


def commands(ws: Path, period: str, year: Path | None = None) -> dict[str, list[str]]:
    review = {"review": gkreport_cmd("review", "-w", str(year), "--year", period[:4],
                                     "--quiet")} if year else {}
    return {**review,
        "gkreport": gkreport_cmd("consolidate", "-w", str(ws), "--period", period, "--quiet"),
        "baseline": child_cmd("baseline", ws, period),
        "floor": child_cmd("floor", ws, period),
        "forms": gkreport_cmd("forms", "-w", str(ws), "--period", period, "--quiet"),
    }


# ---------------------------------------------------------------- the two reference jobs


def returned_files(ws: Path, period: str) -> list[Path]:
    """The returned forms, as any script must list them (Office lock files skipped)."""
    folder = ws / "input" / period
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() == ".xlsx" and not p.name.startswith(("~$", ".")))


def run_baseline(ws: Path, period: str) -> None:
    """The usual office script: read_excel every file, concat, merge with the plan, to_excel."""
    import warnings

    import pandas as pd

    from gkreport.forms import layout

    warnings.simplefilter("ignore", FutureWarning)  # pandas' notice about the default engine
    frames = []
    for path in returned_files(ws, period):
        df = pd.read_excel(path, sheet_name=layout.FORM_SHEET, header=layout.HEADER_ROW)
        df["来源文件"] = path.name
        frames.append(df)
    data = pd.concat(frames, ignore_index=True)
    plan = pd.read_excel(ws / "input" / "任务分解表.xlsx", sheet_name="任务分解表", header=1)
    merged = data.merge(plan, on="序号", how="left", suffixes=("", "_计划"))
    out = ws / "bench-out"
    out.mkdir(exist_ok=True)
    merged.to_excel(out / "baseline.xlsx", index=False)


def run_floor(ws: Path, period: str) -> None:
    """The I/O the job cannot avoid: calamine reads the cells, xlsxwriter writes the rows."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    from gkreport.forms import layout

    ncols = len(layout.COLUMNS)
    out = ws / "bench-out"
    out.mkdir(exist_ok=True)
    wb = xlsxwriter.Workbook(str(out / "floor.xlsx"), {"constant_memory": True})
    sheet = wb.add_worksheet("明细")
    sheet.write_row(0, 0, ["来源文件", *(c.header for c in layout.COLUMNS)])
    r = 1
    for path in returned_files(ws, period):
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(layout.FORM_SHEET).to_python()
        for row in rows[layout.FIRST_DATA_ROW:]:
            if row and row[0] not in ("", None):
                sheet.write_string(r, 0, path.name)
                sheet.write_row(r, 1, row[:ncols])
                r += 1
    wb.close()


PHASES = (  # (module, attribute) wrapped with a wall-clock timer, in pipeline order
    ("gkreport.workspace", "load_plan_checked"),
    ("gkreport.year", "build_prior"),
    ("gkreport.intake.ingest", "read_returns"),
    ("gkreport.ledger", "file_records"),
    ("gkreport.consolidate", "consolidate"),
    ("gkreport.render.checkreport", "write_check_report"),
    ("gkreport.render.annotate", "annotate_returns"),
    ("gkreport.render.workbook", "write_workbook"),
    ("gkreport.render.memo", "render_outputs"),
    ("gkreport.render.memo", "write_outputs"),
    ("gkreport.consolidate", "summarise"),
    ("gkreport.history", "History.previous_notes"),
    ("gkreport.history", "History.record"),
    ("gkreport.cli.app", "_print_summary"),
)


def run_phases(ws: Path, period: str, out: Path) -> None:
    """`gkreport consolidate` in this process with each stage timed (no profiler overhead)."""
    import importlib

    started = time.perf_counter()
    timings: dict[str, float] = {}
    # The workbook runs in this process too (its own cost shows; a forked worker could not
    # take the timed wrapper, a local function, across).
    os.environ["GKREPORT_NO_FORK"] = "1"

    def timed(label: str, fn):  # noqa: ANN001, ANN202 - any stage function
        def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0
        return wrapper

    from gkreport import cli

    imported = time.perf_counter() - started
    for module, attr in PHASES:
        try:
            owner = importlib.import_module(module)
        except ImportError:
            continue
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        if hasattr(owner, name):
            setattr(owner, name, timed(attr.split(".")[-1], getattr(owner, name)))
    sys.argv = ["gkreport", "consolidate", "-w", str(ws), "--period", period, "--quiet"]
    try:
        cli.main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    total = time.perf_counter() - started
    out.write_text(json.dumps({"import cli": imported, **timings, "total in process": total}),
                   encoding="utf-8")


def run_profile(ws: Path, period: str, out: Path, serial: bool) -> None:
    """`gkreport consolidate` in this process under a profiler; serial: no process pool."""
    from gkreport import cli
    from gkreport.intake import ingest

    if serial:
        ingest.PARALLEL_FROM = 10**9  # profile the reading too, not a pool's waiting
        os.environ["GKREPORT_NO_FORK"] = "1"  # and the workbook, not the worker's waiting
    argv = ["gkreport", "consolidate", "-w", str(ws), "--period", period, "--quiet"]

    def run() -> None:
        sys.argv = argv
        try:
            cli.main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise

    import cProfile

    cProfile.runctx("run()", globals(), {"run": run}, str(out))
    try:
        import pyinstrument
    except ImportError:
        return
    # A second run in the same process: imports are warm, so this view shows the work itself.
    profiler = pyinstrument.Profiler(interval=0.001)
    profiler.start()
    run()
    profiler.stop()
    out.with_suffix(".txt").write_text(
        profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")


# ---------------------------------------------------------------- the synthetic workspace


@dataclass
class Workspace:
    root: Path
    units: int
    tasks: int
    rows: int
    files: int  # returned forms in input/PERIOD (what consolidate reads)
    forms_first: Sample | None  # the setup's `gkreport forms` run, when built now
    stats: dict
    year: Path | None = None  # a workspace whose history holds YEAR_MONTHS such periods
    year_entries: int = 0  # task × unit entries stored over those periods


def year_root(root: Path) -> Path:
    return root.with_name(root.name + "-year")


def build_workspace(root: Path, *, units: int, tasks: int | None, period: str, seed: int,
                    reuse: bool, log: Path, year: bool = True) -> Workspace:
    """Plan workbook, forms (by the CLI, timed), filled returns, and (with `year`) a year of
    history made from them; reused when asked and intact."""
    from synthetic import default_tasks

    tasks = tasks or default_tasks(units)
    stamp = root / "bench-stamp.json"
    want = {"units": units, "tasks": tasks, "period": period, "seed": seed}
    if reuse and stamp.exists():
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("args") == want:
            ws = Workspace(root, units, tasks, saved["stats"]["rows"],
                           len(returned_files(root, period)), None, saved["stats"])
            return _with_year(ws, period, seed, log) if year else ws
    for folder in (root, year_root(root)):
        if folder.exists():
            shutil.rmtree(folder)
    root.mkdir(parents=True)
    # Setup runs in child processes too: this process must stay small, since a forked child
    # starts with the parent's resident memory and wait4's ru_maxrss would count it.
    t0 = time.perf_counter()
    setup = [sys.executable, str(Path(__file__).resolve()), "--workdir", str(root),
             "--period", period, "--seed", str(seed), "--units", str(units),
             "--tasks", str(tasks)]
    _setup(setup + ["--child", "plan"], log)
    info = json.loads((root / "bench-plan.json").read_text(encoding="utf-8"))
    low, high, mean = info["tasks_per_unit"]
    print(f"  plan: {info['units']} units, {info['tasks']} tasks, {info['groups']} 片区, "
          f"{low}–{high} tasks a unit (mean {mean}), {info['rows']} task × unit rows "
          f"[{time.perf_counter() - t0:.1f} s]", flush=True)
    first = measure(commands(root, period)["forms"], log=log)
    print(f"  forms: {first.seconds:.1f} s", flush=True)
    t0 = time.perf_counter()
    _setup(setup + ["--child", "fill"], log)
    files = len(returned_files(root, period))
    print(f"  filled {files} returned forms [{time.perf_counter() - t0:.1f} s]", flush=True)
    stamp.write_text(json.dumps({"args": want, "stats": info}, ensure_ascii=False),
                     encoding="utf-8")
    ws = Workspace(root, units, tasks, info["rows"], files, first, info)
    return _with_year(ws, period, seed, log) if year else ws


def _with_year(ws: Workspace, period: str, seed: int, log: Path) -> Workspace:
    """The year of history `review` reads (bench/yearly.py), built once per workspace."""
    target = year_root(ws.root)
    done = target / "bench-year.json"
    if not done.exists():
        t0 = time.perf_counter()
        _setup([sys.executable, str(Path(__file__).resolve()), "--workdir", str(ws.root),
                "--period", period, "--seed", str(seed), "--child", "year"], log)
        print(f"  a year of history: {YEAR_MONTHS} periods consolidated in process "
              f"[{time.perf_counter() - t0:.1f} s]", flush=True)
    entries = json.loads(done.read_text(encoding="utf-8"))["entries"]
    return replace(ws, year=target, year_entries=entries)


def make_year(root: Path, period: str, seed: int) -> None:
    """The year's history for `review` (child process; setup, not timed)."""
    from yearly import build_year

    target = year_root(root)
    entries = build_year(target, root, period, months=YEAR_MONTHS, seed=seed)
    (target / "bench-year.json").write_text(json.dumps({"entries": entries}), encoding="utf-8")


def _setup(cmd: list[str], log: Path) -> None:
    with open(log, "ab") as out:
        done = subprocess.run(cmd, stdout=out, stderr=out, cwd=ROOT, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise SystemExit(f"setup failed: {' '.join(cmd)}\n…{tail}")


def make_plan(root: Path, units: int, tasks: int, seed: int) -> None:
    """The synthetic plan workbook, and its statistics for the parent (child process)."""
    from synthetic import build_plan_workbook

    stats = build_plan_workbook(root, units=units, tasks=tasks, seed=seed)
    info = {"units": stats.units, "tasks": stats.tasks, "groups": stats.groups,
            "rows": stats.rows, "tasks_per_unit": [stats.tasks_per_unit_min,
                                                   stats.tasks_per_unit_max,
                                                   stats.tasks_per_unit_mean]}
    (root / "bench-plan.json").write_text(json.dumps(info), encoding="utf-8")


def fill(root: Path, period: str, seed: int) -> None:
    """The demo filler, as units fill their forms (child process; setup, not timed)."""
    from gkreport.core.model import Period
    from gkreport.forms.demo import fill_demo
    from gkreport.plan.book import read_plan

    p = Period.parse(period)
    plan = read_plan(root / "input" / "任务分解表.xlsx")
    fill_demo(plan, p, root / "output" / "forms" / period, root / "input" / period, seed=seed)


# ---------------------------------------------------------------- driving


def run_rounds(ws: Workspace, period: str, names: list[str], repeat: int, log: Path,
               quiet: float) -> dict[str, Series]:
    """R rounds, alternating the order each round; each measurement a fresh child process."""
    cmds = commands(ws.root, period, ws.year)
    series = {n: Series(n) for n in names}
    if "forms" in series and ws.forms_first is not None:
        series["forms"].samples.append(ws.forms_first)
    for i in range(repeat):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            if name == "forms" and len(series[name].samples) >= repeat:
                continue
            busy = wait_quiet(quiet)
            s = measure(cmds[name], log=log)
            series[name].samples.append(s)
            print(f"  round {i + 1}/{repeat} {name:<9} {s.seconds:7.2f} s  cpu {s.cpu:7.2f} s  "
                  f"{s.peak_mib:7.0f} MiB  (CPUs {100 * busy:.0f}% busy before)", flush=True)
    return series


def print_table(ws: Workspace, series: dict[str, Series]) -> None:
    print()
    print(f"{ws.files} returned forms ({ws.units} units, {ws.tasks} tasks, {ws.rows} task × "
          f"unit rows); median of {max(len(s.samples) for s in series.values())} runs")
    if ws.year:
        print(f"review: {YEAR_MONTHS} consolidated periods, {ws.year_entries} task × unit "
              "entries in the history (ms/form: per unit and period)")
    print(f"{'measurement':<10} {'seconds':>9} {'ms/form':>9} {'cpu s':>8} {'peak MiB':>9}  "
          f"runs (s)")
    for s in series.values():
        per = {"forms": ws.units, "review": ws.units * YEAR_MONTHS}.get(s.name, ws.files)
        runs = " ".join(f"{x.seconds:.2f}" for x in s.samples)
        print(f"{s.name:<10} {s.seconds:9.2f} {1000 * s.seconds / per:9.2f} {s.cpu:8.2f} "
              f"{s.peak_mib:9.0f}  {runs}")
    print()


def bench_line(ws: Workspace, series: dict[str, Series]) -> str:
    g = series["gkreport"].seconds

    def part(name: str, label: str) -> str:
        if name not in series:
            return f"{label} n/a"
        x = series[name].seconds
        return f"{label} {x:.2f} s (ratio {g / x:.2f})"

    forms = f"{series['forms'].seconds:.2f} s" if "forms" in series else "n/a"
    # review / one month's consolidate: below 1 when a year's review is the cheaper job
    review = (f", review {series['review'].seconds:.2f} s over {YEAR_MONTHS} periods "
              f"(ratio to consolidate {series['review'].seconds / g:.2f})"
              if "review" in series else "")
    return (f"bench: {ws.files} forms, gkreport {g:.2f} s, {part('baseline', 'baseline')}, "
            f"{part('floor', 'floor')}, forms {forms}, "
            f"peak {series['gkreport'].peak_mib:.0f} MiB{review}")


def profile(ws: Workspace, period: str, workdir: Path, log: Path, top: int = 25) -> None:
    import pstats

    out = workdir / "phases.json"
    s = measure(child_cmd("phases", ws.root, period) + ["--profile-out", str(out)], log=log)
    phases = json.loads(out.read_text(encoding="utf-8"))
    print(f"\n=== where the time goes: gkreport consolidate of {ws.files} forms, "
          f"{s.seconds:.2f} s wall, peak {s.peak_mib:.0f} MiB ===")
    inside = phases.pop("total in process")
    print(f"  {'process start (interpreter, before the CLI module)':<52} "
          f"{s.seconds - inside:7.2f} s")
    for label, seconds in phases.items():
        print(f"  {label:<52} {seconds:7.2f} s  {100 * seconds / s.seconds:5.1f} %")
    rest = inside - sum(phases.values())
    print(f"  {'other (CLI, history load, summary.json, printing)':<52} {rest:7.2f} s")

    for serial in (False, True):
        out = workdir / f"profile-{'serial' if serial else 'pool'}.prof"
        cmd = child_cmd("profile", ws.root, period) + ["--profile-out", str(out)]
        if serial:
            cmd.append("--serial")
        s = measure(cmd, log=log)
        label = "without process pool (reading in-process)" if serial else "as the CLI runs"
        print(f"\n=== cProfile, {label}: {s.seconds:.1f} s under the profiler; "
              f"top {top} by cumulative time ===")
        stats = pstats.Stats(str(out))
        stats.sort_stats("cumulative").print_stats(top)
        if serial:
            print("=== same run, top 15 by own time ===")
            stats.sort_stats("tottime").print_stats(15)
        text = out.with_suffix(".txt")
        if text.exists():
            print(f"=== pyinstrument ({label}) ===")
            print(text.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=1000, help="number of units (forms)")
    ap.add_argument("--tasks", type=int, default=None,
                    help="number of plan tasks (default: 27 × 2–10 by N)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--workdir", type=Path, default=HERE / "work")
    ap.add_argument("--keep", action="store_true", help="keep the work directory afterwards")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse a kept workspace built with the same arguments")
    ap.add_argument("--period", default="2025-06")
    ap.add_argument("--wait-quiet", type=float, default=60, metavar="SECONDS",
                    help="before each run, wait up to this long for idle CPUs (0: never)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--sizes", default=None, help="e.g. 100,1000,10000: growth with N")
    ap.add_argument("--no-baseline", action="store_true",
                    help="with --sizes: skip the (slow) pandas baseline above 1,000 forms")
    ap.add_argument("--no-review", action="store_true",
                    help="skip building a year of history and timing `gkreport review`")
    ap.add_argument("--profile", action="store_true",
                    help="profile one gkreport consolidate instead of timing")
    ap.add_argument("--child", choices=("baseline", "floor", "profile", "phases", "plan", "fill",
                                        "year"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--serial", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "baseline":
        run_baseline(args.workdir, args.period)
        return 0
    if args.child == "floor":
        run_floor(args.workdir, args.period)
        return 0
    if args.child == "plan":
        make_plan(args.workdir, args.units, args.tasks, args.seed)
        return 0
    if args.child == "fill":
        fill(args.workdir, args.period, args.seed)
        return 0
    if args.child == "year":
        make_year(args.workdir, args.period, args.seed)
        return 0
    if args.child == "phases":
        run_phases(args.workdir, args.period, args.profile_out)
        return 0
    if args.child == "profile":
        run_profile(args.workdir, args.period, args.profile_out, args.serial)
        return 0

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "bench.log"
    print(f"bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}, log {log}", flush=True)
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [args.units]
    built: list[Workspace] = []
    try:
        if args.profile:
            ws = build_workspace(workdir / f"N{args.units}", units=args.units, tasks=args.tasks,
                                 period=args.period, seed=args.seed, reuse=args.reuse, log=log,
                                 year=False)
            built.append(ws)
            profile(ws, args.period, workdir, log)
            return 0
        results: list[tuple[Workspace, dict[str, Series]]] = []
        for n in sizes:
            print(f"\n[N = {n}] building the synthetic workspace", flush=True)
            ws = build_workspace(workdir / f"N{n}", units=n, tasks=args.tasks,
                                 period=args.period, seed=args.seed, reuse=args.reuse, log=log,
                                 year=not args.no_review)
            built.append(ws)
            names = list(MEASUREMENTS)
            if args.no_baseline and n > 1000:
                names.remove("baseline")
            if args.no_review:
                names.remove("review")
            series = run_rounds(ws, args.period, names, args.repeat, log, args.wait_quiet)
            print_table(ws, series)
            results.append((ws, series))
        if len(results) > 1:
            print_growth(results)
        print(bench_line(*results[-1]))
        return 0
    finally:
        if not args.keep:
            for ws in built:
                shutil.rmtree(ws.root, ignore_errors=True)
                shutil.rmtree(year_root(ws.root), ignore_errors=True)


def print_growth(results: list[tuple[Workspace, dict[str, Series]]]) -> None:
    print("growth with N (linear when ms/form stays flat):")
    print(f"{'forms':>7} {'rows':>8} {'gkreport s':>11} {'ms/form':>8} {'peak MiB':>9} "
          f"{'floor s':>8} {'baseline s':>11} {'forms s':>8} {'review s':>9}")
    for ws, s in results:
        g = s["gkreport"]
        base = f"{s['baseline'].seconds:11.2f}" if "baseline" in s else f"{'skipped':>11}"
        review = f"{s['review'].seconds:9.2f}" if "review" in s else f"{'skipped':>9}"
        print(f"{ws.files:7d} {ws.rows:8d} {g.seconds:11.2f} {1000 * g.seconds / ws.files:8.2f} "
              f"{g.peak_mib:9.0f} {s['floor'].seconds:8.2f} {base} "
              f"{s['forms'].seconds:8.2f} {review}")
    print()


if __name__ == "__main__":
    sys.exit(main())
