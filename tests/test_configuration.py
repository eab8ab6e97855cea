"""spiDNN runs without a toolchain config file and writes none."""
import os

import numpy
import pytest

from spiDNN.machines.toolchain import config

from conftest import spidnn_model


def test_no_user_config_means_the_virtual_machine(tmp_path, monkeypatch):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.chdir(work)
    assert config.find_user_cfgs() == []
    model = spidnn_model(3, [(2, "sigmoid")])
    model.predict(numpy.ones((2, 3)))
    assert model.last_run.backend == "virtual"
    assert os.listdir(home) == [] and os.listdir(work) == []


@pytest.mark.unit
def test_a_user_config_naming_a_board_selects_it(tmp_path):
    cfg = tmp_path / ".spiNNakerGraphFrontEnd.cfg"
    cfg.write_text("[Machine]\nmachine_name = 192.168.240.253\n"
                   "version = 5\n")
    assert config.board_from_user_cfg([str(cfg)]) == (
        "machine_name", "192.168.240.253")
    cfg.write_text("[Machine]\nmachine_name = None\nspalloc_server = None\n")
    assert config.board_from_user_cfg([str(cfg)]) is None
