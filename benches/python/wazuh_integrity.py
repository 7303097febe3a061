#!/usr/bin/env python3
"""Times Wazuh's own integrity walk (`walk_dir` of framework/wazuh/core/cluster/cluster.py, with
`blake2b` of framework/wazuh/core/utils.py) on a tree like the one of benches/benches/integrity.rs:
FILES agent-group files of about 1 KiB, 100 per group folder under etc/shared. The two functions
are read from a Wazuh source tree (WAZUH_SRC, e.g. a checkout of tag v4.9.2) and run unchanged;
only the names they import (`common.WAZUH_PATH`, the logging and exception helpers) are given
here, so what is timed is Wazuh's code on this machine, beside ours.

cold: the first walk (every file stat'ed, read and hashed); warm: a walk given the first one's
result as `previous_status` (Wazuh reuses an entry whose mtime did not change: a stat per file,
no read), as the master does on every integrity round after the first.

Usage: python3 benches/python/wazuh_integrity.py WAZUH_SRC FILES [FILES...]
Prints one JSON line per size: {"files": N, "cold_s": ..., "warm_s": ...}: medians of 5 runs each,
comparable with criterion's estimates; `*_best_s` are the fastest runs.
"""

import ast
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import types
from collections import defaultdict
from os import path, walk


def load_function(source_file, name, namespace):
    """Defines `name`, read from `source_file`, in `namespace`."""
    with open(source_file) as f:
        tree = ast.parse(f.read())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[node], type_ignores=[]), source_file, "exec"), namespace)
    return namespace[name]


class WazuhInternalError(Exception):
    pass


def make_tree(home, files):
    rnd = random.Random(7)
    base = path.join(home, "etc", "shared")
    for i in range(files):
        folder = path.join(base, f"group{i // 100:04d}")
        os.makedirs(folder, exist_ok=True)
        body = "".join(
            f"<localfile><location>/var/log/f{rnd.getrandbits(160):x}.log</location></localfile>\n"
            for _ in range(14)
        )
        with open(path.join(folder, f"file{i:06d}.conf"), "w") as f:
            f.write(body)


def main():
    src, sizes = sys.argv[1], [int(n) for n in sys.argv[2:]]
    utils_ns = {"hashlib": hashlib}
    blake2b = load_function(path.join(src, "framework/wazuh/core/utils.py"), "blake2b", utils_ns)
    for files in sizes:
        with tempfile.TemporaryDirectory() as home:
            make_tree(home, files)
            namespace = {
                "common": types.SimpleNamespace(WAZUH_PATH=home),
                "path": path,
                "walk": walk,
                "defaultdict": defaultdict,
                "blake2b": blake2b,
                "WazuhInternalError": WazuhInternalError,
            }
            walk_dir = load_function(
                path.join(src, "framework/wazuh/core/cluster/cluster.py"), "walk_dir", namespace
            )
            # Arguments as get_files_status passes them for etc/shared/ from cluster.json.
            args = ("etc/shared/", True, ["all"], ["ar.conf", "ossec.conf"],
                    ["~", ".tmp", ".lock", ".swp"], "etc/shared/")
            cold, warm, status = [], [], None
            for _ in range(5):
                t = time.perf_counter()
                status, _logs = walk_dir(*args)
                cold.append(time.perf_counter() - t)
            assert len(status) == files, (len(status), files)
            for _ in range(5):
                t = time.perf_counter()
                again, _logs = walk_dir(*args, previous_status=status)
                warm.append(time.perf_counter() - t)
            assert again == status
            print(json.dumps({
                "files": files,
                "cold_s": round(statistics.median(cold), 4),
                "warm_s": round(statistics.median(warm), 4),
                "cold_best_s": round(min(cold), 4),
                "warm_best_s": round(min(warm), 4),
            }))


if __name__ == "__main__":
    main()
