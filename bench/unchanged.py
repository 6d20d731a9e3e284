"""Compares the outputs of the same commands run by two cvxnn binaries (bench/unchanged.sh): every
figure, with times left out. Files of one format version and the next are compared on what both
hold (a newer report adds its request and hashes; those are new, not changed), and what a newer
format moved at its new place."""

import json
import pathlib
import re
import sys

TIME_KEYS = {"seconds", "median_seconds", "tighten_seconds"}
# keys a later format added: not figures of the run
ADDED = {"request", "model_sha256", "data", "cvxnn_version", "version", "settings", "methods",
         "plan"}


# How a message names a setting changed from flags ("--arch", "(--standardize; standardize=True
# in Python)") to request keys ("`arch`", "(`standardize`)"): words, not figures.
SETTING = re.compile(r"\(?--[a-z-]+(; [^)]*)?\)?|\(?`[a-z_.]+`\)?")


# what a later report moved: the data's description left `problem` for `data` (version 4)
MOVED = {"n_samples": "n_samples", "data": "source", "inputs": "inputs", "targets": "targets"}


def moved(old, new):
    """`old` with the keys a later format moved compared at their new place and taken out, or
    the first difference there."""
    problem, data = old.get("problem"), new.get("data")
    if not (isinstance(problem, dict) and isinstance(data, dict)):
        return old, None
    problem = dict(problem)
    for was, now in MOVED.items():
        if was in problem and was not in new.get("problem", {}):
            if problem[was] != data.get(now):
                return old, f".problem.{was} → .data.{now}: {problem[was]!r} → {data.get(now)!r}"
            del problem[was]
    return {**old, "problem": problem}, None


def untimed(v):
    if isinstance(v, dict):
        return {k: untimed(x) for k, x in v.items() if k not in TIME_KEYS}
    if isinstance(v, list):
        return [untimed(x) for x in v]
    if isinstance(v, str):
        return SETTING.sub("SETTING", v)
    return v


def common(old, new, path=""):
    """The first difference between old and new on the keys both have, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in old:
            if k in new and k not in ADDED:
                d = common(old[k], new[k], f"{path}.{k}")
                if d:
                    return d
        missing = [k for k in old if k not in new and k not in ADDED]
        return f"{path}: keys gone: {missing}" if missing else None
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return f"{path}: {len(old)} items, now {len(new)}"
        for i, (a, b) in enumerate(zip(old, new)):
            d = common(a, b, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if old == new else f"{path}: {old!r} → {new!r}"


def load(p):
    text = p.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def main(old_dir, new_dir):
    old_dir, new_dir = pathlib.Path(old_dir), pathlib.Path(new_dir)
    differ = 0
    for old in sorted(old_dir.iterdir()):
        if old.suffix == ".svg":
            continue
        new = new_dir / old.name
        if not new.exists():
            print(f"{old.name:<44} MISSING in the new run")
            differ += 1
            continue
        if old.name.endswith(".model.json") or old.suffix == ".csv":
            same = old.read_bytes() == new.read_bytes()
            why = None if same else "bytes differ"
        elif old.name == "demo.out":
            # the table without its seconds column
            cut = lambda p: [l.rsplit(None, 1)[0] for l in p.read_text().splitlines() if l]
            same = cut(old) == cut(new)
            why = None if same else "table differs"
        else:
            a, b = load(old), load(new)
            if a is None or b is None:
                same = old.read_text() == new.read_text()
                why = None if same else "text differs"
            else:
                if isinstance(a, dict) and isinstance(b, dict):
                    a, why = moved(a, b)
                else:
                    why = None
                why = why or common(untimed(a), untimed(b))
                same = why is None
        differ += not same
        print(f"{old.name:<44} {'identical' if same else 'DIFFERS: ' + why}")
    print(f"{differ} of {len([p for p in old_dir.iterdir() if p.suffix != '.svg'])} outputs differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
