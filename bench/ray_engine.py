"""Ray engine benchmark: vgg_extract and embed_text with `engine: local` and `engine: ray`, on N movies.

    python -m bench.ray_engine [--movies 20000] [--repeats 2] [--workdir /tmp/ray-bench] [--rev REV]
                               [--no-two-nodes] [--output bench/results/ray_engine.json] [--report-only]

In a scratch copy of the project with `bench.scale`'s synthetic catalogue of N movies (built once in
--workdir, kept for later runs of the same N; fetch_list, fetch_posters and split_dataset run first),
the two feature stages run as their own processes, with the commands dvc.yaml gives them, on a cold
feature cache (emptied before every stage), engines interleaved: local, ray, local, ray, ... (`engine:
ray` on a local cluster the stage starts, `feature_engine.ray` as params.yaml sets it). Per stage:
the wall time and the CPU time of the stage's whole process tree (the Ray processes a local cluster
runs are its descendants): each process's own CPU time, sampled every 0.5 s (`TreeSampler`: Ray's
raylet ignores SIGCHLD, so its workers' CPU reaches no `getrusage(RUSAGE_CHILDREN)`), or the count
of a child subreaper that reaps every descendant where that is higher; and how it splits between the
stage's own process and the rest. The outputs' sha256 must be the same in every run, whichever
engine. Then (unless --no-two-nodes) both stages once more on a two-node cluster on this machine
(`ray start --head --port=P --num-cpus=2 --block`, `ray start --address=127.0.0.1:P --num-cpus=2
--block`, each in its own process group, ended by the benchmark; RAY_ADDRESS set for the stage;
actors: 2, cpus_per_actor: 1): the share of the batches each node computed (the stage's "ray: node X
computed N ... in B batches" lines), the CPU of the driver and of both nodes' processes, and the
outputs' bytes again. Both nodes share this machine's cores, so that run's times say nothing about
speed-up.

Figures go to --output (medians per engine and stage, ratio ray / local of wall and CPU time, target
<= 1.15), and a markdown table is printed. --rev runs a commit's code (`git archive REV`) instead of
the working tree's (as bench.scale does), e.g. while files are being edited.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import psutil

from bench.scale import prepare_copy, run_stages, source_revision, stage_commands
from movie_genres import paths
from tests.dvc_repo import set_params
from tests.ray_cluster import FEATURE_OUTPUTS, NO_AUTH, two_node_cluster

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ray_engine.json"
STAGES = ("vgg_extract", "embed_text")
UPSTREAM = re.compile("^(fetch_list|fetch_posters|split_dataset)$")
ENGINES = ("local", "ray")
RATIO_TARGET = 1.15
SAMPLE_S = 0.5
NODE_CPUS = 2
TWO_NODE_POOL = {"actors": 2, "cpus_per_actor": 1}
NODE_LINE = re.compile(r"ray: node (\S+) computed (\d+) \S+ in (\d+) batches")

# Runs the command in argv[2:] and writes to argv[1] the CPU seconds of it and of the descendants
# whose time reached it. As a child subreaper it inherits every orphan (Ray's processes outlive their
# parents in any order) and reaps them all before it reads RUSAGE_CHILDREN (a raylet's workers are
# still missed: see TreeSampler). Descendants still alive LINGER_S after the command ended are
# killed (and counted) and reported.
LAUNCHER = """
import ctypes, os, resource, signal, sys, time
LINGER_S = 60
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, _ = os.wait4(pid, 0)
deadline, killed = time.monotonic() + LINGER_S, 0
while True:
    try:
        reaped, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if reaped == 0 and time.monotonic() > deadline:
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        deadline = time.monotonic() + LINGER_S
    if reaped == 0:
        time.sleep(0.05)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_utime + usage.ru_stime} {killed}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class StageRun:
    wall_s: float
    cpu_s: float  # the stage's processes (a local cluster's Ray processes and workers) and a cluster's nodes
    stage_process_cpu_s: float  # of that, the stage's own process
    other_processes_cpu_s: float  # the rest: Ray's processes and workers
    lingering_killed: int  # descendants still alive a minute after the stage ended (0 expected)
    nodes: list[dict] = field(default_factory=list)  # engine ray: per node, items and batches computed


class TreeSampler:
    """CPU seconds (user + system) the processes of some trees used since the sampler started: each
    process's own time as last seen (sampled every SAMPLE_S by `run`, in a thread).

    Sampled, because `getrusage` misses Ray's workers: the raylet ignores SIGCHLD, so the kernel reaps
    its workers itself and their CPU time reaches no parent's RUSAGE_CHILDREN. A process's last
    SAMPLE_S before it ends is missed (an actor is idle by then), and so is one that lives less.
    """

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self._sample()
        self.baseline = dict(self.last)  # what the processes already running had used before

    def _sample(self) -> None:
        for root in self.roots:
            try:
                leader = psutil.Process(root)
                members = [leader, *leader.children(recursive=True)]
            except psutil.Error:
                continue
            for member in members:
                try:
                    t = member.cpu_times()
                except psutil.Error:
                    continue
                self.last[member.pid] = t.user + t.system

    def run(self) -> None:
        while not self.done.wait(SAMPLE_S):
            self._sample()

    def used(self, pid: int | None = None) -> float:
        """Of every process seen, or of `pid` alone."""
        pids = list(self.last) if pid is None else [pid]
        return sum(self.last.get(p, 0.0) - self.baseline.get(p, 0.0) for p in pids)


def run_measured(
    argv: list[str], cwd: Path, env: dict[str, str], log_path: Path, cluster: list[int] | None = None
) -> StageRun:
    """Run one stage command as a fresh process under the launcher; its wall and CPU time, that of
    every process it started, and that of the processes of `cluster` (the leaders of the Ray nodes
    it attaches to) while it ran."""
    usage_path = log_path.with_suffix(".usage")
    nodes_sampler = TreeSampler(cluster or [])
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        launched = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(usage_path), *argv]
        child = subprocess.Popen(launched, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        tree_sampler = TreeSampler([child.pid])
        samplers = (tree_sampler, nodes_sampler)
        threads = [threading.Thread(target=sampler.run, daemon=True) for sampler in samplers]
        for thread in threads:
            thread.start()
        child.wait()
        for sampler in samplers:
            sampler.done.set()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - start
    text = log_path.read_text(errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed (exit {child.returncode}); end of {log_path}:\n{text[-3000:]}")
    counted, killed = usage_path.read_text().split()
    stage = min((pid for pid in tree_sampler.last if pid != child.pid), default=None)  # the launcher's child
    own = tree_sampler.used(stage) if stage is not None else 0.0
    # getrusage counts the processes too short-lived for sampling, sampling the workers it misses
    cpu_s = max(float(counted), tree_sampler.used()) + nodes_sampler.used()
    nodes = [
        {"node": m.group(1), "items": int(m.group(2)), "batches": int(m.group(3))} for m in NODE_LINE.finditer(text)
    ]
    return StageRun(round(wall, 2), round(cpu_s, 2), round(own, 1), round(cpu_s - own, 1), int(killed), nodes)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_env(repo: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(repo / "src"),
        **NO_AUTH,
        **(extra or {}),
    }
    if extra is None or "RAY_ADDRESS" not in extra:
        env.pop("RAY_ADDRESS", None)  # engine ray: a local cluster of its own
    return env


def run_engine(
    repo: Path,
    cache: Path,
    engine: str,
    label: str,
    env: dict[str, str],
    pool: dict | None = None,
    cluster: list[int] | None = None,
) -> dict:
    """Both stages with `engine`, each on an empty feature cache; figures and the outputs' sha256.
    `pool`: feature_engine.ray settings to change; `cluster`: the node processes (see `run_measured`)."""
    values: dict[tuple[str, ...], object] = {("feature_engine", "engine"): engine, ("feature_cache", "dir"): str(cache)}
    values.update({("feature_engine", "ray", key): value for key, value in (pool or {}).items()})
    set_params(repo, values)
    commands = dict(stage_commands(repo))
    run: dict = {"engine": engine, "load_average_before": round(os.getloadavg()[0], 2), "stages": {}, "outputs": {}}
    for stage in STAGES:
        shutil.rmtree(cache, ignore_errors=True)
        for output in FEATURE_OUTPUTS[stage]:
            (repo / output).unlink(missing_ok=True)
        result = run_measured(commands[stage], repo, env, repo / "logs" / f"{label}-{stage}.log", cluster)
        run["stages"][stage] = asdict(result)
        run["outputs"].update({str(output): sha256(repo / output) for output in FEATURE_OUTPUTS[stage]})
        shares = ", ".join(f"{n['items']} in {n['batches']} batches" for n in result.nodes)
        print(
            f"  {label:10} {stage:12} wall {result.wall_s:7.1f} s  cpu {result.cpu_s:7.1f} s "
            f"(stage {result.stage_process_cpu_s:.0f} s, others {result.other_processes_cpu_s:.0f} s)"
            + (f"  nodes: {shares}" if engine == "ray" else ""),
            flush=True,
        )
    run["load_average_after"] = round(os.getloadavg()[0], 2)
    return run


# --- The two-node cluster ---------------------------------------------------------------------------


def run_two_nodes(repo: Path, cache: Path) -> dict:
    """Both stages on a head node and a worker node of NODE_CPUS logical CPUs each, on this machine."""
    with two_node_cluster(stage_env(repo), NODE_CPUS, repo / "logs") as (address, pids):
        env = stage_env(repo, {"RAY_ADDRESS": address})
        run = run_engine(repo, cache, "ray", "two-nodes", env, TWO_NODE_POOL, pids)
    run["cluster"] = {"nodes": 2, "cpus_per_node": NODE_CPUS, "pool": TWO_NODE_POOL}
    for stage in run["stages"].values():
        total = sum(node["batches"] for node in stage["nodes"])
        for node in stage["nodes"]:
            node["batch_share"] = round(node["batches"] / total, 3) if total else None
    return run


# --- Figures ----------------------------------------------------------------------------------------


def medians(runs: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per engine, per stage and for both stages together, the median wall and CPU time."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for engine in ENGINES:
        mine = [run for run in runs if run["engine"] == engine]
        if not mine:
            continue
        table[engine] = {}
        for stage in (*STAGES, "both"):
            figures = {}
            for key in ("wall_s", "cpu_s"):
                values = [
                    sum(r["stages"][s][key] for s in STAGES) if stage == "both" else r["stages"][stage][key]
                    for r in mine
                ]
                figures[key] = round(statistics.median(values), 1)
            table[engine][stage] = figures
    return table


def ratios(median: dict) -> dict[str, dict[str, float]]:
    if not all(engine in median for engine in ENGINES):
        return {}
    return {
        stage: {
            key[:-2]: round(median["ray"][stage][key] / median["local"][stage][key], 3) for key in ("wall_s", "cpu_s")
        }
        for stage in median["local"]
    }


def identical_outputs(runs: list[dict]) -> dict[str, bool]:
    """Per output file: whether every run (both engines, the two-node run) wrote the same bytes."""
    names = {name for run in runs for name in run["outputs"]}
    return {name: len({run["outputs"].get(name) for run in runs}) == 1 for name in sorted(names)}


def format_table(document: dict) -> str:
    median, ratio = document["medians"], document["ratios"]
    runs = document["runs"]
    count = {engine: sum(run["engine"] == engine for run in runs) for engine in ENGINES}
    lines = [
        f"| stage (N = {document['movies']:,}) | local: wall (CPU), median of {count['local']} "
        f"| ray: wall (CPU), median of {count['ray']} | ray / local: wall | ray / local: CPU |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for stage in (*STAGES, "both"):
        cells = [stage]
        for engine in ENGINES:
            figures = median.get(engine, {}).get(stage)
            cells.append(f"{figures['wall_s']:,.1f} s ({figures['cpu_s']:,.1f} s)" if figures else "")
        r = ratio.get(stage)
        cells += [f"{r['wall']:.2f}x", f"{r['cpu']:.2f}x"] if r else ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    two = document.get("two_nodes")
    if two:
        lines.append("")
        lines.append(f"two nodes ({two['cluster']['cpus_per_node']} logical CPUs each, one machine), batches per node:")
        for stage, result in two["stages"].items():
            shares = ", ".join(f"{n['node'][:8]}: {n['batches']} ({n['batch_share']:.0%})" for n in result["nodes"])
            lines.append(f"- {stage}: {shares}; wall {result['wall_s']:.0f} s")
    identical = document["identical_outputs"]
    lines.append("")
    lines.append(
        "outputs byte-identical across all runs: "
        + ("yes" if all(identical.values()) else "NO: " + ", ".join(k for k, v in identical.items() if not v))
    )
    return "\n".join(lines)


# --- The command ------------------------------------------------------------------------------------


def overlay_revision(repo: Path, rev: str) -> None:
    """The code and settings of commit `rev` in the copy, in place of the working tree's."""
    names = ["src", "stages", "dvc.yaml", "params.yaml", "paths.yaml"]
    archive = subprocess.run(["git", "archive", rev, *names], cwd=ROOT, capture_output=True, check=True).stdout
    for name in ("src", "stages"):
        shutil.rmtree(repo / name)
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies", type=int, default=20_000, help="catalogue size (bench.scale's catalogue)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per engine, interleaved")
    parser.add_argument("--seed", type=int, default=0, help="seeds the catalogue (not the pipeline)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ray-bench"), help="the copy (catalogue kept)")
    parser.add_argument("--rev", help="run this commit's code, not the working tree's")
    parser.add_argument("--no-two-nodes", action="store_true", help="skip the two-node run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--report-only", action="store_true", help="print the table of --output, run nothing")
    args = parser.parse_args()
    if args.report_only:
        print(format_table(json.loads(args.output.read_text())))
        return
    if args.rev:
        commit = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=ROOT, capture_output=True, text=True)
        revision = commit.stdout.strip()
    else:
        revision = source_revision()
    repo = args.workdir / f"n{args.movies}"
    cache = args.workdir / "feature-cache"
    print(f"== N = {args.movies:,}: the catalogue in {repo}", flush=True)
    built_s = prepare_copy(repo, args.movies, args.seed, {})
    if args.rev:
        overlay_revision(repo, args.rev)
    print(f"  catalogue built in {built_s:.0f} s" if built_s else "  catalogue kept from an earlier run", flush=True)
    run_stages(repo, UPSTREAM)
    document: dict = {
        "command": "python -m bench.ray_engine " + shlex.join(sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "commit": revision,
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
            "processor": platform.processor() or platform.machine(),
        },
        "movies": args.movies,
        "modelled": len(pd.read_parquet(repo / paths.DATASET, columns=["movie_id"])),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "runs": [],
    }

    def write() -> None:
        document["medians"] = medians(document["runs"])
        document["ratios"] = ratios(document["medians"])
        document["ratio_target"] = RATIO_TARGET
        all_runs = document["runs"] + ([document["two_nodes"]] if "two_nodes" in document else [])
        document["identical_outputs"] = identical_outputs(all_runs)
        document["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(document, indent=2) + "\n")

    for repeat in range(1, args.repeats + 1):
        for engine in ENGINES:
            run = run_engine(repo, cache, engine, f"{engine}-{repeat}", stage_env(repo))
            document["runs"].append({"repeat": repeat, **run})
            write()
    if not args.no_two_nodes:
        document["two_nodes"] = run_two_nodes(repo, cache)
        write()
    print(f"\n{args.output}:")
    print(format_table(document))


if __name__ == "__main__":
    main()
