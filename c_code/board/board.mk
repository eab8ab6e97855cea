# The board build, included by c_code/Makefile: the SDK, every app's
# .aplx through the SDK's make files (app.mk), their fit, and the check
# that the apps call nothing the SDK's libraries do not define.

# The SDK: SPINN_DIRS where the user has one (a spinnaker_tools with
# spinn_common and front-end-common installed into it), else built by
# sdk.sh from the 7.4.1 release archives into a cache folder named by
# what it is built from (the archives, sdk.sh, the compiler), so that
# clones and CI runs share one build and a change of any of them makes a
# new one.
SDK_ARCHIVES ?= $(abspath ../../shared/sdk)
SDK_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/spiDNN/sdk
SDK_ARCHIVE_FILES = $(foreach n,spinnaker_tools spinn_common \
    SpiNNFrontEndCommon-c_common,$(SDK_ARCHIVES)/$(n)-7.4.1.tar.gz)
SDK_KEY = $(shell { cat $(SDK_ARCHIVE_FILES) board/sdk.sh; \
    $(ARM_CC) --version | head -1; } 2>/dev/null | sha256sum | cut -c1-16)
ifdef SPINN_DIRS
    SDK_ROOT :=
    BOARD_SPINN_DIRS := $(SPINN_DIRS)
    # The log dictionary of the user's FEC build: C_LOGS_DICT, else
    # spinn_utilities' default (the converter's own rule).
    SDK_LOGS = $(or $(C_LOGS_DICT),$(shell $(PYTHON) -c 'import os, \
        spinn_utilities.make_tools as m; \
        print(os.path.join(os.path.dirname(m.__file__), "logs.sqlite3"))'))
    SDK_STAMP_KEY = $(shell printf '%s' '$(SPINN_DIRS)' | sha256sum | cut -c1-16)
    # FEC's sources (the constants its headers leave to them), which
    # arm-check needs: the user's c_common/front_end_common_lib/src.
    FEC_SOURCE ?=
else
    SDK_ROOT = $(SDK_CACHE)/7.4.1-$(SDK_KEY)
    BOARD_SPINN_DIRS = $(SDK_ROOT)/spinnaker_tools
    SDK_LOGS = $(SDK_ROOT)/logs.sqlite3
    SDK_STAMP_KEY = $(SDK_KEY)
    FEC_SOURCE = $(SDK_ROOT)/SpiNNFrontEndCommon/c_common/front_end_common_lib/src
endif

BOARD := build/board
# The log dictionary of this build of the apps: the SDK's, to which each
# app's converted messages are added; it ships beside the .aplx files
# (the toolchain decodes a board's logs with it).
BOARD_LOGS := $(abspath $(BOARD))/logs.sqlite3
APLX := $(APPS:%=$(BINARIES)/%.aplx)
# FEC's make files run `python -m spinn_utilities...`: this python.
BOARD_PYTHON := $(BOARD)/bin/python
BOARD_ENV = SPINN_DIRS=$(BOARD_SPINN_DIRS) \
    PERL5LIB=$(BOARD_SPINN_DIRS)/tools \
    PATH=$(abspath $(BOARD)/bin):$(BOARD_SPINN_DIRS)/tools:$$PATH \
    C_LOGS_DICT=$(BOARD_LOGS)

sdk:
ifndef SPINN_DIRS
	@test -f $(SDK_ARCHIVES)/spinnaker_tools-7.4.1.tar.gz || { \
	    echo "No SpiNNaker SDK: $(SDK_ARCHIVES) has no 7.4.1 release" \
	        "archives; set SDK_ARCHIVES to the folder that has them, or" \
	        "SPINN_DIRS to a built spinnaker_tools" >&2; exit 1; }
	@test -d $(SDK_ROOT) || echo "building the SpiNNaker SDK into $(SDK_ROOT)"
	@PYTHON=$(PYTHON) board/sdk.sh $(SDK_ARCHIVES) $(SDK_ROOT)
endif

# A fresh log dictionary whenever the SDK changes: the stamp is named by
# the SDK, and every .aplx depends on it, so all are then rebuilt.
# (An explicit target: a pattern rule's would be intermediate, and make
# does not remake a missing intermediate file.)
BOARD_STAMP := $(BOARD)/sdk-$(SDK_STAMP_KEY).stamp
$(BOARD_STAMP): | sdk
	@mkdir -p $(BOARD)/bin
	rm -f $(BOARD)/sdk-*.stamp
	cp $(SDK_LOGS) $(BOARD_LOGS)
	printf '#!/bin/sh\nexec %s "$$@"\n' "$$(command -v $(PYTHON))" \
	    > $(BOARD_PYTHON) && chmod +x $(BOARD_PYTHON)
	touch $@

aplx: $(APLX)
	cp $(BOARD_LOGS) $(BINARIES)/logs.sqlite3
	@$(PYTHON) ../spiDNN/abi/aplx.py $(APLX)

# Each app from scratch (its converted sources, objects and image), so
# that a change to any header it includes rebuilds it: local.mk converts
# a folder only when the folder itself is newer than its copy.  The
# build's output goes to build/board/<app>.log, and its tail on failure.
$(BINARIES)/%.aplx: %/*.c %/Makefile $(APP_OWN_HEADERS) \
        $(filter-out include/%,$(APP_HEADERS)) \
        $(LAYOUTS) board/app.mk board/flags.mk $(BOARD_STAMP)
	@rm -rf $(BOARD)/$* $@
	@echo "aplx $*"
	@$(BOARD_ENV) $(MAKE) -C $* APP_OUTPUT_DIR=$(abspath $(BINARIES))/ \
	    > $(BOARD)/$*.log 2>&1 || { tail -40 $(BOARD)/$*.log; exit 1; }

# The symbols an app's object leaves undefined must be defined by the
# spin1 API (with SARK) or front-end-common's library, or be libgcc's
# soft-float, division and Thumb helpers: nothing of newlib's C library,
# which the link would otherwise bring in silently, and nothing of
# spinn_common's, which the SDK builds with -Ofast.
BOARD_API_LIBS = $(BOARD_SPINN_DIRS)/lib/libspin1_api.a \
    $(BOARD_SPINN_DIRS)/lib/libspinn_frontend_common.a

arm-check: aplx
	@defined=" $$($(ARM_NM) --defined-only -g $(BOARD_API_LIBS) \
	    | awk 'NF == 3 {print $$3}' | sort -u | tr '\n' ' ') "; \
	for app in $(APPS); do \
	    objects=$$(ls $(BOARD)/$$app/build/*.o | grep -v '_build\.o$$'); \
	    [ -n "$$objects" ] || { echo "$$app: no objects in" \
	        "$(BOARD)/$$app/build"; exit 1; }; \
	    for sym in $$($(ARM_NM) -u $$objects | awk '{print $$2}'); do \
	        case "$$defined" in *" $$sym "*) continue;; esac; \
	        case $$sym in __aeabi_*|__*sf*|__*si*|__gnu_thumb1_case_*) \
	            continue;; esac; \
	        echo "$$app calls $$sym, which SpiNNaker does not provide"; \
	        exit 1; \
	    done; \
	done
	$(PYTHON) ../tools/header_check.py $(BOARD_SPINN_DIRS) $(FEC_SOURCE)
	@echo "arm-check passed: $(APPS)"

# The SDK's folders, for the tests (`make -s sdk-paths`): SPINN_DIRS, then
# FEC's sources where known.
sdk-paths: sdk
	@echo $(BOARD_SPINN_DIRS)
	@echo $(FEC_SOURCE)

# The board's compiler flags (flags.mk), for the test that finds them in
# each app's board compile line and in the calibration's.
board-flags:
	@echo $(BOARD_BASE_FLAGS) $(BOARD_STATE_FLAGS) $(BOARD_OPT)
