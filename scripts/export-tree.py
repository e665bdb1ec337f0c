#!/usr/bin/env python3
"""Export the tree of COMMIT in the git directory GIT_DIR into DEST, without a work tree.

    export-tree.py GIT_DIR COMMIT DEST

Like `git archive | tar -x`, but a blob the mirror does not hold (mirrors may leave out their
largest files) is skipped and named on standard error instead of aborting the export.
Symlinks are written as symlinks; submodules are skipped. Nothing is executed.
"""
import os
import subprocess
import sys


def main() -> int:
    git_dir, commit, dest = sys.argv[1:4]
    listing = subprocess.run(
        ["git", "-C", git_dir, "ls-tree", "-r", "-z", "--full-tree", commit],
        check=True, capture_output=True).stdout
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, oid = meta.split(b" ")
        if kind != b"blob":
            continue
        entries.append((mode, oid, os.fsdecode(path)))
    batch = subprocess.Popen(["git", "-C", git_dir, "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    missing = 0
    for mode, oid, path in entries:
        batch.stdin.write(oid + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode == b"120000":
            os.symlink(os.fsdecode(data), target)
        else:
            with open(target, "wb") as f:
                f.write(data)
            if mode == b"100755":
                os.chmod(target, 0o755)
    batch.stdin.close()
    batch.wait()
    if missing:
        print(f"{missing} blob(s) absent from the mirror were skipped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
