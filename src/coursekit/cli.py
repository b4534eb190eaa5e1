"""The ``coursekit`` command: list, regenerate, figures, data.

    coursekit list                                  experiments, their cost per profile, what is stored
    coursekit regenerate --profile quick --chapter intro [--force]
    coursekit regenerate --profile full --plan gpu --time-limit 8m
    coursekit figures --out slides/ --format png,svg,pdf
    coursekit data                                  download (or find) the data sets and say where
"""
from __future__ import annotations

import argparse
import errno
import signal
import sys

from . import data, experiments, figures, plan, profiles, store


def cmd_list(args: argparse.Namespace) -> int:
    def warn(message: str) -> None:  # a bad file in the store is named, and the rest still listed
        print(f"coursekit list: warning: {message}", file=sys.stderr)

    stored = {(r["experiment"], r["profile"]): r for r in store.stored(warn=warn)}
    for name, exp in experiments.EXPERIMENTS.items():
        print(f"{name}  (chapter {exp.chapter}): {exp.title}")
        for profile in profiles.PROFILES:
            if profile not in exp.profiles:
                print(f"    {profile:<6} (not in this profile: {', '.join(exp.profiles)} only)")
                continue
            line = f"    {profile:<6} {experiments.profile_cost(name, profile)}"
            result = stored.get((name, profile))
            if result is not None:
                current = result["config_hash"] == store.config_hash(experiments.config(name, profile))
                changed = experiments.core.changed_inputs(result)
                p = result["provenance"]
                line += (f"  | stored {p['date'][:16]} on {p['device']}, {store.duration(p['wall_seconds'])}, "
                         f"{store.headline(result)}"
                         + ("" if current else "  (stale: configuration changed)")
                         + (f"  (stale: made from {', '.join(changed)}, which changed since)" if changed else ""))
            elif profile != "ci":
                line += "  | not stored"
            print(line)
    for profile in ("quick", "full"):
        print(cost_summary([r for (name, p), r in stored.items() if p == profile and name in experiments.EXPERIMENTS],
                           profile))
    print(f"results directory: {store.results_dir()}")
    return 0


def cost_summary(results: list[dict], profile: str) -> str:
    """One line: the wall time of the stored ``profile`` results, in all and by chapter."""
    if not results:
        return f"{profile}: nothing stored"
    chapters: dict[str, float] = {}
    for r in results:
        chapters[r["chapter"]] = chapters.get(r["chapter"], 0.0) + r["provenance"]["wall_seconds"]
    by_chapter = ", ".join(f"{c} {store.duration(s)}" for c, s in chapters.items())
    return (f"{profile}: {len(results)} stored results took {store.duration(sum(chapters.values()))} "
            f"of wall time ({by_chapter})")


def cmd_regenerate(args: argparse.Namespace) -> int:
    profile = profiles.current(args.profile)
    if args.time_limit and not args.plan:
        print("--time-limit goes with --plan (e.g. --plan gpu --time-limit 8m)", file=sys.stderr)
        return 2
    if args.plan:
        try:
            limit = plan.parse_duration(args.time_limit) if args.time_limit else None
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        print(profiles.banner(profile))
        steps = plan.run(args.plan, profile, limit, force=args.force)
        print(plan.report(steps))
        failed = [s.name for s in steps if s.status == "failed"]
        if failed:  # a script (the GPU window's, CI) must be able to tell a wasted window
            print(f"{len(failed)} of the plan's experiments failed: {', '.join(failed)} (their lines above say why)",
                  file=sys.stderr)
            return 1
        return 0
    if args.experiment:
        names = [experiments.get(args.experiment).name]
    else:
        names = [n for n, e in experiments.EXPERIMENTS.items() if not args.chapter or e.chapter == args.chapter]
        if not names:
            chapters = sorted({e.chapter for e in experiments.EXPERIMENTS.values()})
            print(f"no experiment belongs to chapter {args.chapter!r}; chapters: {', '.join(chapters)}",
                  file=sys.stderr)
            return 2
    print(profiles.banner(profile))
    if not args.experiment:  # a chapter's experiments that this profile does not run are skipped, and said so
        skipped = [n for n in names if profile not in experiments.get(n).profiles]
        for n in skipped:
            print(f"{n}: skipped (runs only in {', '.join(experiments.get(n).profiles)})")
        names = [n for n in names if n not in skipped]
    for name in names:
        result = experiments.run(name, profile, force=args.force)
        print(f"{name}: {store.headline(result)}  ({result['provenance']['wall_seconds']:.0f} s, {result['provenance']['date']})")
    return 0


FORMATS = ("png", "svg", "pdf")


def cmd_figures(args: argparse.Namespace) -> int:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in args.format.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        problem = f"unknown format(s) {', '.join(unknown)}" if unknown else f"no format in --format {args.format!r}"
        print(f"coursekit figures: {problem}; choose from {', '.join(FORMATS)} (comma-separated, e.g. png,pdf)",
              file=sys.stderr)
        return 2
    written, skipped = figures.export(args.out, formats, profile=args.profile, names=args.name or None)
    for path in written:
        print(path)
    for name, why in skipped.items():
        spec = figures.FIGURES[name]
        hint = (f"run `coursekit regenerate --profile {profiles.current(args.profile)} --chapter {spec.chapter}`"
                if why.startswith(("no stored result", "the stored result")) else
                "run `coursekit data`, or place the data set offline")
        print(f"skipped {name}: {why} ({hint})", file=sys.stderr)
    return 0 if written or not skipped else 1


# Small downloads that `coursekit data` fetches ahead of the book build (the pretrained chapter's photos).
OPTIONAL_DOWNLOADS = ("hymenoptera",)


def cmd_data(args: argparse.Namespace) -> int:
    print(f"data root: {data.data_root()}  (set COURSEKIT_DATA to change it)")
    for train in (True, False):  # every chapter but one needs CIFAR-10
        ds = data.load_cifar10(train=train, download=not args.offline)
        src = ds.source
        print(f"CIFAR-10 {'train' if train else 'test'}: {len(ds):,} images from {src['path']} "
              f"({src.get('description', src['kind'])}, fingerprint {src['fingerprint']})")
    for train in (True, False):  # the detection chapter's digits
        ds = data.load_mnist(train=train, download=not args.offline)
        print(f"MNIST {'train' if train else 'test'}: {len(ds):,} images from {ds.source['path']} "
              f"({ds.source.get('description', ds.source['kind'])}, fingerprint {ds.source['fingerprint']})")
    for name in data.FOLDER_DATASETS:  # used by some demonstrations; a chapter says when one is missing
        folder = data.data_root() / data.FOLDER_DATASETS[name].folder
        if not folder.is_dir() and name in OPTIONAL_DOWNLOADS and not args.offline:
            try:
                data.load_folder_dataset(name, next(iter(data.FOLDER_DATASETS[name].splits)), image_size=8)
            except data.DataNotFoundError as err:
                print(f"{name}: not available ({str(err).splitlines()[0]})")
        print(f"{name}: {'found in ' + str(folder) if folder.is_dir() else 'not on disk'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description="Run and store the course's experiments.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="experiments, their cost per profile, and what is stored").set_defaults(func=cmd_list)

    p = sub.add_parser("regenerate", help="run experiments and store their results")
    p.add_argument("--profile", choices=profiles.PROFILES, help="default: $COURSEKIT_PROFILE or quick")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--chapter", help="every experiment of this chapter (e.g. intro)")
    which.add_argument("--experiment", help="one experiment (see `coursekit list`)")
    which.add_argument("--plan", choices=list(plan.PLANS),
                       help="a plan for a short GPU window: its experiments in order of value, each stored when done")
    p.add_argument("--time-limit", help="with --plan: stop what would overrun this (e.g. 8m, 90s)")
    p.add_argument("--force", action="store_true", help="train even when a result is stored")
    p.set_defaults(func=cmd_regenerate)

    p = sub.add_parser("figures", help="export the named figures for slides")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--format", default="png", help="comma-separated: png,svg,pdf (default png)")
    p.add_argument("--profile", choices=profiles.PROFILES, help="whose stored results to draw")
    p.add_argument("--name", action="append", choices=list(figures.FIGURES), help="only this figure (repeatable)")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("data", help="download or check the data sets and report where they are")
    p.add_argument("--offline", action="store_true", help="only look on disk; never download")
    p.set_defaults(func=cmd_data)
    return parser


# What to do about a system error, by its errno.
OS_ERROR_HINTS = {
    errno.ENOSPC: "free some space, or write elsewhere",
    errno.EDQUOT: "free some space, or write elsewhere",
    errno.EACCES: "check its permissions, or write elsewhere",
    errno.EPERM: "check its permissions, or write elsewhere",
    errno.EROFS: "the disk is read-only; write elsewhere",
}


def error_message(error: Exception) -> str:
    """What went wrong, for one line: a system error as ``file: what (what to do)``, a KeyError
    without the quotes Python adds, anything else as its message."""
    if isinstance(error, OSError) and error.errno is not None and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        hint = OS_ERROR_HINTS.get(error.errno)
        return f"{where}{error.strerror}" + (f" ({hint})" if hint else "")
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error)


def main(argv: list[str] | None = None) -> int:
    """Run a command. An error it expects (missing data, a bad stored result, a full disk, ...) is
    reported as one line, ``coursekit <command>: <message>``, without a traceback, and exits 1. A
    SIGTERM (a batch system's stop, ``kill``) is handled as Ctrl-C: the run's state and time are saved."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _stop_as_interrupt)
    try:
        return args.func(args)
    except (OSError, RuntimeError, LookupError, ValueError) as err:  # store.BadResultError is a ValueError
        print(f"coursekit {args.command}: {error_message(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    sys.exit(main())
