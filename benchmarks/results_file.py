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


def aligned(rows):
    """[(name, value)] as lines, the values in one column."""
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]


def run_benchmark(parse_args, run, table, argv=None):
    """A benchmark's main: its figures run, printed and written to the
    JSON file of its ``--output``."""
    args = parse_args(argv)
    results = run(args)
    print(table(results))
    write_json(results, args.output)
    return results
