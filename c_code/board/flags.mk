# The compiler flags of the board's code, in one place: the .aplx builds
# (board/app.mk, through the SDK's make files) and the calibration's ARM
# builds (arm-check, arm-trace in ../Makefile) both use them, so the cost
# table measures the code a board runs.
#
# - Thumb state: the ARM968 fetches one 32-bit word per cycle from ITCM
#   either way, so ARM code would run faster, but at -Os in ARM state
#   dense and conv overflow ITCM's 32,512 bytes; Thumb leaves them room.
#   -DTHUMB tells spinnaker_tools' headers (their inline mrs/msr need ARM
#   state, which they reach through a call in Thumb builds).
# - -Os, not the SDK's default -Ofast for apps (FEC_OPT = OTIME): -Ofast
#   turns on -ffast-math, which reassociates sums, replaces divisions by
#   reciprocals and assumes no NaN or infinity, so the board would not
#   compute the host build's bits (-O2 -ffp-contract=off).  Without
#   fast-math every float operation is one IEEE-754 single-precision
#   operation rounded to nearest: libgcc's soft-float routines on the
#   ARM968 (no FPU), SSE on the host, the same bits.
# - -ffp-contract=off: no fused multiply-adds (none exist on the ARM968;
#   stated so that a change of target cannot bring them in unnoticed,
#   and the host build says the same).
BOARD_STATE_FLAGS := -mthumb-interwork -march=armv5te -mthumb -DTHUMB
BOARD_OPT := -Os -ffp-contract=off
# What the SDK's compiler command line has besides (spinnaker_tools.mk).
BOARD_BASE_FLAGS := -std=gnu99 -ffreestanding
# The libgcc (soft-float, division) a board's app links: the SDK's link
# is gcc without state flags, so the default multilib's (ARM code), not
# the thumb/nofp one that -mthumb on a link line would choose.  The
# calibration links this same file.
BOARD_LIBGCC = $(shell $(or $(ARM_CC),arm-none-eabi-gcc) -print-libgcc-file-name)
