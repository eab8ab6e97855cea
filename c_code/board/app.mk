# One app's .aplx through the SDK's own make files (front-end-common's
# local.mk over spinnaker_tools.mk), included by c_code/<app>/Makefile
# after it sets APP and SOURCES.  Needs SPINN_DIRS (an SDK built as
# board/sdk.sh does) and APP_OUTPUT_DIR; c_code/Makefile's `aplx` sets
# both.
#
# FEC's log converter rewrites the log_* calls of the sources it is given
# (SOURCE_DIRS) into modified_src/ beside each, and only those are
# compiled.  An app includes the shared headers of common/ and kernels/,
# which log too, so all three folders are source folders.  So that the
# converted copies land in the build tree, not among the sources, each is
# reached through a link build/board/<app>/<folder>/src, and local.mk puts
# its copy in build/board/<app>/<folder>/modified_src/.
ifndef SPINN_DIRS
    $(error SPINN_DIRS is not set: run `make aplx` at the top of spiDNN, \
        which builds the SDK, or point SPINN_DIRS at a built spinnaker_tools)
endif
# FEC's master replaced local.mk by fec.mk, whose log converter call (a
# database key and an output folder) is that of spinn_utilities' master,
# not of the 7.4.1 release that spiDNN's toolchain packages install: the
# SDK must be the release that matches them.
ifeq ($(wildcard $(SPINN_DIRS)/make/local.mk),)
    $(error $(SPINN_DIRS)/make/local.mk is missing: SPINN_DIRS must be a \
        spinnaker_tools with front-end-common 7.4.1 installed into it \
        (its `make install`), the release of the toolchain packages \
        spiDNN installs)
endif

BOARD_C_CODE := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
include $(BOARD_C_CODE)/board/flags.mk
BOARD_TREE := $(BOARD_C_CODE)/build/board/$(APP)
BOARD_FOLDERS := $(APP) common kernels
$(shell mkdir -p $(BOARD_FOLDERS:%=$(BOARD_TREE)/%) && \
    for f in $(BOARD_FOLDERS); do \
        ln -sfn $(BOARD_C_CODE)/$$f $(BOARD_TREE)/$$f/src; done)
SOURCE_DIRS := $(BOARD_FOLDERS:%=$(BOARD_TREE)/%/src)
BUILD_DIR := $(BOARD_TREE)/build/

# spinnaker_tools.mk sets THUMB := 0 itself; override keeps Thumb state
# (flags.mk says why), which brings its -mthumb -DTHUMB.
override THUMB := 1
# local.mk's optimisation, else the SDK's -Ofast (flags.mk).
FEC_OPT := $(BOARD_OPT)
# local.mk defines APPLICATION_NAME_HASH from APP; the layouts header is
# generated (c_code/Makefile) and logs nothing, so it is not converted.
CFLAGS += -I$(BOARD_C_CODE)/build/generated -Werror -Wdouble-promotion \
    -Wno-unused-parameter

include $(SPINN_DIRS)/make/local.mk

# spinnaker_tools.mk's own rule compiles a source found in the current
# folder, which make prefers to local.mk's rule for the converted copy
# (that copy does not exist yet when make chooses): it would compile the
# app's unconverted source.  A pattern rule without a recipe cancels it.
$(BUILD_DIR)%.o: %.c

# Keeps the objects, which make would delete as intermediates: c_code's
# arm-check reads what they leave undefined.
.SECONDARY: $(OBJECTS)
