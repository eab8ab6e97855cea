"""``python -m benchmarks.mnist_suite [--quick] ...`` from the repository
root: runs the suite (``cli.main``)."""
from .cli import main

if __name__ == "__main__":
    main()
