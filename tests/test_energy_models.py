"""The SpiNNaker power model and the host energy measurement."""
import dataclasses
import math
import os

import pytest

from tools import host_energy
from spiDNN.costs.power_model import SpiNNakerPower, predict_energy

# Every component non-zero, so each input's effect shows.
POWER = SpiNNakerPower(joules_per_link_crossing=2e-9)
RUN = dict(seconds=2.0, chips=48, busy_cycles=3e9, router_visits=5e6,
           link_crossings=7e5, boards=1)
COMPONENT = dict(seconds=None, chips="chips_idle", busy_cycles="cores",
                 router_visits="routers", link_crossings="links",
                 boards="boards")


def test_components_add_to_total():
    energy = predict_energy(**RUN, power=POWER)
    parts = [energy[name] for name in
             ("chips_idle", "cores", "routers", "links", "boards")]
    assert all(part > 0 for part in parts)
    assert energy["total"] == pytest.approx(sum(parts), rel=1e-12)


def test_components_are_the_constants_times_the_counts():
    energy = predict_energy(**RUN, power=POWER)
    assert energy["chips_idle"] == pytest.approx(POWER.chip_idle_w * 48 * 2)
    assert energy["cores"] == pytest.approx(POWER.joules_per_core_cycle * 3e9)
    assert energy["routers"] == pytest.approx(1e-9 * 5e6)
    assert energy["links"] == pytest.approx(2e-9 * 7e5)
    assert energy["boards"] == pytest.approx(POWER.board_baseline_w * 2)


@pytest.mark.parametrize("name", sorted(RUN))
def test_each_input_scales_its_components_linearly(name):
    base = predict_energy(**RUN, power=POWER)
    tripled = predict_energy(**dict(RUN, **{name: 3 * RUN[name]}),
                             power=POWER)
    # Time scales the two powers (chips, boards); a count its own energy.
    scaled = ({"chips_idle", "boards"} if name == "seconds"
              else {COMPONENT[name]})
    for component in ("chips_idle", "cores", "routers", "links", "boards"):
        factor = 3 if component in scaled else 1
        assert tripled[component] == pytest.approx(factor * base[component])


def test_zero_activity_is_only_idle_power():
    energy = predict_energy(1.0, 1, 0, 0, 0)
    assert energy["total"] == energy["chips_idle"] == pytest.approx(0.3504,
                                                                    abs=1e-4)


def test_defaults_are_the_documented_figures():
    power = SpiNNakerPower()
    assert power.chip_idle_w * 48 == pytest.approx(16.82)
    assert power.board_baseline_w == pytest.approx(26.84 - 16.82)
    assert power.joules_per_router_visit == pytest.approx(1e-9)
    assert power.joules_per_core_cycle == pytest.approx(0.64 / 18 / 180e6)
    assert (power.clock_hz, power.chips_per_board, power.cores_per_chip,
            power.app_cores_per_chip, power.usable_app_cores_per_chip) == (
                200e6, 48, 18, 16, 17)
    with pytest.raises(dataclasses.FrozenInstanceError):
        power.chip_idle_w = 1.0


@pytest.mark.parametrize("name", sorted(RUN))
@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_bad_input_names_the_argument(name, bad):
    with pytest.raises(ValueError, match=name):
        predict_energy(**dict(RUN, **{name: bad}))


def test_non_numbers_are_refused():
    with pytest.raises(TypeError, match="chips"):
        predict_energy(**dict(RUN, chips="48"))
    with pytest.raises(TypeError, match="boards"):
        predict_energy(**dict(RUN, boards=True))


def test_overridden_constants_are_checked():
    with pytest.raises(ValueError, match="chip_idle_w"):
        SpiNNakerPower(chip_idle_w=-0.3)


def _burn(n):
    return sum(i * i for i in range(n))


def test_measure_estimates_from_cpu_time_here(monkeypatch, tmp_path):
    # No powercap tree at all (this machine's case, forced everywhere).
    monkeypatch.setattr(host_energy, "POWERCAP", str(tmp_path / "none"))
    result, reading = host_energy.measure(_burn, n=300_000)
    assert result == _burn(300_000)
    assert reading.method == "estimate"
    assert reading.joules > 0 and reading.seconds > 0
    assert "estimate" in reading.how and "CPU time" in reading.how
    # Single-threaded: at most one busy core for the wall time, plus slack.
    assert reading.joules <= (host_energy.WATTS_PER_BUSY_CORE
                              * (reading.seconds + 0.05))


def _fake_zone(root, name, energy_uj, max_uj=1_000_000):
    zone = root / name
    zone.mkdir()
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


def _consume(zones_after):
    """A callable that moves the fake counters, as the CPU would."""
    def fn():
        for zone, uj in zones_after.items():
            (zone / "energy_uj").write_text(f"{uj}\n")
        return "done"
    return fn


def test_measure_reads_rapl_package_zones(monkeypatch, tmp_path):
    package0 = _fake_zone(tmp_path, "intel-rapl:0", 1000)
    package1 = _fake_zone(tmp_path, "intel-rapl:1", 5000)
    # A sub-zone and the MMIO copy of the package: already in the packages.
    core = _fake_zone(tmp_path, "intel-rapl:0:0", 10)
    mmio = _fake_zone(tmp_path, "intel-rapl-mmio:0", 10)
    monkeypatch.setattr(host_energy, "POWERCAP", str(tmp_path))
    result, reading = host_energy.measure(_consume(
        {package0: 1_501_000, package1: 505_000, core: 999_999,
         mmio: 999_999}))
    assert result == "done"
    assert reading.method == "rapl"
    assert reading.joules == pytest.approx(1.5 + 0.5)
    assert "intel-rapl:0" in reading.how and "intel-rapl:1" in reading.how


def test_measure_handles_a_counter_wrap(monkeypatch, tmp_path):
    package = _fake_zone(tmp_path, "intel-rapl:0", 999_900,
                         max_uj=1_000_000)
    monkeypatch.setattr(host_energy, "POWERCAP", str(tmp_path))
    _, reading = host_energy.measure(_consume({package: 50}))
    # 100 uJ up to the wrap, 50 after it.
    assert reading.method == "rapl"
    assert reading.joules == pytest.approx(150e-6)


def test_measure_falls_back_when_a_counter_is_unreadable(monkeypatch,
                                                        tmp_path):
    (tmp_path / "intel-rapl:0").mkdir()  # a zone without energy_uj
    monkeypatch.setattr(host_energy, "POWERCAP", str(tmp_path))
    _, reading = host_energy.measure(_burn, 100_000)
    assert reading.method == "estimate"
    assert reading.joules > 0


def test_gpu_sampler_says_nvidia_smi_is_absent(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not os.listdir(tmp_path)
    with pytest.raises(host_energy.GPUPowerUnavailable, match="nvidia-smi"):
        with host_energy.gpu_power_sampler():
            pass
