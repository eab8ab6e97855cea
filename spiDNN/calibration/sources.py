"""What the cost table was measured from, as one SHA-256: the apps'
sources, the generated layouts header, the calibration's platform and
linker script, and the calibration's own Python.  A table whose digest
differs from the sources' is stale (tests/test_cost_table.py)."""
import hashlib
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: Folders of C code the apps compile from (every file in them).
C_FOLDERS = ["c_code/common", "c_code/kernels", "c_code/include",
             "c_code/dense", "c_code/conv", "c_code/pool", "c_code/loss",
             "c_code/calibration", "c_code/platform"]
PYTHON_FOLDER = "spiDNN/calibration"
LAYOUTS = "spiDNN/vertices/layouts.py"


def _files(root):
    paths = []
    for folder in C_FOLDERS:
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if os.path.isfile(os.path.join(root, folder, name)):
                paths.append(f"{folder}/{name}")
    paths += [f"{PYTHON_FOLDER}/{name}" for name in sorted(
        os.listdir(os.path.join(root, PYTHON_FOLDER)))
        if name.endswith(".py")]
    return paths


def layouts_header(root):
    """The spidnn_layouts.h that ``root``'s layouts.py generates."""
    spec = importlib.util.spec_from_file_location(
        "_spidnn_layouts_for_digest", os.path.join(root, LAYOUTS))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.c_header()


def sources_digest(root=ROOT):
    """SHA-256 over the sources the cost table depends on, under ``root``
    (a checkout of the repository)."""
    digest = hashlib.sha256()
    for path in _files(root):
        with open(os.path.join(root, path), "rb") as f:
            content = f.read()
        digest.update(f"{path}\0{len(content)}\0".encode())
        digest.update(content)
    header = layouts_header(root).encode()
    digest.update(f"spidnn_layouts.h\0{len(header)}\0".encode())
    digest.update(header)
    return digest.hexdigest()
