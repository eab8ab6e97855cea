"""What the figures depend on: the host, the library versions and this
checkout's git commit."""
import os
import platform
import subprocess

import numpy

from .settings import ROOT as _ROOT


def machine_info():
    """What the numbers depend on: host, library versions, spiDNN commit."""
    import keras
    import tensorflow as tf
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True,
            text=True, check=True).stdout.strip()
        info["git_dirty"] = bool(subprocess.run(
            ["git", "status", "--porcelain"], cwd=_ROOT, capture_output=True,
            text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        info["git_commit"] = None
    return info
