"""Configuration of the SpiNNaker toolchain for one spiDNN session.

The toolchain reads ``~/.spiNNakerGraphFrontEnd.cfg``; when that file is
missing it writes a template into the user's home and raises.  spiDNN must
work without the file and write nothing into the home or working directory,
so it builds the configuration itself: the toolchain's own defaults, then
spiDNN's (a virtual 48-chip board, reports in a private temporary folder),
then the user's file where one exists.  A user file that names a board
(``machine_name``, ``spalloc_server`` or ``remote_spinnaker_url``) selects
the board backend.
"""
import configparser
import os

import appdirs
from spinn_utilities.config_holder import (
    add_default_cfg, clear_cfg_files, set_cfg_files)
from spinn_front_end_common.data.fec_data_writer import FecDataWriter
from spinn_front_end_common.interface.config_setup import add_pacman_cfg
from spinn_front_end_common.interface.config_setup import add_spinnman_cfg
import spinnaker_graph_front_end

#: The file name the graph front end reads its user settings from.
USER_CFG_NAME = "spiNNakerGraphFrontEnd.cfg"

#: Options that, when set in the user file, name a physical machine.
BOARD_OPTIONS = ("machine_name", "spalloc_server", "remote_spinnaker_url")


def user_cfg_paths():
    """Where the toolchain looks for the user's configuration file."""
    dotname = "." + USER_CFG_NAME
    return [os.path.join(appdirs.site_config_dir(), dotname),
            os.path.join(appdirs.user_config_dir(), dotname),
            os.path.join(os.path.expanduser("~"), dotname),
            os.path.join(os.getcwd(), USER_CFG_NAME)]


def find_user_cfgs():
    """The user's configuration files that exist, in reading order."""
    return [path for path in user_cfg_paths() if os.path.isfile(path)]


def _is_set(value):
    return value is not None and value.strip() not in ("", "None")


def board_from_user_cfg(paths):
    """The first board option the user's files set, or None.

    :return: ``(option, value)`` or None when no board is configured
    """
    parser = configparser.ConfigParser()
    parser.read(paths)
    if not parser.has_section("Machine"):
        return None
    for option in BOARD_OPTIONS:
        value = parser.get("Machine", option, fallback=None)
        if _is_set(value):
            return option, value
    return None


def write_session_defaults(folder, virtual, live=False):
    """spiDNN's defaults for one session, written into its private folder.

    :param live: the virtual machine's edge speaks a board's live I/O
        (spiDNN/vm/live.py), which needs the live I/O database

    :return: the path of the written file
    """
    cfg = configparser.ConfigParser()
    cfg.optionxform = str
    cfg["Reports"] = {"default_report_file_path": folder}
    cfg["Mode"] = {"mode": "Production"}
    if virtual:
        # No monitor cores beyond core 0: all 17 others run the model.
        cfg["Machine"] = {"virtual_board": "True", "version": "5",
                          "enable_advanced_monitor_support": "False",
                          "enable_reinjection": "False"}
        # The live I/O database tells a board's LiveEventConnection every
        # atom's key; the virtual machine's in-process edge reads none of
        # it, only its live edge does.  Writing it took half of a large
        # model's mapping (a row per weight sent back: 16.8 M for a
        # 4096 x 4096 layer).
        cfg["Database"] = {"create_database": str(live)}
    path = os.path.join(folder, "spiDNN-session.cfg")
    with open(path, "w", encoding="utf-8") as handle:
        cfg.write(handle)
    return path


def setup_session_configs(folder, live=False):
    """Point the toolchain's configuration at spiDNN's files.

    :return: True when the session runs on the virtual machine
    """
    user_cfgs = find_user_cfgs()
    board = board_from_user_cfg(user_cfgs)
    clear_cfg_files(False)
    add_pacman_cfg()
    add_spinnman_cfg()
    from spinn_front_end_common.interface import config_setup
    add_default_cfg(os.path.join(
        os.path.dirname(config_setup.__file__), "spinnaker.cfg"))
    add_default_cfg(os.path.join(
        os.path.dirname(spinnaker_graph_front_end.__file__), USER_CFG_NAME))
    defaults = write_session_defaults(folder, virtual=board is None,
                                      live=live)
    # The user's file is read after all defaults; with none, only defaults
    # are read and no template is ever written into the home folder.
    set_cfg_files(config_file=USER_CFG_NAME if user_cfgs else None,
                  default=defaults)
    FecDataWriter.mock()
    return board is None
