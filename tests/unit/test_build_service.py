"""Issue 17 item 3: one `build_service(config)` behind racetwin serve, panel serve apps/*.py and the notebooks."""

import asyncio

import pytest

from workbench.service import server
from workbench.service.server import ServiceConfig, app_service, build_service


def _close(service) -> None:
    for part in (service.orchestrator, service.predictor):
        if part is not None:
            part.close()
    service.hub.close()
    if service.hub.store is not None:
        service.hub.store.close()


def test_defaults_are_racetwin_serves_with_every_engine_attached():
    service = build_service(ServiceConfig())
    try:
        assert service.config == ServiceConfig()
        assert service.hub.our_driver == "VER" and service.hub.race is not None and service.hub.store is None
        assert service.simulator.seed == 0 and service.speed == 1.0
        assert service.orchestrator.total_runs == 10_000 and service.orchestrator.seed == 0
        assert service.orchestrator.session is service.hub and service.recommender.hub is service.hub
        assert service.predictor.runs == 1000 and service.predictor.seed == 0
    finally:
        _close(service)


def test_no_source_for_notebooks_and_engines_off():
    service = build_service(ServiceConfig(car="LEC", seed=3, source="none", strategy_runs=0, predict_runs=0))
    try:
        assert service.simulator is None and service.hub.our_driver == "LEC"
        assert service.orchestrator is None and service.recommender is None and service.predictor is None
        assert service.llm_state() == {"state": "off"}
    finally:
        _close(service)


def test_live_without_a_race_has_no_engines_and_a_store_when_asked(tmp_path):
    service = build_service(ServiceConfig(car="C00", source="live", data_dir=tmp_path))
    try:
        assert service.simulator is None and service.hub.race is None and service.orchestrator is None
        assert service.hub.store is not None and "-live-C00-1" in service.hub.session_id
    finally:
        _close(service)


@pytest.mark.parametrize(("kw", "message"), [
    ({"source": "file"}, "source: 'file' is not one of simulator, replay, live, none"),
    ({"source": "replay"}, "replay: None does not fit source 'replay'"),
    ({"resume": True, "source": "live"}, "--resume: only the simulator source can be resumed"),
    ({"resume": True}, "resume: needs data_dir"),
    ({"strategy_runs": -1}, "strategy_runs: -1 is below minimum 0"),
])
def test_config_errors_name_field_and_value(kw, message):
    with pytest.raises(ValueError, match=message):
        ServiceConfig(**kw)


def test_unknown_car_is_named():
    with pytest.raises(ValueError, match="car: 'XYZ' is not in the race 2024 Bahrain Grand Prix; drivers are VER, LEC"):
        build_service(ServiceConfig(car="XYZ", strategy_runs=0, predict_runs=0))


def test_from_env_reads_seed_car_speed_and_names_a_bad_value():
    config = ServiceConfig.from_env({"RACETWIN_SEED": "7", "RACETWIN_CAR": "HAM", "RACETWIN_SPEED": "20"},
                                    predict_runs=0)
    assert (config.seed, config.car, config.speed, config.predict_runs, config.strategy_runs) == (
        7, "HAM", 20.0, 0, 10_000)
    assert ServiceConfig.from_env({}) == ServiceConfig()
    with pytest.raises(ValueError, match="RACETWIN_SEED: 'x' is not an integer"):
        ServiceConfig.from_env({"RACETWIN_SEED": "x"})


def test_app_service_is_built_once_and_started(monkeypatch):
    monkeypatch.setattr(server, "_app_service", None)

    async def main():
        first = app_service(ServiceConfig(seed=2, speed=float("inf"), strategy_runs=0, predict_runs=0))
        try:
            assert app_service() is first and first.config.seed == 2
        finally:
            await first.stop()
        assert first.state in ("stopped", "finished")  # its source ran: a service never started stays idle

    asyncio.run(main())
