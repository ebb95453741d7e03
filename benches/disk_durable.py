"""How fast this machine's disk makes 1 MiB bodies durable, written several ways (issue 13, docs/STATUS.md
"Performance (issue 13)"). Not a test and not part of benches/run.sh: a probe that explains the OSS
PUT figures, since every acknowledged PUT waits for its body to be durable.

    python3 benches/disk_durable.py [--dir DIR] [--bodies 400] [--concurrency 4] [--gap-ms 3] [--rounds 2]

Each way runs CONCURRENCY threads; each thread makes BODIES/CONCURRENCY bodies durable one after the
other and then sleeps GAP_MS (the rest of a request: HTTP, authorization, the record's commit, the
client's turn), as four keep-alive PUT connections do. Printed per way: MiB/s, and the median time
from the body's last write to "durable" (what a PUT waits for).

  new-file     a new file per body, fdatasync, then an fsync of its directory shared by the writers
               waiting (what rolestack-blob-fs does for a body written in place)
  new-file-syncfs  a new file per body, then one syncfs(2) of the whole filesystem per group of
               waiting writers (their files' data and allocation written together, one flush; it
               also writes whatever else is dirty on that filesystem)
  spare-file   files created (and their directory fsynced) ahead of the bodies, one per body,
               fdatasync: the creation and the directory fsync are off the body's path
  segment      bodies appended to one sparse file at 1 MiB offsets, one fdatasync per group of
               waiting writers (a log-structured store on a fresh disk)
  fallocated   the same in a file preallocated with fallocate (unwritten extents)
  pre-written  the same in a file whose blocks were all written (zeros) and fsynced beforehand: an
               overwrite needs no allocation, so fdatasync writes the data and flushes, nothing else
               (what a store reusing freed space would do; a fresh store must write every byte twice)
  reused-file  each body overwrites, in place, a whole file of the same size that an earlier body left
               (written and fsynced beforehand), fdatasync: no allocation and no directory change
               (what rolestack-blob-fs does with the file of a blob an overwrite or delete freed)
  direct-*     new-file, pre-written and reused-file with the body written with O_DIRECT (past the
               page cache, from an aligned buffer), then fdatasync as above
  zero-ahead   a fresh store trying to get there: a thread writes zeros (8 MiB, fdatasync) ahead of
               the bodies, which wait when they catch up — the zeros pay the allocation instead

The directory is removed afterwards. Use a directory on the disk the data directory lives on."""

import argparse
import ctypes
import mmap
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid

from suite import run_threads

MiB = 1 << 20
WAYS = ["new-file", "new-file-syncfs", "spare-file", "segment", "fallocated", "pre-written", "reused-file", "zero-ahead",
        "direct-new-file", "direct-pre-written", "direct-reused-file"]


class SharedSync:
    """One sync run for every writer waiting (group commit): a writer needs a sync that starts
    after its bytes were written; whoever finds none running runs one for everyone waiting."""

    def __init__(self, sync):
        self.sync, self.cond = sync, threading.Condition()
        self.started = self.ended = 0
        self.running = False

    def wait(self):
        with self.cond:
            needed = self.started + 1
            while self.ended < needed:
                if self.running:
                    self.cond.wait()
                    continue
                self.running, self.started = True, self.started + 1
                number = self.started
                self.cond.release()
                try:
                    self.sync()
                finally:
                    self.cond.acquire()
                    self.running, self.ended = False, number
                    self.cond.notify_all()


def run(way, root, bodies, concurrency, gap):
    body = os.urandom(MiB)
    direct = way.startswith("direct-")
    if direct:  # O_DIRECT wants page-aligned buffers: an anonymous map is
        aligned = mmap.mmap(-1, MiB)
        aligned.write(body)
        body = memoryview(aligned)
        way = way[len("direct-"):]
    flags = os.O_DIRECT if direct else 0
    per_thread = bodies // concurrency
    latencies, lock = [], threading.Lock()
    directory = os.open(root, os.O_RDONLY)
    dir_sync = SharedSync(lambda: os.fsync(directory))
    libc = ctypes.CDLL(None, use_errno=True)

    def syncfs():
        if libc.syncfs(directory) != 0:
            raise OSError(ctypes.get_errno(), "syncfs")
    fs_sync = SharedSync(syncfs)
    segment = spares = None
    ahead = None
    if way in ("segment", "fallocated", "pre-written", "zero-ahead"):
        segment = os.open(os.path.join(root, "segment"), os.O_RDWR | os.O_CREAT | flags, 0o644)
        size = (per_thread * concurrency + 1) * MiB
        if way == "segment":
            os.ftruncate(segment, size)
        elif way == "zero-ahead":
            os.ftruncate(segment, size)
            ahead = {"done": 0, "cond": threading.Condition()}

            def fill():
                zeros, chunk = bytes(8 * MiB), 8 * MiB
                for offset in range(0, size, chunk):
                    os.pwrite(segment, zeros, offset)
                    os.fdatasync(segment)
                    with ahead["cond"]:
                        ahead["done"] = offset + chunk
                        ahead["cond"].notify_all()
            threading.Thread(target=fill, daemon=True).start()
        elif way == "fallocated":
            os.posix_fallocate(segment, 0, size)
        elif way == "pre-written":
            zeros = memoryview(mmap.mmap(-1, MiB))
            for i in range(size // MiB):
                os.pwrite(segment, zeros, i * MiB)
        if way != "zero-ahead":
            os.fsync(segment)
        segment_sync = SharedSync(lambda: os.fdatasync(segment))
    if way == "reused-file":
        spares = []
        for _ in range(per_thread * concurrency):
            name = os.path.join(root, uuid.uuid4().hex)
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, body)
            os.fdatasync(fd)
            if direct:
                os.close(fd)
                fd = os.open(name, os.O_WRONLY | os.O_DIRECT)
            spares.append(fd)
        os.fsync(directory)
    if way == "spare-file":
        spares = [os.open(os.path.join(root, uuid.uuid4().hex), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                  for _ in range(per_thread * concurrency)]
        os.fsync(directory)
    next_offset = [0]

    def write_in_quarters(fd, offset):
        for i in range(4):  # as a server writes a body: in pieces, as it arrives
            os.pwrite(fd, body[i * MiB // 4:(i + 1) * MiB // 4], offset + i * MiB // 4)

    def worker():
        for _ in range(per_thread):
            if way == "new-file":
                fd = os.open(os.path.join(root, uuid.uuid4().hex), os.O_WRONLY | os.O_CREAT | os.O_EXCL | flags, 0o644)
                write_in_quarters(fd, 0)
                t = time.perf_counter()
                os.fdatasync(fd)
                dir_sync.wait()
            elif way == "new-file-syncfs":
                fd = os.open(os.path.join(root, uuid.uuid4().hex), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                write_in_quarters(fd, 0)
                t = time.perf_counter()
                fs_sync.wait()
            elif way in ("spare-file", "reused-file"):
                with lock:
                    fd = spares.pop()
                write_in_quarters(fd, 0)
                t = time.perf_counter()
                os.fdatasync(fd)
            else:
                with lock:
                    offset, next_offset[0] = next_offset[0], next_offset[0] + MiB
                if ahead:
                    with ahead["cond"]:
                        ahead["cond"].wait_for(lambda: ahead["done"] >= offset + MiB)
                write_in_quarters(segment, offset)
                t = time.perf_counter()
                segment_sync.wait()
            elapsed = time.perf_counter() - t
            if segment is None:
                os.close(fd)
            with lock:
                latencies.append(elapsed)
            time.sleep(gap)

    seconds = run_threads(worker, concurrency)
    os.close(directory)
    if segment is not None:
        os.close(segment)
    return per_thread * concurrency / seconds, statistics.median(latencies) * 1000


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "bench"),
                   help="where the probe writes (a fresh directory is made inside; default target/bench)")
    p.add_argument("--bodies", type=int, default=400)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--gap-ms", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=2, help="each way runs this many times, interleaved")
    p.add_argument("--ways", default=",".join(WAYS))
    args = p.parse_args()
    ways = args.ways.split(",")
    unknown = set(ways) - set(WAYS)
    if unknown:
        p.error(f"unknown ways {sorted(unknown)}; known: {WAYS}")
    os.makedirs(args.dir, exist_ok=True)
    print(f"{args.bodies} bodies of 1 MiB, {args.concurrency} writers, {args.gap_ms} ms between a writer's bodies, "
          f"in {os.path.abspath(args.dir)}")
    results = {w: [] for w in ways}
    for _ in range(args.rounds):
        for way in ways:
            root = tempfile.mkdtemp(prefix="disk-durable-", dir=args.dir)
            try:
                results[way].append(run(way, root, args.bodies, args.concurrency, args.gap_ms / 1000))
            finally:
                shutil.rmtree(root, ignore_errors=True)
    for way in ways:
        rates = ", ".join(f"{r:.0f}" for r, _ in results[way])
        waits = ", ".join(f"{w:.2f}" for _, w in results[way])
        print(f"  {way:12} {rates:>16} MiB/s   durable after the last write, median: {waits} ms")


if __name__ == "__main__":
    main()
