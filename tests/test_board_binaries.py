"""A board run without spiDNN's board binaries fails before anything is
mapped, naming what is missing and how to build it; with them, the board's
logs decode with the dictionary built beside them."""
import os

import pytest

from spiDNN.abi import apps
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.machines.toolchain import board_binaries, config
from spiDNN.machines.toolchain.session import ToolchainSession


def _board_cfg(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spiNNakerGraphFrontEnd.cfg").write_text(
        "[Machine]\nmachine_name = 192.0.2.1\nversion = 5\n")
    monkeypatch.setattr(config, "user_cfg_paths", lambda: [
        str(home / ".spiNNakerGraphFrontEnd.cfg")])


def test_missing_binaries_are_named(tmp_path):
    (tmp_path / "dense.aplx").write_bytes(b"")
    with pytest.raises(SpiDNNConfigurationError) as error:
        board_binaries.check_board_binaries(str(tmp_path))
    message = str(error.value)
    assert "make aplx" in message and "dense.aplx" not in message
    for name in [f"{app.name}.aplx" for app in apps.APPS
                 if app.name != "dense"] + ["logs.sqlite3"]:
        assert name in message
    for app in apps.APPS:
        (tmp_path / f"{app.name}.aplx").write_bytes(b"")
    (tmp_path / "logs.sqlite3").write_bytes(b"")
    board_binaries.check_board_binaries(str(tmp_path))


def test_the_user_log_dictionary_wins(tmp_path):
    environ = {}
    board_binaries.use_log_dictionary(str(tmp_path), environ)
    assert environ["C_LOGS_DICT"] == str(tmp_path / "logs.sqlite3")
    environ = {"C_LOGS_DICT": "/theirs.sqlite3"}
    board_binaries.use_log_dictionary(str(tmp_path), environ)
    assert environ["C_LOGS_DICT"] == "/theirs.sqlite3"


def test_a_board_session_without_binaries_stops_before_mapping(
        tmp_path, monkeypatch):
    _board_cfg(tmp_path, monkeypatch)
    monkeypatch.setattr("spiDNN.machines.toolchain.session.BINARIES",
                        str(tmp_path))
    with pytest.raises(SpiDNNConfigurationError, match="make aplx"):
        with ToolchainSession():
            pass
    assert "C_LOGS_DICT" not in os.environ or os.environ[
        "C_LOGS_DICT"] != str(tmp_path / "logs.sqlite3")
