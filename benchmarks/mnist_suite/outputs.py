"""Writes a run: the JSON, and the Markdown and PNG of the same stem."""
import json
import os

from .markdown import markdown
from .plot import plot
from .records import _plain


def write_outputs(results, json_path):
    """The JSON, and the Markdown and PNG of the same stem; their paths."""
    folder = os.path.dirname(json_path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(json_path)[0]
    paths = {"json": json_path, "markdown": stem + ".md",
             "png": stem + ".png"}
    with open(paths["json"], "w") as stream:
        json.dump(_plain(results), stream, indent=2)
        stream.write("\n")
    with open(paths["markdown"], "w") as stream:
        stream.write(markdown(results))
    plot(results, paths["png"])
    return paths
