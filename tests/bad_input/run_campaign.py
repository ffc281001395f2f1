#!/usr/bin/env python3
"""The bad-input campaign (issue 16): every case in cases.py, run against a gpuslice binary.

usage: run_campaign.py BINARY SOURCE_DIR [-k SUBSTRING ...] [-j JOBS] [--list]
                       [--report FILE.json] [--write-doc docs/errors.md] [--timeout S]

Each case builds its input files in a fresh temporary folder (nothing is read from or written
to the source tree but the shipped profiles, scenarios and trace fixtures), runs one gpuslice
command there (cwd = that folder) under a wall-clock timeout and an address-space limit, and
checks the promise of issue 16:

  * the exit code is the case's (2 for bad input; 0 where the input is in fact valid; 130
    after SIGINT/SIGTERM), never a signal, a timeout (hang) or memory exhaustion;
  * stderr has no "internal error"; for exit 2, one line of stderr says "error:" and holds
    every fragment the case says the message must name (the file, the JSON path or line,
    the option), written by hand from the input the case built;
  * the folder holds no new file beyond the case's inputs (no result, no .tmp, no summary).

It prints one line per failing case and closes with 'N passed, N failed'; exit status 1 when
any case failed. --write-doc regenerates the generated part of docs/errors.md (between the
markers) with each class's cases and the real message of each.
"""
import argparse
import concurrent.futures
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as case_defs  # noqa: E402

ADDRESS_SPACE_LIMIT = 4 << 30
DOC_BEGIN = "<!-- BEGIN GENERATED: tests/bad_input/run_campaign.py --write-doc -->"
DOC_END = "<!-- END GENERATED -->"


# Under AddressSanitizer (the asan preset) an address-space limit cannot be set: ASan reserves
# terabytes of shadow memory at start. Its allocator takes the limit's place: a request over
# 4 GiB fails as malloc does under RLIMIT_AS (operator new throws bad_alloc), and a process whose
# resident set passes 4 GiB is stopped with a report (a failed case). Sanitized code runs a few
# times slower, so every wall-clock limit is multiplied by SANITIZED_SLOWDOWN.
SANITIZED_SLOWDOWN = 5.0
SANITIZED_ASAN_OPTIONS = "allocator_may_return_null=1:max_allocation_size_mb=4096:hard_rss_limit_mb=4096"


def is_sanitized(binary):
    """True when BINARY was built with AddressSanitizer (it holds the runtime's init symbol)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limit_sanitized():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _snapshot(root):
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


class Result:
    def __init__(self, case):
        self.case = case
        self.rc = None
        self.stdout = b""
        self.stderr = b""
        self.wall = 0.0
        self.problems = []
        self.command = ""
        self.skipped = None
        self.work = self.source = ""

    @property
    def ok(self):
        return not self.problems

    def stderr_text(self):
        return self.stderr.decode("utf-8", "replace")

    def message(self):
        """The error line of stderr (the first line that says 'error' or 'interrupted')."""
        lines = [l for l in self.stderr_text().splitlines() if l.strip()]
        for l in lines:
            if "error" in l or "interrupted" in l:
                return l
        return lines[0] if lines else ""


def run_case(case, binary, source, timeout, sanitized=False):
    res = Result(case)
    slowdown = SANITIZED_SLOWDOWN if sanitized else 1.0
    tmp = tempfile.mkdtemp(prefix="gpuslice-bad-input-")
    work = os.path.join(tmp, "w")
    os.mkdir(work)
    res.work = work
    res.source = source
    try:
        ctx = case_defs.Context(work, source, binary)
        try:
            case.setup(ctx)
        except case_defs.Skip as e:
            res.skipped = str(e)
            return res
        except Exception as e:  # a broken case, not a gpuslice failure
            res.problems.append("case setup failed: %r" % (e,))
            return res
        before = _snapshot(work)
        argv = [binary] + [a.replace("{tmp}", work).replace("{src}", source) for a in case.args]
        res.command = "gpuslice " + " ".join(a.replace("{tmp}/", "").replace("{src}/", "") for a in case.args)
        out_f = open(case.stdout, "wb") if case.stdout else tempfile.TemporaryFile(dir=tmp)
        err_f = tempfile.TemporaryFile(dir=tmp)
        env = dict(os.environ)
        env.pop("GPUSLICE_PROGRESS", None)
        env["HOME"] = tmp  # outside the checked folder: a helper's caches (matplotlib) go there
        if sanitized:
            env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), SANITIZED_ASAN_OPTIONS) if o)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f,
                                    preexec_fn=_limit_sanitized if sanitized else _limit, start_new_session=True, env=env)
        except OSError as e:
            res.problems.append("case could not start the command: %s" % e)
            return res
        if case.signal is not None:
            sig, delay = case.signal[:2]
            if sanitized and len(case.signal) > 2:
                delay = case.signal[2]  # the case's own delay for the slower sanitized build
            try:
                proc.wait(delay)
                res.problems.append("finished (exit %s) before the signal at %.1f s: the case's input is "
                                    "too small" % (proc.returncode, delay))
            except subprocess.TimeoutExpired:
                proc.send_signal(sig)
                sent = time.monotonic()
                try:
                    proc.wait(case.signal_grace * slowdown)
                except subprocess.TimeoutExpired:
                    res.problems.append("still running %.0f s after %s" % (case.signal_grace * slowdown,
                                                                         signal.Signals(sig).name))
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                res.signal_latency = time.monotonic() - sent
        else:
            try:
                proc.wait((case.timeout or timeout) * slowdown)
            except subprocess.TimeoutExpired:
                res.problems.append("hang: no exit within %.0f s" % ((case.timeout or timeout) * slowdown))
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        res.wall = time.monotonic() - start
        res.rc = proc.returncode
        # Reap whatever the command left in its session (a helper process it started).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        err_f.seek(0)
        if not case.stdout:
            out_f.seek(0)
            res.stdout = out_f.read(64 << 20)
        res.stderr = err_f.read(1 << 20)
        out_f.close()
        err_f.close()
        check(res, ctx, before, work)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def check(res, ctx, before, work):
    case = res.case
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    err = res.stderr_text()
    if res.rc is not None and res.rc < 0:
        res.problems.append("killed by signal %s" % signal.Signals(-res.rc).name)
    elif res.rc not in expected and not any(p.startswith("hang") or p.startswith("still running") for p in res.problems):
        res.problems.append("exit %s, expected %s" % (res.rc, "/".join(map(str, expected))))
    if "internal error" in err:
        res.problems.append("internal error on stderr")
    if re.search(r"std::bad_alloc|terminate called|Segmentation|Aborted|AddressSanitizer", err):
        res.problems.append("crash text on stderr")
    if res.rc == 2:
        lines = [l for l in err.splitlines() if "error" in l]
        if not lines:
            res.problems.append("exit 2 without an error line on stderr")
        else:
            wanted = [f.replace("{tmp}", work).replace("{src}", ctx.src) for f in case.names]
            alternatives = [wanted] + case.alt_names + ctx.alt_names
            # "file:12" must not match "file:123": a line is followed by ':'
            alternatives = [[f + ":" if re.search(r"\.\w+:\d+$", f) else f for f in alt] for alt in alternatives]
            if not any(all(f in l for f in alt) for alt in alternatives for l in lines):
                missing = [f for f in wanted if not any(f in l for l in lines)]
                res.problems.append("message does not name %s" % (missing or wanted))
            line = res.message()
            for f in case.forbid:
                if f in line:
                    res.problems.append("message says %r, which the input contradicts" % f)
            if case.limit and not any(w in line for w in case_defs.LIMIT_WORDS):
                res.problems.append("message does not state the limit")
    if res.rc not in (0, 2, 130, None) and res.rc > 0 and not any("error" in l for l in err.splitlines()):
        res.problems.append("exit %s without an error line on stderr" % res.rc)
    if res.rc == 130 and "interrupted" not in err:
        res.problems.append("exit 130 without saying 'interrupted'")
    after = _snapshot(work)
    def allowed(p):
        return any(re.fullmatch(a, p) for a in case.allow_new)

    new = []
    for p in sorted(after - before):
        if allowed(p):
            continue
        if os.path.isdir(os.path.join(work, p)) and not os.path.islink(os.path.join(work, p)):
            # a new folder counts only when empty: the files in it are judged one by one
            if any(q.startswith(p + os.sep) for q in after):
                continue
        new.append(p)
    if new:
        res.problems.append("left behind: %s" % ", ".join(new[:6]))
    if case.check is not None and not res.problems:
        try:
            problem = case.check(ctx, res)
        except Exception as e:
            problem = "check raised %r" % (e,)
        if problem:
            res.problems.append(problem)


def short(text, n=200):
    text = text.replace("\n", " | ").strip()
    return text if len(text) <= n else text[:n] + "..."


def write_doc(path, results):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        raise SystemExit("%s: no generated section (%s ... %s)" % (path, DOC_BEGIN, DOC_END))
    by_class = {}
    for r in results:
        by_class.setdefault(r.case.cls, []).append(r)
    out = [DOC_BEGIN, ""]
    try:
        commit = subprocess.run(["git", "-C", results[0].source, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except Exception:
        commit = ""
    out.append("%d cases, %d passed, %d failed at the time of writing (a build of the tree at commit %s and the "
               "fixes in progress then; `python3 tests/bad_input/run_campaign.py build/release/gpuslice . "
               "--write-doc docs/errors.md`)." %
               (len(results), sum(r.ok for r in results), sum(not r.ok for r in results), commit or "?"))
    out.append("")
    for cls in case_defs.CLASS_ORDER:
        rs = by_class.get(cls)
        if not rs:
            continue
        out.append("### %s (%d cases)" % (case_defs.CLASS_TITLES.get(cls, cls), len(rs)))
        out.append("")
        out.append("| case | command | exit | message |")
        out.append("|---|---|---|---|")
        for r in rs:
            msg = r.message() if r.rc != 0 else "(accepted: %s)" % r.case.doc_ok
            msg = msg.replace(r.work + os.sep, "").replace(r.source + os.sep, "")
            msg = msg.replace("|", "\\|").replace("`", "'")
            if len(msg) > 240:
                msg = msg[:240] + "…"
            cmd = r.command.replace("|", "\\|")
            if len(cmd) > 90:
                cmd = cmd[:90] + "…"
            flag = "" if r.ok else " **(fails: %s)**" % "; ".join(r.problems).replace("|", "\\|")
            out.append("| `%s` | `%s` | %s | %s%s |" % (r.case.id, cmd, r.rc, msg, flag))
        out.append("")
    out.append(DOC_END)
    begin = text.index(DOC_BEGIN)
    end = text.index(DOC_END) + len(DOC_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:begin] + "\n".join(out) + text[end:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("source")
    ap.add_argument("-k", action="append", default=[], help="run only cases whose id or class contains this")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--report", help="write every result as JSON here")
    ap.add_argument("--write-doc", help="rewrite the generated section of this markdown file")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    source = os.path.abspath(args.source)
    sanitized = is_sanitized(binary)
    if sanitized:
        print("%s is built with AddressSanitizer: no address-space limit (ASAN_OPTIONS %s), time limits x%g" %
              (binary, SANITIZED_ASAN_OPTIONS, SANITIZED_SLOWDOWN), flush=True)
    all_cases = case_defs.all_cases(source)
    ids = [c.id for c in all_cases]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise SystemExit("duplicate case ids: %s" % dup)
    selected = [c for c in all_cases if not args.k or any(k in c.id or k == c.cls for k in args.k)]
    if args.list:
        for c in selected:
            print("%-50s %-10s %s" % (c.id, c.cls, " ".join(c.args)))
        counts = {}
        for c in selected:
            counts[c.cls] = counts.get(c.cls, 0) + 1
        print(json.dumps(counts, indent=1))
        print("%d cases" % len(selected))
        return 0
    # Signal cases time themselves: run them alone, after the rest.
    plain = [c for c in selected if c.signal is None and not c.alone]
    alone = [c for c in selected if c.signal is not None or c.alone]
    results = []
    started = time.monotonic()

    def report(r):
        results.append(r)
        if r.skipped:
            print("skip %s: %s" % (r.case.id, r.skipped), flush=True)
            return
        if not r.ok or args.verbose:
            print("%s %s [%s] %s\n    %s\n    exit %s (%.1fs); stderr: %s" % (
                "FAIL" if not r.ok else "ok  ", r.case.id, r.case.cls, "; ".join(r.problems), r.command,
                r.rc, r.wall, short(r.stderr_text())), flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r in pool.map(lambda c: run_case(c, binary, source, args.timeout, sanitized), plain):
            report(r)
    for c in alone:
        report(run_case(c, binary, source, args.timeout, sanitized))
    order = {c.id: i for i, c in enumerate(selected)}
    results.sort(key=lambda r: order[r.case.id])
    skipped = sum(1 for r in results if r.skipped)
    results = [r for r in results if not r.skipped]
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    if args.report:
        with open(args.report, "w") as f:
            json.dump([{"id": r.case.id, "class": r.case.cls, "area": r.case.area, "command": r.command,
                        "expected": r.case.expect if isinstance(r.case.expect, int) else list(r.case.expect),
                        "names": r.case.names, "rc": r.rc, "wall_s": round(r.wall, 2),
                        "stderr": r.stderr_text()[:2000], "problems": r.problems} for r in results], f, indent=1)
    if args.write_doc:
        write_doc(args.write_doc, results)
    print("%d passed, %d failed (%s%.0f s)" % (passed, failed, "%d skipped, " % skipped if skipped else "",
                                              time.monotonic() - started))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
