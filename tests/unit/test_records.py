"""Telemetry records and the wire schema: good records round-trip, bad ones say why."""

import jsonschema
import pytest

from workbench.telemetry import (
    CarSample,
    Compound,
    LapRecord,
    SessionInfo,
    TelemetryValidationError,
    TrackStatus,
    json_schema,
    to_wire,
    validate,
    validate_batch,
)

LAP = {"type": "lap", "session_time_s": 200.5, "driver": "VER", "lap_number": 2, "position": 1,
       "lap_time_s": 98.2, "compound": "SOFT", "tyre_age_laps": 2, "stint": 1}
SAMPLE = {"type": "car_sample", "session_time_s": 12.3, "driver": "LEC", "lap": 1, "speed_kph": 301.2,
          "throttle_pct": 100, "brake": False, "gear": 8, "fuel_kg": 99.1}


def test_valid_lap_becomes_typed_record():
    record = validate(LAP)
    assert isinstance(record, LapRecord)
    assert record.compound is Compound.SOFT and record.track_status is TrackStatus.GREEN
    assert record.lap_time_s == 98.2 and record.pit_in is False


@pytest.mark.parametrize("record", [
    LapRecord(1.0, "VER", 1, position=3, compound=Compound.HARD, compound_detail="C1", pit_in=True),
    CarSample(2.0, "HAM", 1, speed_kph=120.5, brake=True, gear=3),
    SessionInfo(0.0, "Bahrain International Circuit", total_laps=57, rainfall=False),
])
def test_wire_round_trip(record):
    assert validate(to_wire(record)) == record


@pytest.mark.parametrize("spelling,canonical", [
    ("soft", Compound.SOFT), ("S", Compound.SOFT), ("Medium", Compound.MEDIUM), ("h", Compound.HARD),
    ("INTER", Compound.INTERMEDIATE), ("intermediate", Compound.INTERMEDIATE), ("wet", Compound.WET),
])
def test_compound_spellings_normalize(spelling, canonical):
    assert validate({**LAP, "compound": spelling}).compound is canonical


def test_integral_float_is_accepted_as_integer():
    assert validate({**LAP, "lap_number": 3.0}).lap_number == 3


BAD = [
    ({**LAP, "tyre_age_laps": -2}, "tyre_age_laps: -2 is below minimum 0"),
    ({**LAP, "lap_number": 0}, "lap_number: 0 is below minimum 1"),
    ({**LAP, "lap_number": 2.5}, "lap_number: 2.5 is not an integer"),
    ({**LAP, "lap_time_s": "98.2"}, "lap_time_s: '98.2' is not a number"),
    ({**LAP, "lap_time_s": float("nan")}, "lap_time_s: nan is not a finite number"),
    ({**LAP, "position": True}, "position: True is not a integer"),
    ({**LAP, "compound": "C3"}, "compound: 'C3' is a Pirelli compound code"),
    ({**LAP, "compound": "SUPERSOFT"}, "compound: 'SUPERSOFT' is not a compound"),
    ({**LAP, "driver": "max"}, "driver: 'max' does not match pattern"),
    ({**LAP, "track_status": "PURPLE"}, "track_status: 'PURPLE' is not one of GREEN, YELLOW, VSC, SC, RED"),
    ({**LAP, "tyre_age": 3}, "tyre_age: 3 is not a field of a lap record"),
    ({k: v for k, v in LAP.items() if k != "driver"}, "driver: None is missing but the field is required"),
    ({**LAP, "driver": None}, "driver: None is null but the field is required"),
    ({**LAP, "type": "lapp"}, "type: 'lapp' is not one of car_sample, lap, session, event"),
    ({**LAP, "type": {}}, "type: {} is not one of car_sample, lap, session, event"),  # found by schemathesis
    ({**LAP, "schema_version": "2.0"}, "schema_version: '2.0' is not compatible with schema version 1.0"),
    ({**SAMPLE, "speed_kph": 512}, "speed_kph: 512 is above maximum 400"),
    ({**SAMPLE, "brake": 1}, "brake: 1 is not a boolean"),
    ({**SAMPLE, "gear": 9}, "gear: 9 is above maximum 8"),
    ({"type": "event", "session_time_s": 5, "kind": "banana"}, "kind: 'banana' is not one of pit_in"),
    ([1, 2], "[1, 2] is not a JSON object"),
]


@pytest.mark.parametrize("obj,message", BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)])
def test_bad_input_names_field_value_and_rule(obj, message):
    with pytest.raises(TelemetryValidationError) as info:
        validate(obj)
    assert str(info.value).startswith(message)


def test_batch_error_names_the_record_index():
    batch = {"type": "batch", "records": [LAP, LAP, SAMPLE, {**LAP, "tyre_age_laps": -2}]}
    with pytest.raises(TelemetryValidationError) as info:
        validate_batch(batch)
    assert str(info.value) == "records[3].tyre_age_laps: -2 is below minimum 0"
    assert info.value.reason == "records[].tyre_age_laps: is below minimum 0"


def test_batch_of_valid_records():
    records = validate_batch({"type": "batch", "records": [LAP, SAMPLE]})
    assert [type(r) for r in records] == [LapRecord, CarSample]


def test_published_schema_is_valid_and_agrees_with_validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema)
    assert schema["version"] == "1.0"
    for good in (LAP, SAMPLE, {"type": "batch", "records": [LAP, SAMPLE]}, to_wire(validate(LAP))):
        assert checker.is_valid(good), good
    # NaN cannot arrive in strict JSON and version compatibility is a rule of the validator only.
    for bad, message in BAD:
        if not message.startswith(("lap_time_s: nan", "schema_version")):
            assert not checker.is_valid(bad), message
