"""The store reads what it can and names what it cannot; the atomic write never leaves half a file."""
import errno
import json
import os
from pathlib import Path

import pytest

from coursekit import files, store
from test_figures import fake_result

FIX = "coursekit regenerate --profile quick --experiment intro_cnn --force"


@pytest.fixture
def results(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    return tmp_path


def test_a_missing_result_is_none(results):
    assert store.read_result("intro_cnn", "quick") is None


def test_a_truncated_result_names_its_file_and_the_fix(results):
    path = results / "intro_cnn.quick.json"
    path.write_text('{"experiment": "intro_cnn", "metr')
    with pytest.raises(store.BadResultError) as caught:
        store.read_result("intro_cnn", "quick")
    message = str(caught.value)
    assert str(path) in message and "not valid JSON" in message and FIX in message
    assert "\n" not in message and isinstance(caught.value, ValueError)


def test_a_result_of_the_wrong_shape_names_the_missing_keys(results):
    shaped = {k: v for k, v in fake_result().items() if k not in ("provenance", "config_hash", "metrics")}
    (results / "intro_cnn.quick.json").write_text(json.dumps(shaped))
    with pytest.raises(store.BadResultError, match=r"missing the keys config_hash, metrics, provenance") as caught:
        store.read_result("intro_cnn", "quick")
    assert str(results / "intro_cnn.quick.json") in str(caught.value) and FIX in str(caught.value)


def test_json_that_is_not_an_object_is_a_bad_result(results):
    (results / "intro_cnn.quick.json").write_text("[1, 2, 3]\n")
    with pytest.raises(store.BadResultError, match="not a JSON object"):
        store.read_result("intro_cnn", "quick")


def test_bytes_that_are_not_text_are_a_bad_result(results):
    (results / "intro_cnn.quick.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(store.BadResultError, match="not valid JSON"):
        store.read_result("intro_cnn", "quick")


def test_stored_reports_a_bad_file_and_keeps_the_rest(results):
    (results / "intro_cnn.quick.json").write_text(json.dumps(fake_result()))
    (results / "intro_fast.quick.json").write_text("{")
    (results / "notes.json").write_text("{}")  # not named like a result: the fix is to remove it
    with pytest.raises(store.BadResultError, match="intro_fast.quick.json"):
        store.stored()
    warnings: list[str] = []
    assert [r["experiment"] for r in store.stored(warn=warnings.append)] == ["intro_cnn"]
    assert len(warnings) == 2
    assert "intro_fast.quick.json" in warnings[0] and "--experiment intro_fast --force" in warnings[0]
    assert "notes.json" in warnings[1] and "move it out of" in warnings[1]


# --- the one atomic write -------------------------------------------------------------------------

def hidden_temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


def test_a_full_disk_while_writing_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    target.write_text("old\n")
    real_write = Path.write_text

    def half_then_full(self: Path, text: str, *args, **kwargs) -> int:
        real_write(self, text[: len(text) // 2])  # part of it reached the disk, then the disk was full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(OSError) as caught:
        files.write_json(target, dict(a=1, b=2))
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_text() == "old\n" and hidden_temporaries(tmp_path) == []


def test_an_error_inside_the_block_deletes_the_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic_write(tmp_path / "figure.png") as tmp:
            tmp.write_bytes(b"half a figure")
            raise RuntimeError("drawing failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_named_as_the_target(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as caught:
            files.write_text(folder / "figure.svg", "<svg/>")
        assert caught.value.filename == str(folder / "figure.svg")  # not the hidden temporary's name
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_run_on_a_busy_machine_says_so_in_its_provenance():
    base = dict(experiment="x", profile="quick", provenance=dict(
        device="CPU", date="2026-11-30T06:00:00+00:00", wall_seconds=600, torch="2", git_commit="abc",
        data=dict(summary="tiny"), load_start=dict(cpus=2, one_minute=3.9, fifteen_minutes=3.0),
        load_end=dict(cpus=2, one_minute=2.1, fifteen_minutes=3.2)))
    # busy before it started (a 10-minute run's 15-minute average reaches back before it), alone at its end
    assert store.busy_note(base) == "" and "busy" not in store.provenance_line(base)
    base["provenance"]["wall_seconds"] = 1800  # a run of 30 minutes: its own 15-minute average counts
    assert "load average 3.2 on 2 CPUs" in store.busy_note(base)
    base["provenance"]["wall_seconds"] = 600
    base["provenance"]["load_end"]["one_minute"] = 4.2  # a second training beside it at its end
    assert "load average 4.2 on 2 CPUs" in store.busy_note(base)
    assert store.busy_note(base) in store.provenance_line(base)
    del base["provenance"]["load_start"], base["provenance"]["load_end"]  # older results, or Windows: nothing said
    assert store.busy_note(base) == ""


def test_the_data_line_says_how_a_carved_test_split_was_made():
    split = "the test part of the official training split, carved per class (seed 0)"
    data = dict(train=dict(kind="image-folder", description="Cars at 64 px", images=40), test=dict(images=20),
                targets={"cars": dict(test=dict(split=split, description=f"Cars ({split}), at 64 px"), classes=4)})
    result = dict(provenance=dict(data=data))
    assert store.describe_data(result) == f"Cars ({split}), at 64 px; 40 training and 20 test images"
    data["targets"]["pets"] = dict(test=dict(images=5), classes=2)  # several data sets: the summary is said
    assert store.describe_data(result).startswith("Cars at 64 px (an offline copy, e.g. the JPEG re-encoding")
    del data["targets"]["pets"], data["targets"]["cars"]["test"]["split"]  # an image folder's own test split
    assert store.describe_data(result).startswith("Cars at 64 px (an offline copy, e.g. the JPEG re-encoding")


def test_machine_load_reports_cpus_and_averages(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (1.234, 2.0, 3.456), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert store.machine_load() == dict(cpus=6, one_minute=1.23, fifteen_minutes=3.46)  # rounded to 2 places


def test_machine_load_is_none_where_the_system_has_no_load_average(monkeypatch):
    monkeypatch.delattr(os, "getloadavg", raising=False)  # Windows
    assert store.machine_load() is None

    def unavailable():
        raise OSError("load average unobtainable")

    monkeypatch.setattr(os, "getloadavg", unavailable, raising=False)
    assert store.machine_load() is None


@pytest.mark.skipif(not hasattr(os, "getloadavg"), reason="this system reports no load average (Windows)")
def test_machine_load_of_this_machine():
    load = store.machine_load()
    assert load is not None and load["cpus"] == os.cpu_count() >= 1
    assert load["one_minute"] >= 0 and load["fifteen_minutes"] >= 0


def test_a_detector_is_headlined_by_its_map():
    seeds = [dict(seed=s, metrics=dict(map_50=v, map=v - 0.3)) for s, v in enumerate([0.90, 0.91, 0.92])]
    assert store.headline(dict(metrics=dict(map_50=0.9), seeds=seeds)).startswith("mAP@0.5 0.910 ± 0.025 (3 seeds)")
    assert store.headline(dict(metrics=dict(map_50=0.9, map=0.6))) == "mAP@0.5 0.900"
    classifier = [dict(seed=s, metrics=dict(accuracy=a)) for s, a in enumerate([0.5, 0.6, 0.7])]
    assert store.headline(dict(metrics={}, seeds=classifier)) == "accuracy 60.0 ± 24.8 % (3 seeds)"


def test_an_age_regressor_is_headlined_by_its_mae():
    seeds = [dict(seed=i, metrics=dict(mae=m, cs5=0.4), history=[], cost={}) for i, m in enumerate((7.0, 7.5, 8.0))]
    assert store.headline(dict(metrics=dict(mae=7.0), seeds=seeds)) == "MAE 7.50 ± 1.24 years (3 seeds)"
    assert store.headline(dict(metrics=dict(mae=15.18, penalty=10.0))) == "MAE 15.18 years"


def test_a_field_of_the_wrong_type_is_named(results):
    broken = fake_result()
    broken["provenance"]["wall_seconds"] = None
    broken["metrics"] = [0.5]
    (results / "intro_cnn.quick.json").write_text(json.dumps(broken))
    with pytest.raises(store.BadResultError) as caught:
        store.read_result("intro_cnn", "quick")
    message = str(caught.value)
    assert "metrics is [0.5], not an object" in message and "provenance.wall_seconds is null, not a number" in message
    assert str(results / "intro_cnn.quick.json") in message and FIX in message


def test_a_configuration_edited_by_hand_is_noticed(results):
    edited = fake_result()
    edited["config"] = dict(edited.get("config", {}), epochs=160)
    edited["config_hash"] = fake_result()["config_hash"]  # the hash kept, the configuration changed
    (results / "intro_cnn.quick.json").write_text(json.dumps(edited))
    with pytest.raises(store.BadResultError, match=r"its configuration does not give its config_hash"):
        store.read_result("intro_cnn", "quick")
    edited["config_hash"] = store.config_hash(edited["config"])
    (results / "intro_cnn.quick.json").write_text(json.dumps(edited))
    assert store.read_result("intro_cnn", "quick")["config"]["epochs"] == 160


def test_a_results_folder_that_is_a_file_is_refused_before_training(tmp_path, monkeypatch):
    from coursekit import experiments

    (tmp_path / "results").write_text("not a folder")
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    calls = []
    exp = experiments.get("intro_cnn")
    monkeypatch.setitem(experiments.EXPERIMENTS, "intro_cnn", experiments.Experiment(
        exp.name, exp.title, exp.chapter, exp.base, exp.sizes, lambda cfg, state: calls.append(cfg)))
    with pytest.raises(NotADirectoryError, match=r"the results folder .*results is a file.*COURSEKIT_RESULTS"):
        experiments.run("intro_cnn", "quick", verbose=False)
    assert calls == []  # nothing trained
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "new" / "results"))
    assert store.check_results_dir() == tmp_path / "new" / "results" and (tmp_path / "new" / "results").is_dir()
