#!/usr/bin/env bash
# Builds the SpiNNaker C SDK (spinnaker_tools, spinn_common and
# front-end-common's c_common, from the release archives in ARCHIVES) into
# OUT, the way their READMEs do: OUT/spinnaker_tools is then a SPINN_DIRS
# (libraries, headers, FEC's local.mk) and OUT/logs.sqlite3 the log
# dictionary of FEC's converted sources, which every app build adds to.
#
#   sdk.sh ARCHIVES OUT
#
# OUT appears whole or not at all (built beside it, then renamed), so an
# interrupted build or two builds at once never leave half an SDK there.
set -euo pipefail
archives=$(cd "$1" && pwd)
out=$2
[ -d "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
for name in spinnaker_tools spinn_common SpiNNFrontEndCommon-c_common; do
    tar -xzf "$archives/$name-7.4.1.tar.gz" -C "$work"
done
export SPINN_DIRS=$work/spinnaker_tools
export PERL5LIB=$SPINN_DIRS/tools${PERL5LIB:+:$PERL5LIB}
export PATH=$SPINN_DIRS/tools:$PATH
# The log dictionary: the SDK's own, not spinn_utilities' default in the
# Python installation (which FEC's build would otherwise overwrite).
export C_LOGS_DICT=$work/logs.sqlite3
chmod u+x "$SPINN_DIRS"/tools/*
# FEC's make files call `python` for the log converter: the one given.
if [ -n "${PYTHON:-}" ]; then
    mkdir -p "$work/bin"
    ln -s "$(command -v "$PYTHON")" "$work/bin/python"
    export PATH=$work/bin:$PATH
fi
{
    make -C "$SPINN_DIRS"
    make -C "$work/spinn_common"
    make -C "$work/spinn_common" install
    make -C "$work/SpiNNFrontEndCommon/c_common/front_end_common_lib"
    make -C "$work/SpiNNFrontEndCommon/c_common/front_end_common_lib" install
} > "$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
rm -rf "$work/bin"
# The paths inside (SPINN_DIRS) are those of OUT once renamed: nothing
# built records its folder, but the make files are read with SPINN_DIRS
# set afresh by each app build.
trap - EXIT
mv "$work" "$out" 2>/dev/null || rm -rf "$work"   # another build won
