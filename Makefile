# spiDNN from a fresh clone: `make example` runs the main example on the
# virtual machine; `make test` runs the whole test suite, `make test-fast`
# its unit tier (seconds); test-machine, test-live and test-system the
# other tiers (pytest.ini).  Each installs what it needs first.  `make
# aplx` builds the apps for a board (README.rst, "Running on a board").
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install arm-toolchain aplx example test arm-check benchmark \
    benchmark-quick clean test-fast test-machine test-live test-system

install:
	$(PIP) install -q -e ".[test]"

# Debian's ARM cross compiler, for the board build and the calibration.
arm-toolchain:
	@command -v arm-none-eabi-gcc >/dev/null || { \
	    apt-get update -q && \
	    apt-get install -y -q gcc-arm-none-eabi libnewlib-arm-none-eabi; }

example: install
	$(PYTHON) examples/digits_train.py

# The SDK (from ../shared/sdk, or SPINN_DIRS) and every app's .aplx, into
# spiDNN/binaries.  FEC's log converter comes with the toolchain's Python
# packages (spinnutilities), which `make install` brings.
aplx: arm-toolchain
	@$(PYTHON) -c 'import spinn_utilities.make_tools' 2>/dev/null || { \
	    echo "$(PYTHON) has no spinn_utilities (FEC's log converter):" \
	        "run make install first" >&2; exit 1; }
	$(MAKE) -C c_code aplx PYTHON=$(PYTHON)

# The board build, and its check that the apps call only the SDK.
arm-check: aplx
	$(MAKE) -C c_code arm-check PYTHON=$(PYTHON)

# Two workers (pytest-xdist; the live tests on one of them, in turn):
# the suite takes about half as long on a machine's two cores.
PYTEST_WORKERS ?= 2

test: install arm-check
	$(PYTHON) -m pytest tests -q -n $(PYTEST_WORKERS) --dist loadgroup

# The tiers (pytest.ini, tests/conftest.py): unit maps nothing through the
# toolchain; machine runs models on the in-process virtual machine; live
# the live I/O (fixed UDP ports: one run at a time); system the examples,
# the benchmarks' tests and the cost table's ARM replays.
test-fast: install
	$(PYTHON) -m pytest tests -q -m unit

test-machine: install
	$(PYTHON) -m pytest tests -q -m machine

test-live: install
	$(PYTHON) -m pytest tests -q -m live

test-system: install arm-check
	$(PYTHON) -m pytest tests -q -m system

# The MNIST suite (MLPs and LeNets, spiDNN against Keras): JSON, Markdown
# and PNG in benchmarks/results/.  The quick mode takes about a minute.
benchmark-quick: install
	$(PYTHON) -m benchmarks.mnist_suite --quick

benchmark: install
	$(PYTHON) -m benchmarks.mnist_suite

clean:
	$(MAKE) -C c_code clean
