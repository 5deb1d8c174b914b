"""Issue 15, CLI: every careless-input case gives one line ``racetwin CMD: what: why`` and a non-zero exit.

A table, as for the record validator: each row is a command line, the exit status and the exact line
(``{tmp}`` is the test's folder). Nothing prints a traceback.
"""

import pytest

from workbench.service.cli import main


@pytest.fixture
def files(tmp_path):
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.jsonl").write_text("not json\n{\"type\": \"lap\"}\n")
    return tmp_path


CASES = [
    (["validate", "{tmp}/missing.jsonl"], 2, "racetwin validate: path: '{tmp}/missing.jsonl' does not exist"),
    (["validate", "{tmp}/binary.bin"], 2,
     "racetwin validate: path: '{tmp}/binary.bin' is not a UTF-8 text (JSON) file"),
    (["validate", "{tmp}/folder"], 2, "racetwin validate: path: '{tmp}/folder' is a folder, not a file"),
    (["generate", "--race", "{tmp}/missing.json"], 2, "racetwin generate: --race: '{tmp}/missing.json' does not exist"),
    (["generate", "--race", "{tmp}/binary.bin"], 2,
     "racetwin generate: --race: '{tmp}/binary.bin': is not UTF-8 text (byte 128: a binary file?)"),
    (["generate", "--samples", "XXX"], 2, "racetwin generate: --samples: 'XXX' is not a driver of the race; drivers "
     "are VER, LEC, RUS, SAI, PER, ALO, NOR, PIA, HAM, HUL, TSU, STR, ALB, RIC, MAG, BOT, ZHO, SAR, OCO, GAS "
     "(or 'all')"),
    (["generate", "--out", "{tmp}/nowhere/race.jsonl"], 2, "racetwin generate: --out: '{tmp}/nowhere/race.jsonl' is "
     "in a folder that does not exist ('{tmp}/nowhere')"),
    (["generate", "--out", "{tmp}/folder"], 2,
     "racetwin generate: --out: '{tmp}/folder' is a folder; give a file name"),
    (["generate", "--seed", "-1"], 2, "racetwin generate: --seed: -1 is below minimum 0"),
    (["serve", "--seed", "-1"], 2, "racetwin serve: --seed: -1 is below minimum 0"),
    (["serve", "--race", "{tmp}/missing.json"], 2, "racetwin serve: --race: '{tmp}/missing.json' does not exist"),
    (["serve", "--data-dir", "{tmp}/a-file/state"], 2, "racetwin serve: --data-dir: '{tmp}/a-file/state' cannot be "
     "created ('{tmp}/a-file' is not a writable folder)"),
    (["serve", "--data-dir", "{tmp}/a-file"], 2, "racetwin serve: --data-dir: '{tmp}/a-file' is a file, not a folder"),
    (["serve", "--future-tolerance", "-1"], 2, "racetwin serve: --future-tolerance: -1.0 is below minimum 0"),
    (["simulate", "x.race.json", "--runs", "-5"], 2, "racetwin simulate: --runs: -5 is below minimum 1"),  # once
    (["simulate", "x.race.json", "--runs", "--runs", "-5"], 2, "racetwin simulate: --runs: expected one argument"),
    (["simulate", "x.race.json", "--runs=-5"], 2, "racetwin simulate: --runs: -5 is below minimum 1"),
    (["decode", "{tmp}/junk.jsonl"], 1, "racetwin decode: '{tmp}/junk.jsonl': every item was rejected (2); no records"),
    (["decode", "{tmp}/folder"], 1, "racetwin decode: '{tmp}/folder': every item was rejected (1); no records"),
    (["decode", "{tmp}/missing.pcap"], 2,
     "racetwin decode: path: '{tmp}/missing.pcap' is not a file or an OpenF1 folder"),
    (["record", "-o", "{tmp}/nowhere/x.pcap"], 2, "racetwin record: -o: '{tmp}/nowhere/x.pcap' is in a folder that "
     "does not exist ('{tmp}/nowhere')"),
    (["record", "-o", "{tmp}/folder"], 2, "racetwin record: -o: '{tmp}/folder' is a folder; give a file name"),
    (["feed", "{tmp}/folder"], 2, "racetwin feed: path: '{tmp}/folder' is not a file"),
    (["sessions", "--data-dir", "{tmp}/folder"], 2, "racetwin sessions: --data-dir: '{tmp}/folder' holds no store "
     "(racetwin.sqlite); run racetwin serve first"),
]


@pytest.mark.parametrize(("argv", "code", "line"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_each_case_is_one_line_and_a_non_zero_exit(files, capsys, argv, code, line):
    argv = [a.replace("{tmp}", str(files)) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == code
    assert err.strip().splitlines() == [line.replace("{tmp}", str(files))]
    assert "Traceback" not in err


def test_validate_reads_a_json_array_and_pretty_printed_json(tmp_path, capsys):
    record = '{"type": "lap", "session_time_s": 90.5, "driver": "VER", "lap_number": 1}'
    (tmp_path / "array.json").write_text(f"[\n  {record},\n  {record}\n]\n")
    (tmp_path / "pretty.json").write_text(record.replace(", ", ",\n  "))
    assert main(["validate", str(tmp_path / "array.json")]) == 0
    assert main(["validate", str(tmp_path / "pretty.json")]) == 0
    assert capsys.readouterr().out.splitlines() == ["2 records valid, 0 messages rejected",
                                                    "1 records valid, 0 messages rejected"]
