#!/usr/bin/env python3
"""Runs one command and prints its wall time in seconds (microsecond resolution) and its peak
resident memory in KB (the largest of the process and the children it waited for):

    bench/measure.py CMD [ARG...]      ->  "0.123456 48828"

GNU time's %e has 10 ms resolution, too coarse for a 0.1 s import.
"""
import os
import resource
import subprocess
import sys
import time


def main():
    start = time.perf_counter()
    status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{seconds:.6f} {peak_kb}")
    sys.exit(status)


if __name__ == "__main__":
    main()
