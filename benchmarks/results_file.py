"""Where every benchmark's figures go: one JSON file, its folder made."""
import json
import os


def write_json(results, path):
    """Writes ``results`` to ``path`` (creating its folder) and says so."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w") as stream:
        json.dump(results, stream, indent=2)
        stream.write("\n")
    print(f"\nresults written to {path}")
