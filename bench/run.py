"""`make bench`: verify.yml against the runbook's own shell commands, over a simulated network.

    make bench                                     # the defaults below
    BENCH_FLEET=1,3 BENCH_PAIRS=2 make bench       # a short run while developing

Starts the reference stack (tests/stack) and a TCP proxy of its own that adds a round trip time
(bench/latency_proxy.py) in front of the API, PostgreSQL, Prometheus and the Sentry stand-in, then:

1. loopback: the runbook's commands (bench/runbook_all_sections.sh) and verify.yml straight
   against the stack, alternately;
2. pairs: the same two through the proxy, alternately; medians and the median of the pair-by-pair
   ratios verify/shell;
3. agreement: for every row the shell script judges (its ``ROW <id> PASS|FAIL`` lines), its verdict
   equals the row's status in checklist.json (WARN counts as PASS), on the healthy stack (every run)
   and once on a faulted stack (BENCH_FAULTS);
4. fleet: verify.yml across N environments in one run, each its own group and URL (the proxy
   listening on 127.0.1.<n>, all forwarding to the one stack): wall time, wall(N)/wall(1), the
   controller's peak RSS (the ansible-playbook process tree, Chromium included, from /proc every
   0.2 s) and the rows that were PASS/WARN at 1 and are not at N;
5. the retrospective soak timing of bench/soak.py;

and writes bench/RESULTS.md. The exit status is 1 when the shell and the checklist disagree (rows
named) or a run could not be measured, 2 for bad settings or a stack that does not start.

Settings (environment):
  BENCH_RTT_MS          round trip time of the proxy in ms (100; 0: no proxy, the pairs run on loopback)
  BENCH_PAIRS           shell/verify pairs through the proxy (5)
  BENCH_LOOPBACK_RUNS   shell/verify pairs on loopback (3; 0 skips)
  BENCH_FLEET           fleet sizes (1,10,50; empty or 0 skips)
  BENCH_FAULTS          faults of the agreement run on a faulted stack (see DEFAULT_FAULTS; empty skips)
  BENCH_SOAK_ROUNDS     rounds of bench/soak.py (3; 0 skips)
  BENCH_TIMEOUT         seconds one playbook run may take (3600)
  BENCH_VERIFY_ARGS     more ansible-playbook arguments for every verify run
  BENCH_RESULTS         the report (bench/RESULTS.md)
  BENCH_KEEP            1 keeps the work directory (logs, evidence, inventories)
  SOLVEREIGN_STACK_*    the stack's state dir and ports (tests/stack/README.md)
"""

import configparser
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, ROOT)
sys.path.insert(1, BENCH)

from latency_proxy import LatencyProxy, Mapping, ProxyError  # noqa: E402
from tests.stack import faults as stack_faults  # noqa: E402
from tests.stack import stackctl  # noqa: E402
from tests.stack.origin import ORIGIN_FAULTS  # noqa: E402

BIN = os.path.dirname(sys.executable)
SHELL_SCRIPT = os.path.join(BENCH, "runbook_all_sections.sh")
SERVICES = ("api", "postgresql", "prometheus", "sentry")
# Faults the runbook's shell criteria catch, one or more per section; each changes one behaviour.
DEFAULT_FAULTS = ("tag_wrong_message,wrong_version,ready_503,missing_xfo,cookie_no_httponly,failed_login_sets_cookie,"
                  "sendgrid_accepts_bad_signature,billing_missing,migration_039,rls_disabled_plans,rbac_12_of_13")
PASSING = ("PASS", "WARN")
SAMPLE_INTERVAL = 0.2
PROGRESS_INTERVAL = 30.0
GOALS = {"ratio": 1.0, "stretch_ratio": 0.5, "loopback_s": 8.0, "fleet_ratio": 3.0, "fleet_rss_mb": 2048.0}


class BenchError(Exception):
    """A run that could not be measured; the message says why."""


def log(message=""):
    print(message, flush=True)


# ------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------
def _number(name, default, cast=int, minimum=0):
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = cast(raw)
    except ValueError:
        raise BenchError("%s must be a number, got %r" % (name, raw))
    if value < minimum:
        raise BenchError("%s must be at least %s, got %r" % (name, minimum, raw))
    return value


def settings():
    fleet_raw = os.environ.get("BENCH_FLEET", "1,10,50").strip()
    fleet = []
    for part in fleet_raw.split(","):
        part = part.strip()
        if not part or part == "0":
            continue
        if not part.isdigit() or not 1 <= int(part) <= 250:
            raise BenchError("BENCH_FLEET must list sizes from 1 to 250, e.g. 1,10,50; got %r" % fleet_raw)
        fleet.append(int(part))
    faults = [f.strip() for f in os.environ.get("BENCH_FAULTS", DEFAULT_FAULTS).split(",") if f.strip()]
    origin = [f for f in faults if f in ORIGIN_FAULTS]
    try:
        api, db = stack_faults.split_faults([f for f in faults if f not in ORIGIN_FAULTS])
    except ValueError as exc:
        raise BenchError("BENCH_FAULTS: %s; origin faults: %s" % (exc, ", ".join(ORIGIN_FAULTS)))
    results = os.environ.get("BENCH_RESULTS", "").strip() or os.path.join(BENCH, "RESULTS.md")
    return {
        "rtt_ms": _number("BENCH_RTT_MS", 100, float),
        "pairs": _number("BENCH_PAIRS", 5, minimum=1),
        "loopback_runs": _number("BENCH_LOOPBACK_RUNS", 3),
        "fleet": sorted(set(fleet)),
        "faults": {"api": list(api), "db": list(db), "origin": origin},
        "soak_rounds": _number("BENCH_SOAK_ROUNDS", 3),
        "timeout": _number("BENCH_TIMEOUT", 3600, minimum=10),
        "verify_args": shlex.split(os.environ.get("BENCH_VERIFY_ARGS", "")),
        "results": os.path.abspath(results),
        "keep": os.environ.get("BENCH_KEEP", "") in ("1", "true", "yes"),
    }


# ------------------------------------------------------------------------------------------
# Measuring a process: wall time and the peak RSS of its process tree
# ------------------------------------------------------------------------------------------
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    """{pid: (ppid, comm, own CPU s, CPU s of its reaped children)} of every process readable in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[11:15]: utime, stime, cutime, cstime (stat fields 14-17), in clock ticks.
        table[int(entry)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / float(CLOCK_TICKS),
                             (int(fields[13]) + int(fields[14])) / float(CLOCK_TICKS))
    return table


def tree_cpu_s(root, table=None):
    """CPU seconds of root's process tree as it stands: every live process's own and its reaped children's."""
    table = table or _processes()
    children = {}
    for pid, entry in table.items():
        children.setdefault(entry[0], []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][2] + table[pid][3]
            todo.extend(children.get(pid, ()))
    return total


def stack_cpu_s():
    """{component: CPU seconds of its process tree} of the reference stack's running components."""
    readings = {}
    try:
        status = stackctl.status()
    except (stackctl.StackError, OSError):
        return readings
    table = _processes()
    for component in ("api", "db", "prometheus", "sentry"):
        pid = (status.get(component) or {}).get("pid")
        if pid:
            readings[component] = tree_cpu_s(pid, table)
    return readings


def tree_rss(root, table=None):
    """(bytes of resident memory summed over root and its descendants, {comm: bytes}, [pids])."""
    table = table or _processes()
    children = {}
    for pid, entry in table.items():
        children.setdefault(entry[0], []).append(pid)
    total, by_name, todo, pids = 0, {}, [root], []
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open("/proc/%d/statm" % pid) as handle:
                resident = int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
        pids.append(pid)
        total += resident
        name = table.get(pid, (0, "?"))[1]
        by_name[name] = by_name.get(name, 0) + resident
    return total, by_name, pids


def tree_pss(pids):
    """Proportional set size summed over pids (shared pages divided among the processes sharing them)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                match = re.search(r"^Pss:\s+(\d+) kB", handle.read(), re.M)
        except OSError:
            continue
        if match:
            total += int(match.group(1)) * 1024
    return total


def machine_busy_s():
    """CPU seconds every core of the machine spent busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, dummy_idle, dummy_iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return float(user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _cpu_s(usage):
    return usage.ru_utime + usage.ru_stime


def _last_task(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 65536))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    tasks = re.findall(r"^TASK \[([^\]]*)\]", tail, re.M)
    return tasks[-1] if tasks else ""


def run_measured(cmd, env, log_path, timeout, label=None, stack=False):
    """Run cmd (output to log_path); wall time, exit code, peak RSS of its tree, progress for label;
    with ``stack`` also the CPU of each of the reference stack's components."""
    result = {"peak_rss": 0, "peak_by_name": {}, "peak_pss": 0}
    # CPU: the machine's, the tree's (its processes are reaped by the time it ends, so their time is
    # in this process's children) and this process's own (the latency proxy's threads).
    busy_before, children_before = machine_busy_s(), _cpu_s(resource.getrusage(resource.RUSAGE_CHILDREN))
    own_before = _cpu_s(resource.getrusage(resource.RUSAGE_SELF))
    stack_before, chromium = stack_cpu_s() if stack else {}, {}
    with open(log_path, "wb") as output:
        started_wall = time.time()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)
        next_progress = started + PROGRESS_INTERVAL
        while True:
            try:
                proc.wait(SAMPLE_INTERVAL)
                break
            except subprocess.TimeoutExpired:
                pass
            table = _processes()
            total, by_name, pids = tree_rss(proc.pid, table)
            for pid in pids:
                # Chromium's processes, each read until it ends (its last 0.2 s may be missed).
                if table[pid][1].startswith(("chrom", "headless_shell")):
                    chromium[pid] = table[pid][2]
            if total > result["peak_rss"]:
                result["peak_rss"], result["peak_by_name"] = total, by_name
                # PSS costs more to read: taken again only when the RSS peak grew by 5 %.
                if total > 1.05 * result.get("pss_at_rss", 0):
                    result["pss_at_rss"], result["peak_pss"] = total, tree_pss(pids)
            now = time.monotonic()
            if now - started > timeout:
                os.killpg(proc.pid, 9)
                proc.wait()
                raise BenchError("%s did not finish within %d s (BENCH_TIMEOUT); log: %s"
                                 % (" ".join(cmd[:2]), timeout, log_path))
            if label and now >= next_progress:
                log("    %s: %4.0f s, %s" % (label, now - started, _last_task(log_path) or "starting"))
                next_progress = now + PROGRESS_INTERVAL
        result.update(wall_s=time.monotonic() - started, rc=proc.returncode, started=started_wall, log=log_path)
    busy_after = machine_busy_s()
    stack_after = stack_cpu_s() if stack else {}
    result["cpu_stack_s"] = dict((name, stack_after[name] - stack_before[name])
                                 for name in stack_after if name in stack_before)
    result["cpu_chromium_s"] = sum(chromium.values())
    result.update(cpu_tree_s=_cpu_s(resource.getrusage(resource.RUSAGE_CHILDREN)) - children_before,
                  cpu_bench_s=_cpu_s(resource.getrusage(resource.RUSAGE_SELF)) - own_before,
                  cpu_machine_s=(busy_after - busy_before) if busy_before is not None and busy_after is not None
                  else None, cores=os.cpu_count() or 1)
    return result


# ------------------------------------------------------------------------------------------
# Targets, inventories, the two contestants
# ------------------------------------------------------------------------------------------
def stack_targets(info):
    """{service: (host, port)} of the running stack."""
    targets = {"api": ("127.0.0.1", int(info["api_port"])), "postgresql": ("127.0.0.1", int(info["pg_port"])),
               "prometheus": ("127.0.0.1", int(info["prometheus_port"]))}
    match = re.match(r"^http://([0-9.]+):([0-9]+)$", info.get("sentry_url") or "")
    if match:
        targets["sentry"] = (match.group(1), int(match.group(2)))
    return targets


def endpoints(info, addresses):
    """URLs and DSN of one environment whose services are at ``addresses`` ({service: (host, port)})."""
    api, pg, prometheus = addresses["api"], addresses["postgresql"], addresses["prometheus"]
    database_url = re.sub(r"@127\.0\.0\.1:%d/" % int(info["pg_port"]), "@%s:%d/" % pg, info["database_url"])
    if database_url == info["database_url"] and pg != ("127.0.0.1", int(info["pg_port"])):
        raise BenchError("cannot point the DSN %s at the proxy" % re.sub(r":[^:@/]*@", ":***@", database_url))
    sentry = addresses.get("sentry")
    return {"url": "http://%s:%d" % api, "database_url": database_url,
            "prometheus_url": "http://%s:%d" % prometheus, "sentry_url": "http://%s:%d" % sentry if sentry else ""}


def environment_vars(info, environment, urls):
    """group_vars of one environment, as inventories/local sets them for the stack."""
    private_key = info.get("sendgrid_private_key_path") or ""
    return {
        "solvereign_environment": environment,
        "solvereign_url": urls["url"],
        "solvereign_release_version": str(info["release_version"]),
        "solvereign_release_commit": str(info["release_commit"])[:7],
        "solvereign_release_tag": "v%s" % info["release_version"],
        "solvereign_git_repo": info["origin"],
        "solvereign_login_email": info["login_email"],
        "solvereign_login_password": info["login_password"],
        "solvereign_whatsapp_app_secret": info["whatsapp_app_secret"],
        "solvereign_whatsapp_verify_token": info["whatsapp_verify_token"],
        "solvereign_billing_webhook_secret": info["billing_webhook_secret"],
        "solvereign_sendgrid_test_private_key": (
            "{{ lookup('ansible.builtin.file', %s) }}" % json.dumps(private_key) if private_key else ""),
        "solvereign_tenant_id": info["tenant_id"],
        "solvereign_site_id": info["site_id"],
        "solvereign_database_url": urls["database_url"],
        "solvereign_prometheus_url": urls["prometheus_url"],
        "solvereign_prometheus_job": info["prometheus_job"],
        "solvereign_sentry_url": urls["sentry_url"],
        "solvereign_sentry_org": info["sentry_org"],
        "solvereign_sentry_project": info["sentry_project"],
        "solvereign_sentry_token": info["sentry_token"],
        "solvereign_log_containers": info.get("log_containers") or [],
        "solvereign_docker_host": info.get("docker_host") or "",
    }


def write_inventory(directory, info, environments):
    """An inventory of environments [(name, urls)]: group <name>, child of solvereign, one local host each."""
    os.makedirs(os.path.join(directory, "group_vars"), mode=0o700, exist_ok=True)
    children = {}
    for name, urls in environments:
        children[name] = {"hosts": {"%s-host" % name: {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
        with open(os.path.join(directory, "group_vars", "%s.yml" % name), "w") as handle:
            json.dump(environment_vars(info, name, urls), handle, indent=2)
    with open(os.path.join(directory, "hosts.yml"), "w") as handle:
        json.dump({"solvereign": {"children": children}}, handle, indent=2)
    return directory


def shell_env(info, urls):
    env = dict(os.environ, STAGING_URL=urls["url"], ORIGIN=info["origin"], DATABASE_URL=urls["database_url"],
               PROMETHEUS_URL=urls["prometheus_url"], SENTRY_URL=urls["sentry_url"], SENTRY_TOKEN=info["sentry_token"],
               SENTRY_ORG=info["sentry_org"], SENTRY_PROJECT=info["sentry_project"],
               STAGING_EMAIL=info["login_email"], STAGING_PASSWORD=info["login_password"],
               RELEASE_VERSION=str(info["release_version"]), RELEASE_TAG="v%s" % info["release_version"],
               RELEASE_COMMIT=str(info["release_commit"])[:7], PROMETHEUS_JOB=info["prometheus_job"])
    env.pop("DOCKER_HOST", None)
    env.pop("LOG_CONTAINER", None)
    if info.get("docker_host") and info.get("log_containers"):
        env.update(DOCKER_HOST=info["docker_host"], LOG_CONTAINER=info["log_containers"][0])
    return env


def shell_rows(log_path):
    rows = {}
    with open(log_path, errors="replace") as handle:
        for line in handle:
            match = re.match(r"^ROW (\S+) (PASS|FAIL)\b", line)
            if match:
                rows[match.group(1)] = match.group(2)
    return rows


def checklist_rows(evidence_dir):
    """{environment: {row id: status}} and the verdict of <evidence_dir>/checklist.json."""
    path = os.path.join(evidence_dir, "checklist.json")
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BenchError("verify wrote no readable checklist.json in %s (%s)" % (evidence_dir, exc))
    rows = {}
    for row in document.get("checks") or []:
        rows.setdefault(row.get("environment"), {})[str(row.get("id"))] = row
    return rows, document.get("verdict")


def disagreements(shell, rows):
    """Rows the shell judged whose PASS/FAIL differs from the checklist (WARN is PASS, ERROR is FAIL)."""
    found = []
    for row_id in sorted(shell, key=_row_key):
        status = (rows.get(row_id) or {}).get("status")
        mapped = "PASS" if status in PASSING else "FAIL" if status in ("FAIL", "ERROR") else status
        if mapped != shell[row_id]:
            found.append("%s: shell %s, checklist %s" % (row_id, shell[row_id], status or "no row"))
    return found


def _row_key(row_id):
    return tuple(int(p) if p.isdigit() else 0 for p in row_id.split("."))


class Bench:
    def __init__(self, options, work):
        self.options = options
        self.work = work
        self.info = None
        self.counter = 0
        self.problems = []

    # Contestants --------------------------------------------------------------------------
    def _next(self, kind):
        self.counter += 1
        return os.path.join(self.work, "%03d-%s" % (self.counter, kind))

    def run_shell(self, urls, proxy=None):
        base = self._next("shell")
        if proxy:
            proxy.reset_stats()
        result = run_measured(["bash", SHELL_SCRIPT], shell_env(self.info, urls), base + ".log",
                              self.options["timeout"])
        result["rows"] = shell_rows(base + ".log")
        result["proxy"] = proxy.stats() if proxy else None
        if not result["rows"]:
            raise BenchError("the shell baseline judged no row (exit %d); see %s" % (result["rc"], result["log"]))
        return result

    def run_verify(self, inventory, label=None, proxy=None, stack=False):
        base = self._next("verify")
        evidence = base + "-evidence"
        timing = base + "-timing.json"
        enabled = [c for c in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH, "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED=",".join(enabled + ["bench_timing"]), BENCH_TIMING_FILE=timing,
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        cmd = [os.path.join(BIN, "ansible-playbook"), "playbooks/verify.yml", "-i", inventory, "-e",
               json.dumps({"solvereign_evidence_dir": evidence, "checklist_print": False})]
        if proxy:
            proxy.reset_stats()
        result = run_measured(cmd + self.options["verify_args"], env, base + ".log", self.options["timeout"],
                              label=label, stack=stack)
        result["proxy"] = proxy.stats() if proxy else None
        result["rows"], result["verdict"] = checklist_rows(evidence)
        try:
            with open(timing) as handle:
                result["timing"] = json.load(handle)
        except (OSError, ValueError):
            result["timing"] = None
        return result

    # Phases -------------------------------------------------------------------------------
    def pairs(self, name, count, urls, proxy=None):
        inventory = write_inventory(self._next("inventory"), self.info, [("bench", urls)])
        runs = []
        for index in range(count):
            shell = self.run_shell(urls, proxy)
            verify = self.run_verify(inventory, proxy=proxy)
            problems = disagreements(shell["rows"], verify["rows"].get("bench", {}))
            if problems:
                self.problems.append("%s pair %d (healthy stack): %s" % (name, index + 1, "; ".join(problems)))
            runs.append({"shell": shell, "verify": verify, "disagreements": problems})
            log("  %-9s pair %d/%d: shell %6.2f s, verify %6.2f s (%.1fx), verdict %s, %d rows judged by both%s"
                % (name, index + 1, count, shell["wall_s"], verify["wall_s"], verify["wall_s"] / shell["wall_s"],
                   verify["verdict"], len(shell["rows"]), ", DISAGREE: " + "; ".join(problems) if problems else ""))
        return runs

    def faulted(self, urls, proxy=None):
        faults = self.options["faults"]
        names = faults["origin"] + faults["api"] + faults["db"]
        log("  faults: %s" % ", ".join(names))
        try:
            if faults["origin"]:
                stackctl.rebuild_origin(faults=faults["origin"])
            if faults["api"]:
                stackctl.restart_api(faults=faults["api"])
            if faults["db"]:
                stackctl.reset_db(faults=faults["db"])
            inventory = write_inventory(self._next("inventory"), self.info, [("bench", urls)])
            shell = self.run_shell(urls, proxy)
            verify = self.run_verify(inventory, proxy=proxy)
        finally:
            if faults["origin"]:
                stackctl.rebuild_origin()
            if faults["api"]:
                stackctl.restart_api()
            if faults["db"]:
                stackctl.reset_db()
        problems = disagreements(shell["rows"], verify["rows"].get("bench", {}))
        failing = sorted([r for r, v in shell["rows"].items() if v == "FAIL"], key=_row_key)
        if problems:
            self.problems.append("faulted stack (%s): %s" % (", ".join(names), "; ".join(problems)))
        if not failing:
            self.problems.append("faulted stack (%s): the shell judged every row PASS, so the faults proved "
                                 "nothing" % ", ".join(names))
        log("  faulted: shell FAIL on %s; verify verdict %s; %s"
            % (", ".join(failing) or "nothing", verify["verdict"],
               "DISAGREE: " + "; ".join(problems) if problems else "both agree on every row the shell judges"))
        return {"faults": names, "shell": shell, "verify": verify, "disagreements": problems, "failing": failing}

    def fleet(self, size):
        targets = stack_targets(self.info)
        services = [s for s in SERVICES if s in targets]
        mappings = []
        for index in range(1, size + 1):
            for service in services:
                mappings.append(Mapping("127.0.1.%d" % index, 0, *targets[service]))
        proxy = LatencyProxy(mappings, rtt_ms=self.options["rtt_ms"])
        proxy.start()
        try:
            environments = []
            for index in range(size):
                addresses = dict(zip(services, proxy.addresses[index * len(services):(index + 1) * len(services)]))
                environments.append(("fleet%02d" % (index + 1), endpoints(self.info, addresses)))
            inventory = write_inventory(self._next("inventory"), self.info, environments)
            result = self.run_verify(inventory, label="fleet %d" % size, proxy=proxy, stack=True)
        finally:
            proxy.stop()
        result["size"] = size
        log("  fleet %3d: %7.1f s, peak RSS %6.0f MB, verdict %s"
            % (size, result["wall_s"], result["peak_rss"] / 2.0 ** 20, result["verdict"]))
        return result


# ------------------------------------------------------------------------------------------
# Figures and the report
# ------------------------------------------------------------------------------------------
def median_of(runs, kind):
    return statistics.median(r[kind]["wall_s"] for r in runs) if runs else None


def median_ratio(runs):
    return statistics.median(r["verify"]["wall_s"] / r["shell"]["wall_s"] for r in runs) if runs else None


def fleet_regressions(results):
    """Rows PASS/WARN in the smallest fleet that are not PASS/WARN at a larger size: {size: [text]}."""
    if not results:
        return {}
    base = results[0]
    reference = {}
    for rows in base["rows"].values():
        for row_id, row in rows.items():
            if row.get("status") in PASSING:
                reference[row_id] = True
    found = {}
    for result in results:
        items = []
        for environment, rows in sorted(result["rows"].items()):
            for row_id, row in sorted(rows.items(), key=lambda kv: _row_key(kv[0])):
                if reference.get(row_id) and row.get("status") not in PASSING:
                    items.append("%s %s %s: %s" % (environment, row_id, row.get("status"),
                                                   (row.get("summary") or "")[:160]))
        missing = result["size"] - len(result["rows"])
        if missing > 0:
            items.append("%d environment(s) without any row" % missing)
        found[result["size"]] = items
    return found


def _version(cmd, pattern=r"(\d+(?:\.\d+)+\S*)"):
    try:
        output = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "not found"
    match = re.search(pattern, output)
    return match.group(1) if match else (output.strip().splitlines() or ["?"])[0]


def _forks():
    """The forks verify runs with: ANSIBLE_FORKS, else ansible.cfg, else Ansible's default."""
    if os.environ.get("ANSIBLE_FORKS"):
        return os.environ["ANSIBLE_FORKS"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, "ansible.cfg"))
    return parser.get("defaults", "forks", fallback="5")


def machine():
    memory = "?"
    try:
        with open("/proc/meminfo") as handle:
            kib = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
        memory = "%.1f GiB" % (kib / 2.0 ** 20)
    except (OSError, AttributeError):
        pass
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            model = re.search(r"model name\s*:\s*(.*)", handle.read()).group(1).strip()
    except (OSError, AttributeError):
        pass
    return {
        "cores": os.cpu_count(), "cpu": model, "memory": memory, "kernel": platform.release(),
        "load": "%.2f %.2f %.2f" % os.getloadavg(),
        "versions": [
            ("ansible-core", _version([os.path.join(BIN, "ansible-playbook"), "--version"], r"core ([0-9.]+)")),
            ("python", platform.python_version()),
            ("curl", _version(["curl", "--version"])),
            ("jq", _version(["jq", "--version"])),
            ("psql", _version(["psql", "--version"])),
            ("git", _version(["git", "--version"])),
            ("chromium", _version(["chromium", "--version"])),
            ("prometheus", _version(["prometheus", "--version"], r"version ([0-9.]+)")),
        ],
    }


def _s(value):
    return "%.2f s" % value if value is not None else "-"


def _x(value):
    return "%.2fx" % value if value is not None else "-"


def _mb(value):
    return "%.0f MB" % (value / 2.0 ** 20)


def _goal(met):
    return "met" if met else "**not met**"


def check_seconds(rows_by_environment):
    """Seconds spent inside the checks: the rows' duration_s, once for rows one call produced together."""
    total = 0.0
    for rows in rows_by_environment.values():
        previous = None
        for row in sorted(rows.values(), key=lambda r: r.get("started_at") or ""):
            duration = row.get("duration_s") or 0.0
            try:
                started = datetime.datetime.fromisoformat((row.get("started_at") or "").replace("Z", "+00:00"))
            except ValueError:
                started = None
            if (previous and started and previous[0] and duration == previous[1]
                    and abs((started - previous[0]).total_seconds()) < 0.01):
                continue
            total += duration
            previous = (started, duration)
    return total


def time_split(run):
    """Where the wall time of one verify run went: startup, task spans by role/play, the checks, the rest."""
    timing = run.get("timing")
    if not timing or not timing.get("tasks"):
        return None
    tasks = timing["tasks"]
    by_group = {}
    for task in tasks:
        group = task.get("role") or "play: %s" % (task.get("play") or "?")
        entry = by_group.setdefault(group, [0.0, 0])
        entry[0] += task["duration_s"]
        entry[1] += 1
    in_tasks = sum(t["duration_s"] for t in tasks)
    checks = check_seconds(run["rows"])
    slowest = sorted(tasks, key=lambda t: -t["duration_s"])[:6]
    return {
        "startup_s": max(0.0, timing["playbook_start"] - run["started"]),
        "tasks_s": in_tasks,
        "task_count": len(tasks),
        "between_s": max(0.0, (timing["playbook_end"] - timing["playbook_start"]) - in_tasks),
        "end_s": max(0.0, run["started"] + run["wall_s"] - timing["playbook_end"]),
        "checks_s": checks,
        "groups": sorted(by_group.items(), key=lambda kv: -kv[1][0]),
        "slowest": slowest,
    }


def fleet_split(run):
    """Of one fleet run: the tasks every host ran (count, seconds) and the slowest tasks run once."""
    timing = run.get("timing")
    if not timing or not timing.get("tasks"):
        return None
    tasks = timing["tasks"]
    per_host = [t for t in tasks if t.get("results", 0) > 1]
    once = sorted((t for t in tasks if t.get("results", 0) <= 1), key=lambda t: -t["duration_s"])
    heaviest = sorted(per_host, key=lambda t: -t["duration_s"])[:4]
    cpu = [t["cpu_s"] for t in per_host if t.get("cpu_s") is not None]
    return {"per_host_count": len(per_host), "per_host_s": sum(t["duration_s"] for t in per_host),
            "per_host_cpu_s": sum(cpu) if per_host and len(cpu) == len(per_host) else None,
            "once_s": sum(t["duration_s"] for t in once), "once_slowest": once[:3], "per_host_heaviest": heaviest}


def network_floor(stats, rtt_ms):
    """Seconds a client waits on the network if it talks to the services one at a time."""
    if not stats:
        return None
    return sum(s["connections"] * rtt_ms / 1000.0 + s["turns"] * rtt_ms / 2000.0 for s in stats)


def _median_run(runs, kind):
    ordered = sorted(runs, key=lambda r: r[kind]["wall_s"])
    return ordered[(len(ordered) - 1) // 2][kind] if ordered else None


def report(options, figures):
    rtt = options["rtt_ms"]
    m = figures["machine"]
    lines = ["# `make bench` results", "",
             "Written by `bench/run.py` on %s UTC, with `BENCH_RTT_MS=%g BENCH_PAIRS=%d BENCH_LOOPBACK_RUNS=%d "
             "BENCH_FLEET=%s`. Regenerate with `make bench`; the figures are of the `playbooks/verify.yml` of "
             "this commit." % (figures["date"], rtt, options["pairs"], options["loopback_runs"],
                               ",".join(str(n) for n in options["fleet"]) or "0"), "",
             "## Machine", "",
             "%s cores (%s), %s memory, Linux %s; load average at the start %s (the machine is shared: "
             "other runs may have competed for its two cores), %s at the end."
             % (m["cores"], m["cpu"], m["memory"], m["kernel"], m["load"], figures.get("load_end") or "?"), "",
             "| tool | version |", "|---|---|"]
    lines += ["| %s | %s |" % item for item in m["versions"]]

    proxied, loopback = figures["pairs"], figures["loopback"]
    lines += ["", "## verify.yml against the runbook's commands", "",
              "`bench/runbook_all_sections.sh` runs every automated check of sections 1-7 as the runbook writes "
              "it (git, curl, jq, psql, docker logs), one after the other, and judges %d rows; verify.yml judges "
              "those and 4.4 (the UI login in Chromium, manual in the runbook), and writes the checklist and the "
              "evidence pack. Medians of alternating runs:" % len(figures.get("shell_rows") or []), "",
              "| network | runs | runbook shell | verify.yml | median of pair ratios verify/shell |",
              "|---|---|---|---|---|"]
    if proxied:
        label = "%g ms round trip (proxy)" % rtt if rtt else "loopback (BENCH_RTT_MS=0)"
        lines.append("| %s | %d pairs | %s | %s | %s |"
                     % (label, len(proxied), _s(median_of(proxied, "shell")), _s(median_of(proxied, "verify")),
                        _x(median_ratio(proxied))))
    if loopback:
        lines.append("| loopback (no proxy) | %d pairs | %s | %s | %s |"
                     % (len(loopback), _s(median_of(loopback, "shell")), _s(median_of(loopback, "verify")),
                        _x(median_ratio(loopback))))
    lines += ["", "Every run, in order (seconds): %s shell %s, verify %s%s." % (
        "through the proxy" if rtt else "pairs",
        ", ".join("%.2f" % r["shell"]["wall_s"] for r in proxied),
        ", ".join("%.2f" % r["verify"]["wall_s"] for r in proxied),
        "; loopback shell %s, verify %s" % (", ".join("%.2f" % r["shell"]["wall_s"] for r in loopback),
                                            ", ".join("%.2f" % r["verify"]["wall_s"] for r in loopback))
        if loopback else "")]
    goals = []
    if proxied and rtt:
        ratio = median_ratio(proxied)
        goals.append("verify at most %.1fx the shell baseline at %g ms: %s (%s; the stretch goal, %.1fx: %s)"
                     % (GOALS["ratio"], rtt, _goal(ratio <= GOALS["ratio"]), _x(ratio), GOALS["stretch_ratio"],
                        _goal(ratio <= GOALS["stretch_ratio"])))
    if loopback:
        value = median_of(loopback, "verify")
        goals.append("verify under %.0f s on loopback: %s (%s)"
                     % (GOALS["loopback_s"], _goal(value < GOALS["loopback_s"]), _s(value)))
    if goals:
        lines += ["", "Goals: " + "; ".join(goals) + "."]

    lines += ["", "## Agreement", ""]
    shell_ids = figures.get("shell_rows") or []
    lines.append("Rows the shell judges: %s. Its PASS/FAIL is compared with checklist.json (WARN counts as PASS, "
                 "ERROR as FAIL)." % ", ".join(shell_ids))
    healthy = proxied + loopback
    lines.append("")
    lines.append("- healthy stack: %d of %d runs agree on every row%s" % (
        sum(1 for r in healthy if not r["disagreements"]), len(healthy),
        "".join("\n  - %s" % p for r in healthy for p in r["disagreements"])))
    faulted = figures.get("faulted")
    if faulted:
        lines.append("- faulted stack (`%s`): the shell fails %s; %s" % (
            ",".join(faulted["faults"]), ", ".join(faulted["failing"]) or "nothing",
            "verify agrees on every row" if not faulted["disagreements"] else
            "**disagreements**: " + "; ".join(faulted["disagreements"])))
    else:
        lines.append("- faulted stack: not run (BENCH_FAULTS empty)")

    fleet = figures.get("fleet") or []
    if fleet:
        base = fleet[0]
        regressions = fleet_regressions(fleet)
        lines += ["", "## Fleet", "",
                  "verify.yml once per size over an inventory of N environments (groups `fleet01`..., each one "
                  "local host and its own URL: the proxy on 127.0.1.<n> with %g ms round trip, all forwarding to "
                  "the one stack). Peak RSS: the ansible-playbook process tree (forks, Chromium) "
                  "summed from /proc every %.1f s, where shared pages count once per process; PSS divides "
                  "them among the processes that share them." % (rtt, SAMPLE_INTERVAL),
                  "", "| environments | wall | wall(N)/wall(%d) | verdict | peak RSS | PSS at that peak | largest RSS "
                  "at the peak | rows PASS/WARN at %d and not at N |" % (base["size"], base["size"]), "|---|---|---|---|---|---|---|---|"]
        for result in fleet:
            top = sorted(result["peak_by_name"].items(), key=lambda kv: -kv[1])[:3]
            lines.append("| %d | %s | %s | %s | %s | %s | %s | %d |" % (
                result["size"], _s(result["wall_s"]), _x(result["wall_s"] / base["wall_s"]), result["verdict"],
                _mb(result["peak_rss"]), _mb(result["peak_pss"]),
                ", ".join("%s %s" % (name, _mb(size)) for name, size in top),
                len(regressions.get(result["size"], []))))
        for result in fleet:
            for item in regressions.get(result["size"], [])[:10]:
                lines.append("\n- at %d: %s" % (result["size"], item))
        largest = fleet[-1]
        if largest["size"] > base["size"]:
            lines += ["", "Goals at %d: wall(%d) at most %.0fx wall(%d): %s; peak RSS under 2 GB: %s; no row "
                      "that passes alone failing at scale: %s." % (
                          largest["size"], largest["size"], GOALS["fleet_ratio"], base["size"],
                          _goal(largest["wall_s"] <= GOALS["fleet_ratio"] * base["wall_s"]),
                          _goal(largest["peak_rss"] < GOALS["fleet_rss_mb"] * 2 ** 20),
                          _goal(not regressions.get(largest["size"])))]

    soak = figures.get("soak")
    if soak:
        lines += ["", "## Retrospective soak (bench/soak.py)", "",
                  "playbooks/soak.yml over a backfilled two-hour window (target under 10 s), median of %d:"
                  % soak[0]["rounds"], "", "| window | playbook | soak itself | verdict |", "|---|---|---|---|"]
        lines += ["| %s | %s | %s | %s |" % (r["scenario"], _s(r["wall_s"]), _s(r["soak_s"]), r["verdict"])
                  for r in soak]

    lines += ["", "## Where the time goes", ""]
    lines += reading(options, figures)
    return "\n".join(lines) + "\n"


def reading(options, figures):
    rtt = options["rtt_ms"]
    out = []
    proxied, loopback = figures["pairs"], figures["loopback"]
    for name, runs in (("through the proxy" if rtt else "on loopback (BENCH_RTT_MS=0)", proxied),
                       ("on loopback", loopback)):
        run = _median_run(runs, "verify")
        split = time_split(run) if run else None
        if not split:
            continue
        groups = ", ".join("%s %.2f s (%d tasks)" % (g, v[0], v[1]) for g, v in split["groups"][:7])
        out.append("- verify %s (the median run, %.2f s): %.2f s before the first task (interpreter, imports, "
                   "inventory and collection loading), %.2f s inside %d tasks, %.2f s between tasks, %.2f s after "
                   "the last. By role or play: %s. The checks themselves (the rows' `duration_s`) account for "
                   "%.2f s; the rest of the task time (%.0f ms per task on average) lies outside the rows' own "
                   "measurement: Ansible's work per task (templating, module transfer and start) and the tasks "
                   "that record no row (reading settings, writing the checklist and the evidence)."
                   % (name, run["wall_s"], split["startup_s"], split["tasks_s"], split["task_count"],
                      split["between_s"], split["end_s"], groups, split["checks_s"],
                      1000.0 * max(0.0, split["tasks_s"] - split["checks_s"]) / max(1, split["task_count"])))
        slowest = ["%s %.2f s" % (t["name"], t["duration_s"]) for t in split["slowest"]]
        out.append("  Slowest tasks: %s." % "; ".join(slowest))
    if proxied and rtt:
        shell_run, verify_run = _median_run(proxied, "shell"), _median_run(proxied, "verify")
        for label, run in (("the shell", shell_run), ("verify", verify_run)):
            stats = run.get("proxy")
            if not stats:
                continue
            parts = ["%s %d connection(s), %d turn(s)" % (service, s["connections"], s["turns"])
                     for service, s in zip(SERVICES, stats) if s["connections"]]
            out.append("- network, %s: %s; talking to them one at a time costs at least %.2f s at %g ms "
                       "(a round trip per connection, half of one per turn of direction)."
                       % (label, ", ".join(parts) or "nothing", network_floor(stats, rtt), rtt))
        if loopback:
            shell_extra = median_of(proxied, "shell") - median_of(loopback, "shell")
            verify_extra = median_of(proxied, "verify") - median_of(loopback, "verify")
            out.append("- the %g ms round trip adds %.2f s to the shell and %.2f s to verify (medians, proxy "
                       "minus loopback); the rest of verify's time is spent on the controller."
                       % (rtt, shell_extra, verify_extra))
    fleet = figures.get("fleet") or []
    if len(fleet) > 1:
        base, largest = fleet[0], fleet[-1]
        per_env = (largest["wall_s"] - base["wall_s"]) / max(1, largest["size"] - base["size"])
        out.append("- fleet: each environment beyond the first adds %.2f s (from %d to %d environments): every "
                   "task of a play starts a worker process per host, one host after the other, in Ansible's main "
                   "process (at most `forks`, %s, at a time), so the tasks that run per host cost each environment "
                   "the same again; the checks of all environments run in one task, and 4.4's smokes share one "
                   "Chromium (a renderer per smoke, six at a time), so memory does not follow the number of "
                   "environments." % (per_env, base["size"], largest["size"], figures.get("forks") or "?"))
        split = fleet_split(largest)
        if split:
            out.append("  At %d environments (%.2f s): %d tasks ran on every host, %.2f s in all%s (%.0f ms per host "
                       "and task; heaviest: %s); the tasks run once took %.2f s (slowest: %s)."
                       % (largest["size"], largest["wall_s"], split["per_host_count"], split["per_host_s"],
                          "" if split["per_host_cpu_s"] is None else
                          " and %.1f CPU-s of Ansible's processes" % split["per_host_cpu_s"],
                          1000.0 * split["per_host_s"] / max(1, split["per_host_count"] * largest["size"]),
                          "; ".join("%s %.2f s" % (t["name"], t["duration_s"]) for t in split["per_host_heaviest"]),
                          split["once_s"],
                          "; ".join("%s %.2f s" % (t["name"], t["duration_s"]) for t in split["once_slowest"])))
        out.extend(cpu_reading(largest, base))
    return out or ["- no per-task timing was recorded"]


STACK_COMPONENT_NAMES = {"api": "the API stand-in", "db": "PostgreSQL", "prometheus": "Prometheus",
                         "sentry": "the Sentry stand-in"}


def cpu_split(run):
    """Of one measured run: CPU seconds of the machine, the verify tree, the bench (proxy), the stack's
    components, Chromium, and what is left to verify."""
    if run.get("cpu_machine_s") is None or run.get("cpu_tree_s") is None:
        return None
    capacity = run["wall_s"] * run.get("cores", 1)
    split = {"machine_s": run["cpu_machine_s"], "capacity_s": capacity, "cores": run.get("cores", 1),
             "busy_pct": 100.0 * run["cpu_machine_s"] / capacity if capacity else 0.0,
             "tree_s": run["cpu_tree_s"], "bench_s": run.get("cpu_bench_s", 0.0),
             "rest_s": max(0.0, run["cpu_machine_s"] - run["cpu_tree_s"] - run.get("cpu_bench_s", 0.0)),
             "stack": dict(run.get("cpu_stack_s") or {}), "chromium_s": run.get("cpu_chromium_s") or 0.0}
    split["stack_s"] = sum(split["stack"].values())
    # Chromium's renderers are reaped by init, not by verify's tree (the browser ends before its zygote):
    # with the stack measured, verify is whatever the machine did besides the stack and the proxy.
    split["verify_s"] = max(0.0, split["machine_s"] - split["bench_s"] - split["stack_s"])
    return split


def cpu_reading(run, base):
    """The lines on where the CPU of the largest fleet run went, and the least wall time it allows."""
    cpu = cpu_split(run)
    if not cpu:
        return []
    size = run["size"]
    if not cpu["stack"]:
        return ["  CPU at %d environments: the machine was busy %.1f s of the %.1f s its %d cores had in the run "
                "(%.0f %%): verify's process tree (Ansible, its workers, the checks and Chromium) %.1f s, the "
                "bench's latency proxy %.1f s, everything else (the reference stack that stands in for all %d "
                "environments: the API stand-in, PostgreSQL, Prometheus, Docker) %.1f s."
                % (size, cpu["machine_s"], cpu["capacity_s"], cpu["cores"], cpu["busy_pct"], cpu["tree_s"],
                   cpu["bench_s"], size, cpu["rest_s"])]
    components = ", ".join("%s %.1f s" % (STACK_COMPONENT_NAMES.get(name, name), seconds)
                           for name, seconds in sorted(cpu["stack"].items(), key=lambda item: -item[1]))
    lines = ["  CPU at %d environments: the machine was busy %.1f s of the %.1f s its %d cores had in the run "
             "(%.0f %%): the reference stack that stands in for all %d environments %.1f s (%s), the bench's "
             "latency proxy %.1f s, and verify the rest, %.1f s: Chromium %.1f s (%.2f s per environment, read "
             "process by process) and Ansible with the checks %.1f s."
             % (size, cpu["machine_s"], cpu["capacity_s"], cpu["cores"], cpu["busy_pct"], size, cpu["stack_s"],
                components, cpu["bench_s"], cpu["verify_s"], cpu["chromium_s"], cpu["chromium_s"] / size,
                max(0.0, cpu["verify_s"] - cpu["chromium_s"]))]
    if cpu["chromium_s"]:
        floor = cpu["chromium_s"] + cpu["stack_s"] + cpu["bench_s"]
        lines.append("  The least time this machine allows: the smokes' Chromium, the stack and the proxy alone "
                     "took %.1f CPU-s, at least %.1f s on %d cores before Ansible does anything (%.1fx wall(%d); "
                     "the goal, 3x, is %.1f s)."
                     % (floor, floor / cpu["cores"], cpu["cores"], floor / cpu["cores"] / base["wall_s"],
                        base["size"], 3 * base["wall_s"]))
    return lines


# ------------------------------------------------------------------------------------------
def main():
    try:
        options = settings()
    except BenchError as exc:
        print("bench: %s" % exc, file=sys.stderr)
        return 2
    if options["fleet"] and not os.environ.get("SOLVEREIGN_STACK_PG_MAX_CONNECTIONS"):
        # Every environment of a fleet opens its own database sessions.
        os.environ["SOLVEREIGN_STACK_PG_MAX_CONNECTIONS"] = str(max(100, 8 * max(options["fleet"]) + 50))
    work = tempfile.mkdtemp(prefix="solvereign-bench-")
    bench = Bench(options, work)
    figures = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "forks": _forks(), "pairs": [], "loopback": [], "fleet": [], "faulted": None, "soak": None}
    log("bench: work directory %s; round trip %g ms; %d pairs; loopback %d; fleet %s"
        % (work, options["rtt_ms"], options["pairs"], options["loopback_runs"],
           ",".join(map(str, options["fleet"])) or "none"))
    proxy = None
    failed = False
    try:
        log("bench: starting the reference stack")
        started = time.monotonic()
        try:
            stackctl.start()
        except stackctl.StackError as exc:
            print("bench: the reference stack did not start: %s" % exc, file=sys.stderr)
            return 2
        bench.info = stackctl.env()
        log("bench: stack ready in %.1f s" % (time.monotonic() - started))
        targets = stack_targets(bench.info)
        services = [s for s in SERVICES if s in targets]
        direct = endpoints(bench.info, targets)
        if options["loopback_runs"]:
            log("bench: loopback (no proxy)")
            figures["loopback"] = bench.pairs("loopback", options["loopback_runs"], direct)
        urls = direct
        if options["rtt_ms"]:
            proxy = LatencyProxy([Mapping("127.0.0.1", 0, *targets[s]) for s in services], rtt_ms=options["rtt_ms"])
            proxy.start()
            urls = endpoints(bench.info, dict(zip(services, proxy.addresses)))
        log("bench: %d pairs at %g ms round trip" % (options["pairs"], options["rtt_ms"]))
        figures["pairs"] = bench.pairs("proxy", options["pairs"], urls, proxy)
        figures["shell_rows"] = sorted(figures["pairs"][0]["shell"]["rows"], key=_row_key)
        if proxy:
            proxy.stop()
            proxy = None
        if options["fleet"]:
            log("bench: fleet %s" % ",".join(map(str, options["fleet"])))
            for size in options["fleet"]:
                figures["fleet"].append(bench.fleet(size))
        faults = options["faults"]
        if faults["api"] or faults["db"] or faults["origin"]:
            log("bench: agreement on a faulted stack")
            if options["rtt_ms"]:
                proxy = LatencyProxy([Mapping("127.0.0.1", 0, *targets[s]) for s in services],
                                     rtt_ms=options["rtt_ms"])
                proxy.start()
                urls = endpoints(bench.info, dict(zip(services, proxy.addresses)))
            figures["faulted"] = bench.faulted(urls, proxy)
    except (BenchError, ProxyError, stackctl.StackError) as exc:
        print("bench: %s" % exc, file=sys.stderr)
        failed = True
    finally:
        if proxy:
            proxy.stop()
        stackctl.stop()
    if options["soak_rounds"] and not failed:
        log("bench: retrospective soak (bench/soak.py)")
        import soak  # pylint: disable=import-outside-toplevel
        figures["soak"] = soak.measure(options["soak_rounds"], report=lambda text: log("  " + text))
    figures["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    if figures["pairs"]:
        text = report(options, figures)
        with open(options["results"], "w") as handle:
            handle.write(text)
        log("")
        log(text)
        log("bench: wrote %s" % options["results"])
    for problem in bench.problems:
        print("bench: DISAGREEMENT %s" % problem, file=sys.stderr)
    if failed or bench.problems or options["keep"]:
        log("bench: logs, inventories and evidence kept in %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed or bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
