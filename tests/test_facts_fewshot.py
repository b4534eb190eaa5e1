"""The readings of chapter "fewshot": every ``facts`` function on the stored quick results (the values
agree with the numbers in them) and on small constructed results that reach each of its wordings."""
import re
from pathlib import Path

from conftest import stored_result
from coursekit import experiments, stats, store
from coursekit.experiments import fewshot as fs

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "fewshot.md"
STORED = ("fewshot_backbone", "fewshot_shots", "fewshot_episodes", "fewshot_pseudo", "fewshot_mixing",
          "fewshot_ablation")


def stored(name: str) -> dict:
    """The stored quick result of ``name`` made with the current configuration: a test fails, saying what to
    run, when it is missing or stale (as the book's build does)."""
    return stored_result(name)


def constructed(experiment: str, rows: list[dict]) -> dict:
    """A result with just what the facts read: its rows and a provenance for the provenance line."""
    return dict(experiment=experiment, profile="quick", metrics=dict(rows=rows),
                provenance=dict(device="CPU test", torch="2.x", date="2026-11-23T10:00:00+00:00", wall_seconds=75.0,
                                data=dict(train=dict(kind="download", description="CIFAR-10", images=25_000),
                                          test=dict(kind="download", images=1_000))))


def percent(x: float) -> str:
    return f"{100 * x:.1f} %"


# --- on the stored quick results ------------------------------------------------------------------

def test_every_glue_name_of_the_text_is_produced():
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([^`]+)`", text))
    produced = (fs.facts_budgets(fs.configs("quick")) | fs.facts_full(fs.configs("full"))
                | fs.facts_backbone(stored("fewshot_backbone")) | fs.facts_shots(stored("fewshot_shots"))
                | fs.facts_ablation(ablation_of_the_quick_configuration()) | fs.facts_pseudo(stored("fewshot_pseudo"))
                | fs.facts_mixing(stored("fewshot_mixing")) | fs.facts_premise(stored("fewshot_shots"))
                | fs.facts_episodes(stored("fewshot_episodes")))
    for name in ("fewshot_episodes", "fewshot_pseudo", "fewshot_mixing"):
        produced |= fs.facts_provenance(stored(name))
    assert used and used <= set(produced), sorted(used - set(produced))
    assert all(isinstance(v, str) and v for v in produced.values())


def test_provenance_facts_are_the_provenance_lines_of_the_stored_runs():
    for name in STORED:
        result = stored(name)
        assert fs.facts_provenance(result) == {f"{name}_provenance": store.provenance_line(result)}


def test_backbone_facts_read_the_images_it_was_trained_on():
    result = stored("fewshot_backbone")
    facts = fs.facts_backbone(result)
    assert facts["fs_backbone_images"] == f"{result['provenance']['data']['train']['images']:,}"
    assert facts["fewshot_backbone_provenance"].startswith("fewshot_backbone · profile quick")


def test_budget_facts_read_the_configurations():
    quick, full = fs.configs("quick"), fs.configs("full")
    assert set(quick) == set(STORED)
    facts = fs.facts_budgets(quick)
    assert facts["fs_seeds"] == str(len(quick["fewshot_shots"]["seeds"]))
    test = quick["fewshot_shots"]["test_per_class"]
    assert facts["fs_test"] == ("all the novel classes' test images" if test is None else
                                f"{test:,} test images per novel class")
    assert facts["fs_seeds_other"] == str(len(quick["fewshot_pseudo"]["seeds"]))
    assert facts["fs_episodes"] == f"{quick['fewshot_episodes']['episodes']:,}"
    assert facts["fs_views"] == str(quick["fewshot_episodes"]["views"])
    assert facts["fs_unlabelled"] == f"{quick['fewshot_pseudo']['unlabelled_per_class']:,}"
    facts = fs.facts_full(full)
    assert facts["fs_full_epochs"] == str(full["fewshot_backbone"]["epochs"])
    assert facts["fs_full_steps"] == f"{full['fewshot_shots']['steps']:,}"
    assert facts["fs_full_seeds"] == str(len(full["fewshot_shots"]["seeds"]))
    assert facts["fs_full_pool"] == f"{full['fewshot_pseudo']['unlabelled_per_class']:,}"
    assert fs.facts_budgets(fs.configs("ci"))["fs_seeds"] == str(len(experiments.config("fewshot_shots", "ci")["seeds"]))


def test_shots_facts_agree_with_the_stored_rows():
    result = stored("fewshot_shots")
    rows = result["metrics"]["rows"]
    facts = fs.facts_shots(result)
    mean = {(s["shots"], s["init"], s["augmentation"]): s["accuracy"]
            for s in stats.summarise(rows, ("shots", "init", "augmentation"))}
    k = int(facts["fewshot_k5"])
    assert k == 5
    assert facts["fewshot_k5_scratch"] == percent(mean[(k, "scratch", "none")])
    assert facts["fewshot_k5_backbone_aug"] == percent(mean[(k, "backbone", "augmented")])
    gains = sorted(100 * (mean[(k, "scratch", "augmented")] - mean[(k, "scratch", "none")]) for k in {r["shots"] for r in rows})
    assert facts["fewshot_aug_gain_range"].startswith(f"{gains[0]:+.1f} ± ")
    assert f" to {gains[-1]:+.1f} ± " in facts["fewshot_aug_gain_range"]
    best_one = max(mean[(1, "backbone", a)] for a in ("none", "augmented"))
    assert f"from 1 ({100 * best_one:.1f} %)" in facts["fewshot_backbone_worth"]


def ablation_of_the_quick_configuration() -> dict:
    """The stored quick ablation if it was made with the current configuration, else a constructed result
    of the same inits and variants: the text's glue names depend on them, not on the accuracies."""
    result = experiments.load("fewshot_ablation", "quick")
    if result is not None:
        return result
    cfg = experiments.config("fewshot_ablation", "quick")
    return ablation({(i, v): [0.5 + 0.01 * n + 0.02 * s for s in cfg["seeds"]]
                     for i in cfg["inits"] for n, v in enumerate(cfg["variants"])})


def test_ablation_facts_agree_with_the_stored_rows():
    result = stored("fewshot_ablation")
    rows = result["metrics"]["rows"]
    assert result["config"]["inits"] == ["scratch", "backbone"] and {r["init"] for r in rows} == {"scratch", "backbone"}
    facts = fs.facts_ablation(result)
    mean = {(s["init"], s["variant"]): s["accuracy"] for s in stats.summarise(rows, ("init", "variant"))}
    name = lambda v: v.replace("+", " + ")  # noqa: E731
    counts = {}
    for init in ("scratch", "backbone"):
        ranked = sorted((v for i, v in mean if i == init and v != "none"), key=lambda v: -mean[(init, v)])
        assert facts[f"fewshot_ablation_{init}_none"] == percent(mean[(init, "none")])
        assert facts[f"fewshot_ablation_{init}_best"].startswith(f"{name(ranked[0])} ({percent(mean[(init, ranked[0])])})")
        assert facts[f"fewshot_ablation_{init}_worst"] == f"{name(ranked[-1])} ({percent(mean[(init, ranked[-1])])})"
        seeds = lambda v: {r["seed"]: r["accuracy"] for r in rows if r["init"] == init and r["variant"] == v}  # noqa: E731
        diffs = {v: stats.paired_difference(seeds(v), seeds("none")) for v in ranked}
        beats = [v for v in ranked if diffs[v][0] > diffs[v][1]]
        reading = facts[f"fewshot_ablation_{init}_clear"]
        assert reading.startswith("no variant beats") != bool(beats)
        for v in beats:
            assert f"{name(v)} ({100 * diffs[v][0]:+.1f} ± {100 * diffs[v][1]:.1f} points)" in reading
        counts[init] = f"{len(beats)} of {len(ranked)}"
    assert facts["fewshot_ablation_contrast"] == (f"Clear gains over no augmentation: {counts['scratch']} variants from "
                                                  f"scratch, {counts['backbone']} variants with the backbone")


# --- on constructed results: every wording --------------------------------------------------------

def shots_rows(acc: dict[tuple, list[float]]) -> list[dict]:
    """Rows from {(shots, init, augmentation): [accuracy per seed]}."""
    return [dict(shots=k, init=i, augmentation=a, seed=s, accuracy=x, seconds=1.0)
            for (k, i, a), xs in acc.items() for s, x in enumerate(xs)]


def grid(scratch: dict[int, tuple[list, list]], backbone: dict[int, tuple[list, list]]) -> list[dict]:
    """Rows of every (K, start, augmentation): ``{K: (no augmentation, augmented)}`` per start."""
    acc = {}
    for init, table in (("scratch", scratch), ("backbone", backbone)):
        for k, (none, aug) in table.items():
            acc[(k, init, "none")], acc[(k, init, "augmented")] = none, aug
    return shots_rows(acc)


def test_shots_when_scratch_catches_up_with_the_backbone():
    rows = grid(scratch={1: ([0.20, 0.22, 0.24], [0.22, 0.26, 0.30]), 5: ([0.40] * 3, [0.50] * 3),
                         10: ([0.60] * 3, [0.58] * 3)},
                backbone={1: ([0.45] * 3, [0.44] * 3), 5: ([0.60] * 3, [0.62] * 3), 10: ([0.70] * 3, [0.70] * 3)})
    facts = fs.facts_shots(constructed("fewshot_shots", rows))
    assert facts["fewshot_k5"] == "5"
    assert facts["fewshot_k5_scratch"] == "40.0 %" and facts["fewshot_k5_scratch_aug"] == "50.0 %"
    assert facts["fewshot_k5_backbone"] == "60.0 %" and facts["fewshot_k5_backbone_aug"] == "62.0 %"
    # the smallest change at K = 10 (-2 points, the same every seed), the largest at K = 5 (+10)
    assert facts["fewshot_aug_gain_range"] == ("-2.0 ± 0.0 points (at 10 images per class) to +10.0 ± 0.0 points "
                                               "(at 5; 95 % intervals of the differences paired by seed)")
    assert facts["fewshot_backbone_worth"] == (
        "from scratch it takes 5 images per class (the better of with and without augmentation: 50.0 %) "
        "to reach what the backbone gives from 1 (45.0 %)")
    assert facts["fewshot_shots_provenance"].startswith("fewshot_shots · profile quick · CPU test")


def test_shots_when_scratch_never_catches_up_and_the_interval_is_paired():
    # differences augmented - none by seed at K = 2: +2, +4, +6 points: mean 4.0, half-width t(2) * 2 / sqrt(3)
    rows = grid(scratch={2: ([0.30, 0.40, 0.50], [0.32, 0.44, 0.56]), 20: ([0.50] * 3, [0.55] * 3)},
                backbone={2: ([0.70] * 3, [0.72] * 3), 20: ([0.80] * 3, [0.80] * 3)})
    facts = fs.facts_shots(constructed("fewshot_shots", rows))
    assert facts["fewshot_k5"] == "2"  # no five-shot run: the fewest shots measured
    assert facts["fewshot_k5_scratch"] == "40.0 %"
    half = stats.t975(3) * 2.0 / 3 ** 0.5
    assert facts["fewshot_aug_gain_range"].startswith(f"+4.0 ± {half:.1f} points (at 2 images per class) to +5.0 ")
    assert facts["fewshot_backbone_worth"] == ("from scratch, even 20 images per class (with or without augmentation) "
                                               "do not reach what the backbone gives from 2 (72.0 %)")


def test_shots_with_one_number_of_shots():
    rows = grid(scratch={5: ([0.40, 0.42], [0.43, 0.45])}, backbone={5: ([0.60, 0.60], [0.61, 0.61])})
    facts = fs.facts_shots(constructed("fewshot_shots", rows))
    assert facts["fewshot_aug_gain_range"] == ("+3.0 ± 0.0 points (at 5 images per class; the 95 % interval of the "
                                               "difference paired by seed)")
    assert facts["fewshot_backbone_worth"].startswith("from scratch, even 5 images per class")


def ablation(acc: dict[tuple[str, str], list[float]]) -> dict:
    """A result from {(init, variant): [accuracy per seed]}, in the shape ``run_ablation`` gives."""
    rows = [dict(init=i, variant=v, seed=s, accuracy=x, macro_f1=x, train_images=50, seconds=1.0)
            for (i, v), xs in acc.items() for s, x in enumerate(xs)]
    return constructed("fewshot_ablation", rows) | dict(config=dict(shots=10, inits=["scratch", "backbone"]))


BEYOND = "no augmentation beyond the 95 % interval of the difference paired by seed"


def test_ablation_when_several_help_from_scratch_and_none_with_the_backbone():
    # from scratch: crop + flip gains 10 points on every seed, noise 4 on every seed, cutmix is noisy;
    # from the backbone: cutmix is better on average but not every seed, crop + flip and noise change little
    facts = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.40, 0.42, 0.44], ("scratch", "crop+flip"): [0.50, 0.52, 0.54],
        ("scratch", "noise"): [0.44, 0.46, 0.48], ("scratch", "cutmix"): [0.50, 0.38, 0.44],
        ("backbone", "none"): [0.60, 0.62, 0.64], ("backbone", "crop+flip"): [0.61, 0.62, 0.63],
        ("backbone", "noise"): [0.59, 0.62, 0.64], ("backbone", "cutmix"): [0.70, 0.58, 0.66]}))
    assert facts["fewshot_ablation_scratch_none"] == "42.0 %" and facts["fewshot_ablation_backbone_none"] == "62.0 %"
    assert facts["fewshot_ablation_scratch_best"] == "crop + flip (52.0 %), noise (46.0 %), cutmix (44.0 %)"
    assert facts["fewshot_ablation_scratch_worst"] == "cutmix (44.0 %)"
    assert facts["fewshot_ablation_backbone_best"] == "cutmix (64.7 %), crop + flip (62.0 %), noise (61.7 %)"
    assert facts["fewshot_ablation_scratch_clear"] == (
        f"crop + flip (+10.0 ± 0.0 points), noise (+4.0 ± 0.0 points) beat {BEYOND}; "
        "no variant is worse beyond that interval")
    half = stats.t975(3) * stats.mean_interval([0.10, -0.04, 0.02])[1] / 3 ** 0.5
    assert facts["fewshot_ablation_backbone_clear"] == (
        f"no variant beats {BEYOND} (the closest: cutmix, +2.7 ± {100 * half:.1f} points); "
        "no variant is worse beyond that interval")
    assert facts["fewshot_ablation_contrast"] == ("Clear gains over no augmentation: 2 of 3 variants from scratch, "
                                                  "0 of 3 variants with the backbone")
    assert facts["fewshot_ablation_start_reading"].startswith("more single augmentations clearly help from scratch")
    assert facts["fewshot_ablation_provenance"].startswith("fewshot_ablation · profile quick")


def test_ablation_when_one_helps_and_one_hurts_though_the_plain_intervals_overlap():
    # the spread between seeds (draws of the images) hides both from the plain intervals, not from the paired ones
    facts = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.38, 0.42, 0.46], ("scratch", "flip"): [0.40, 0.44, 0.48],
        ("scratch", "rotate"): [0.35, 0.39, 0.43], ("scratch", "elastic"): [0.39, 0.41, 0.47],
        ("backbone", "none"): [0.58, 0.62, 0.66], ("backbone", "flip"): [0.58, 0.62, 0.66],
        ("backbone", "rotate"): [0.57, 0.61, 0.65], ("backbone", "elastic"): [0.58, 0.62, 0.66]}))
    assert facts["fewshot_ablation_scratch_clear"] == (f"flip (+2.0 ± 0.0 points) beats {BEYOND}; "
                                                       "rotate (-3.0 ± 0.0 points) is worse beyond that interval")
    assert facts["fewshot_ablation_scratch_worst"] == "rotate (39.0 %)"
    # from the backbone flip and elastic equal none on every seed: no difference, the closest is the first of them
    assert facts["fewshot_ablation_backbone_clear"] == (f"no variant beats {BEYOND} (the closest: flip, +0.0 ± 0.0 "
                                                        "points); rotate (-1.0 ± 0.0 points) is worse beyond that interval")
    assert facts["fewshot_ablation_contrast"].endswith("1 of 3 variants from scratch, 0 of 3 variants with the backbone")


def test_ablation_when_several_hurt_and_both_starts_gain():
    facts = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.50, 0.52, 0.54], ("scratch", "crop"): [0.55, 0.58, 0.58],
        ("scratch", "cutout"): [0.45, 0.46, 0.50], ("scratch", "mixup"): [0.40, 0.44, 0.45],
        ("backbone", "none"): [0.60, 0.60, 0.60], ("backbone", "crop"): [0.63, 0.62, 0.64],
        ("backbone", "cutout"): [0.58, 0.585, 0.575], ("backbone", "mixup"): [0.55, 0.66, 0.60]}))
    assert facts["fewshot_ablation_scratch_clear"].startswith("crop (+5.0 ± ")
    assert facts["fewshot_ablation_scratch_clear"].endswith(") are worse beyond that interval")
    assert ", mixup (-9.0 ± " in facts["fewshot_ablation_scratch_clear"]
    assert facts["fewshot_ablation_backbone_clear"] == (f"crop (+3.0 ± 2.5 points) beats {BEYOND}; "
                                                        "cutout (-2.0 ± 1.2 points) is worse beyond that interval")
    assert facts["fewshot_ablation_contrast"].endswith("1 of 3 variants from scratch, 1 of 3 variants with the backbone")
    assert facts["fewshot_ablation_start_reading"].startswith("as many clearly help from either start")


def test_ablation_start_reading_when_none_helps_or_the_backbone_gains_more():
    noisy = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.40, 0.42, 0.44], ("scratch", "crop"): [0.50, 0.38, 0.46],
        ("backbone", "none"): [0.60, 0.62, 0.64], ("backbone", "crop"): [0.66, 0.58, 0.63]}))
    assert noisy["fewshot_ablation_start_reading"] == (
        "no single augmentation clearly helps from either start: with 3 seeds the 95 % intervals of the paired "
        f"differences (up to ±{100 * stats.t975(3) * stats.mean_interval([0.10, -0.04, 0.02])[1] / 3 ** 0.5:.1f} "
        "points) are wider than the effects, so this run cannot show whether the start changes what augmentation adds")
    reversed_ = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.40, 0.42, 0.44], ("scratch", "crop"): [0.50, 0.38, 0.46],
        ("backbone", "none"): [0.60, 0.62, 0.64], ("backbone", "crop"): [0.63, 0.65, 0.67]}))
    assert reversed_["fewshot_ablation_start_reading"].startswith(
        "more single augmentations clearly help with the backbone than from scratch")


def test_budgets_say_all_for_a_whole_set_and_group_thousands():
    cfgs = dict(fewshot_shots=dict(test_per_class=None, seeds=[0, 1, 2, 3, 4], steps=1500, head_lr_multiplier=10),
                fewshot_episodes=dict(views=20, queries=15, per_class=None, episodes=2000),
                fewshot_pseudo=dict(unlabelled_per_class=4000, test_per_class=200, seeds=[0, 1, 2]),
                fewshot_backbone=dict(epochs=40), fewshot_ablation=dict(shots=10))
    assert fs.facts_budgets(cfgs) == dict(fs_test="all the novel classes' test images", fs_seeds="5", fs_views="20",
                                          fs_queries="15", fs_per_class="all", fs_episodes="2,000",
                                          fs_unlabelled="4,000", fs_ablation_shots="10",
                                          fs_test_other="200 test images per novel class", fs_seeds_other="3",
                                          fs_head_times="10")
    cfgs["fewshot_shots"]["test_per_class"] = 1200
    assert fs.facts_budgets(cfgs)["fs_test"] == "1,200 test images per novel class"
    assert fs.facts_full(cfgs) == dict(fs_full_epochs="40", fs_full_steps="1,500", fs_full_seeds="5",
                                       fs_full_episodes="2,000", fs_full_views="20", fs_full_pool="4,000")


# --- pseudo-labels and mixing: paired differences ----------------------------------------------------

def test_pseudo_and_mixing_facts_agree_with_the_stored_rows():
    for name, facts, baseline, variant in [
            ("fewshot_pseudo", fs.facts_pseudo, dict(shots=5, threshold=None), dict(shots=5, threshold=0.9)),
            ("fewshot_mixing", fs.facts_mixing, dict(shots=5, init="backbone", mixing="none"),
             dict(shots=5, init="backbone", mixing="cutmix"))]:
        rows = stored(name)["metrics"]["rows"]
        pick = lambda fields: {r["seed"]: r["accuracy"] for r in rows if all(r[k] == v for k, v in fields.items())}  # noqa: E731
        mean, half = stats.paired_difference(pick(variant), pick(baseline))
        reading = facts(stored(name))[f"{name}_reading"]
        assert f"{100 * mean:+.1f} ± {100 * half:.1f} points" in reading


def pseudo(diffs: dict[float, list[float]]) -> dict:
    """Labelled-only accuracies 0.6, 0.7, 0.8 over three seeds; each threshold adds its per-seed changes."""
    rows = [dict(shots=5, threshold=None, seed=s, accuracy=a) for s, a in enumerate([0.6, 0.7, 0.8])]
    rows += [dict(shots=5, threshold=t, seed=s, accuracy=[0.6, 0.7, 0.8][s] + d)
             for t, ds in diffs.items() for s, d in enumerate(ds)]
    return constructed("fewshot_pseudo", rows)


def test_pseudo_reading_when_every_threshold_helps_clearly():
    reading = fs.facts_pseudo(pseudo({0.5: [0.03, 0.04, 0.05], 0.9: [0.02, 0.02, 0.03]}))["fewshot_pseudo_reading"]
    assert "at 5 images per class, +4.0 ± 2.5 points with τ = 0.5" in reading
    assert reading.endswith("All 2 differences are positive and clear of zero")


def test_pseudo_reading_when_seeds_cannot_tell():
    reading = fs.facts_pseudo(pseudo({0.5: [0.05, -0.04, 0.01]}))["fewshot_pseudo_reading"]
    assert reading.endswith("No difference is clear of zero: with these seeds, pseudo-labelling cannot be told "
                            "from the labelled images alone")


def test_mixing_reading_names_what_is_clear_and_its_direction():
    rows = [dict(shots=5, init=i, mixing="none", seed=s, accuracy=0.5) for i in ("scratch", "backbone") for s in range(3)]
    rows += [dict(shots=5, init="scratch", mixing="mixup", seed=s, accuracy=a) for s, a in enumerate([0.40, 0.41, 0.42])]
    rows += [dict(shots=5, init="backbone", mixing="mixup", seed=s, accuracy=a) for s, a in enumerate([0.6, 0.4, 0.5])]
    reading = fs.facts_mixing(constructed("fewshot_mixing", rows))["fewshot_mixing_reading"]
    assert "5 per class from scratch: -9.0 ± 2.5 points with mixup" in reading
    assert reading.endswith("Clear of zero: mixup at 5 per class from scratch (worse)")


# --- experiment 2: augmented support, paired episode by episode ------------------------------------

def episode_rows(plain: list[float], augmented: list[float], dataset="caltech101", shots=1) -> list[dict]:
    return [dict(dataset=dataset, shots=shots, support=s, seed=0, accuracy=sum(a) / len(a), ci95=0.01,
                 episodes=len(a), episode_accuracy=a) for s, a in (("plain", plain), ("augmented", augmented))]


def test_episodes_are_paired_episode_by_episode():
    # the augmented support gains 2 points on every episode, while the episodes themselves vary by 40:
    # paired, the gain is clear; unpaired it would drown in the spread between episodes
    plain = [0.4, 0.8, 0.6, 0.5, 0.7] * 20
    facts = fs.facts_episodes(constructed("fewshot_episodes", episode_rows(plain, [a + 0.02 for a in plain])))
    assert facts["fewshot_episodes_cells"] == "Caltech-101, 1-shot: +2.0 ± 0.0 points"
    assert facts["fewshot_episodes_reading"] == "1 of 1 differences are clear of zero (1 gains, 0 losses)"
    same = fs.facts_episodes(constructed("fewshot_episodes", episode_rows(plain, plain[1:] + plain[:1])))
    assert same["fewshot_episodes_reading"].startswith("no difference is clear of zero")


def test_episodes_without_per_episode_accuracies_say_what_to_run():
    rows = [{k: v for k, v in r.items() if k != "episode_accuracy"} for r in episode_rows([0.5] * 3, [0.6] * 3)]
    try:
        fs.facts_episodes(constructed("fewshot_episodes", rows))
    except ValueError as e:
        assert "coursekit regenerate --experiment fewshot_episodes --force" in str(e)
    else:
        raise AssertionError("a result without per-episode accuracies was read")


# --- experiment 1 read against the premise -------------------------------------------------------------

def percent_rows(acc: dict) -> list[dict]:
    """Rows of experiment 1: ``acc[(shots, init, augmentation)]`` is the list of per-seed accuracies (%)."""
    return [dict(shots=k, init=i, augmentation=a, seed=s, accuracy=v / 100, seconds=1.0, train_images=5 * k)
            for (k, i, a), values in acc.items() for s, v in enumerate(values)]


def gains(scratch_gain: dict, backbone_gain: dict) -> dict:
    """Accuracies whose augmentation gain at each K is the given per-seed list, from a base of 40 / 60 %."""
    acc = {}
    for init, gains, base in (("scratch", scratch_gain, 40.0), ("backbone", backbone_gain, 60.0)):
        for k, g in gains.items():
            acc[(k, init, "none")] = [base + s for s in range(len(g))]
            acc[(k, init, "augmented")] = [base + s + d for s, d in enumerate(g)]
    return acc


def test_premise_holds_when_augmentation_adds_most_at_the_fewest_shots():
    rows = percent_rows(gains({1: [10, 11, 12], 50: [1, 2, 1]}, {1: [2, 3, 2], 50: [2, 2, 3]}))
    facts = fs.facts_premise(constructed("fewshot_shots", rows))
    assert facts["fewshot_aug_scratch_by_k"] == "+11.0 ± 2.5 points at 1; +1.3 ± 1.4 points at 50"
    assert facts["fewshot_aug_scratch_reading"].startswith(
        "From scratch, augmentation helps clearly at 1 of 2 numbers of shots (K = 1); it adds more at 1 image per "
        "class than at 50")
    assert facts["fewshot_aug_scratch_reading"].endswith("as the premise expects")
    # the backbone leaves augmentation 9 points less to add at one shot, on every seed
    assert facts["fewshot_overlap_reading"].startswith(
        "the backbone leaves augmentation clearly less to add at 1 of 2 numbers of shots (K = 1)")


def test_premise_fails_or_cannot_be_told():
    rows = percent_rows(gains({1: [-3, -4, -3], 50: [5, 6, 5]}, {1: [1, -1, 0], 50: [0, 1, -1]}))
    facts = fs.facts_premise(constructed("fewshot_shots", rows))
    assert "hurts clearly at 1 (K = 1)" in facts["fewshot_aug_scratch_reading"]
    assert facts["fewshot_aug_scratch_reading"].endswith("the premise does not hold here")
    assert "the seeds cannot tell whether it adds more at 1 than at 50" in facts["fewshot_aug_backbone_reading"]
    level = percent_rows(gains({1: [3, -3, 0], 50: [2, -2, 0]}, {1: [-3, 3, 0], 50: [2, -2, 0]}))
    assert fs.facts_premise(constructed("fewshot_shots", level))["fewshot_overlap_reading"].startswith(
        "the seeds cannot tell at any number of shots")


def test_threshold_zero_says_what_no_filtering_does():
    def rows(gain: float) -> list[dict]:
        return [dict(shots=5, threshold=t, seed=s, accuracy=0.5 + s / 100 + (gain if t == 0 else 0.0),
                     pseudo_images=0 if t is None else 2500, pseudo_accuracy=None if t is None else 0.65, seconds=1.0)
                for t in (None, 0.0) for s in range(3)]

    helps = fs.facts_pseudo(constructed("fewshot_pseudo", rows(0.03)))["fewshot_pseudo_zero"]
    assert "at 5 images per class, 2,500 images join with 65.0 % of their labels right, and the test accuracy " \
           "changes by +3.0 ± 0.0 points" in helps
    assert helps.endswith("bring more than their wrong labels cost")
    hurts = fs.facts_pseudo(constructed("fewshot_pseudo", rows(-0.03)))["fewshot_pseudo_zero"]
    assert hurts.endswith("the wrong labels cost more than the extra images bring")


def test_threshold_zero_where_only_some_numbers_of_shots_tell():
    rows = [dict(shots=k, threshold=t, seed=s, seconds=1.0, pseudo_images=0 if t is None else 2500,
                 pseudo_accuracy=None if t is None else 0.7,
                 accuracy=0.5 + (0.0 if t is None else (0.02 if k == 20 else [0.05, -0.04, 0.0][s])))
            for k in (5, 20) for t in (None, 0.0) for s in range(3)]
    zero = fs.facts_pseudo(constructed("fewshot_pseudo", rows))["fewshot_pseudo_zero"]
    assert zero.endswith("so where the seeds tell, the extra images, though a share of their labels is wrong, "
                         "bring more than their wrong labels cost")


# --- the French edition (COURSEKIT_LANG=fr): the same readings in French, numbers with a decimal comma ----------

NARROW = "\u202f"  # the narrow no-break space French puts before %, ; and between thousands


def test_french_budgets_and_shots_facts(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    cfgs = dict(fewshot_shots=dict(test_per_class=1200, seeds=[0, 1, 2, 3, 4], steps=1500, head_lr_multiplier=2.5),
                fewshot_episodes=dict(views=20, queries=15, per_class=600, episodes=2000),
                fewshot_pseudo=dict(unlabelled_per_class=4000, test_per_class=None, seeds=[0, 1, 2]),
                fewshot_backbone=dict(epochs=40), fewshot_ablation=dict(shots=10))
    budgets = fs.facts_budgets(cfgs)
    assert budgets["fs_test"] == f"1{NARROW}200 images de test par nouvelle classe"
    assert budgets["fs_test_other"] == "toutes les images de test des nouvelles classes"
    assert budgets["fs_episodes"] == f"2{NARROW}000" and budgets["fs_head_times"] == "2,5"
    assert fs.facts_full(cfgs)["fs_full_steps"] == f"1{NARROW}500"
    rows = grid(scratch={1: ([0.20, 0.22, 0.24], [0.22, 0.26, 0.30]), 5: ([0.40] * 3, [0.50] * 3),
                         10: ([0.60] * 3, [0.58] * 3)},
                backbone={1: ([0.45] * 3, [0.44] * 3), 5: ([0.60] * 3, [0.62] * 3), 10: ([0.70] * 3, [0.70] * 3)})
    facts = fs.facts_shots(constructed("fewshot_shots", rows))
    assert facts["fewshot_k5_scratch"] == f"40,0{NARROW}%" and facts["fewshot_k5_backbone_aug"] == f"62,0{NARROW}%"
    assert facts["fewshot_aug_gain_range"] == (
        f"-2,0 ± 0,0 points (avec 10 images par classe) à +10,0 ± 0,0 points (avec 5{NARROW}; intervalles à "
        f"95{NARROW}% des différences appariées par graine)")
    assert facts["fewshot_backbone_worth"] == (
        "à partir de zéro, il faut 5 images par classe (la meilleure des deux variantes, avec et sans augmentation\u00a0: "
        f"50,0{NARROW}%) pour atteindre ce que le tronc obtient avec K = 1 (45,0{NARROW}%)")


def test_french_premise_readings(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    facts = fs.facts_premise(constructed("fewshot_shots", percent_rows(
        gains({1: [10, 11, 12], 50: [1, 2, 1]}, {1: [2, 3, 2], 50: [2, 2, 3]}))))
    assert facts["fewshot_aug_scratch_by_k"].startswith("+11,0 ± 2,5 points pour K = 1")
    assert facts["fewshot_aug_scratch_reading"].startswith(
        "À partir de zéro, l'augmentation aide nettement pour 1 des 2 nombres d'exemples (K = 1)")
    assert facts["fewshot_aug_scratch_reading"].endswith(
        "elle apporte davantage avec 1 image par classe qu'avec 50 (9,7 ± 2,1 points de plus), comme l'attend la "
        "prémisse")
    assert facts["fewshot_overlap_reading"].startswith(
        "le tronc laisse à l'augmentation nettement moins à apporter pour 1 des 2 nombres d'exemples (K = 1)\u00a0: ")
    failing = fs.facts_premise(constructed("fewshot_shots", percent_rows(
        gains({2: [-3, -4, -3], 50: [5, 6, 5]}, {2: [1, -1, 0], 50: [0, 1, -1]}))))
    assert "et nuit nettement pour 1 (K = 2)" in failing["fewshot_aug_scratch_reading"]
    assert "elle apporte moins avec 2 images par classe qu'avec 50" in failing["fewshot_aug_scratch_reading"]
    assert failing["fewshot_aug_backbone_reading"].endswith(
        "les graines ne permettent pas de dire si elle apporte davantage avec 2 qu'avec 50 images par classe "
        "(+0,0 ± 2,3 points)")


def test_french_ablation_facts(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    facts = fs.facts_ablation(ablation({
        ("scratch", "none"): [0.38, 0.42, 0.46], ("scratch", "flip"): [0.40, 0.44, 0.48],
        ("scratch", "rotate"): [0.35, 0.39, 0.43], ("scratch", "crop+flip"): [0.41, 0.45, 0.49],
        ("backbone", "none"): [0.58, 0.62, 0.66], ("backbone", "flip"): [0.58, 0.62, 0.66],
        ("backbone", "rotate"): [0.57, 0.61, 0.65], ("backbone", "crop+flip"): [0.58, 0.62, 0.66]}))
    assert facts["fewshot_ablation_scratch_none"] == f"42,0{NARROW}%"
    assert facts["fewshot_ablation_scratch_best"] == (f"recadrage + retournement (45,0{NARROW}%), retournement "
                                                      f"(44,0{NARROW}%), rotation (39,0{NARROW}%)")
    assert facts["fewshot_ablation_scratch_clear"] == (
        "recadrage + retournement (+3,0 ± 0,0 points), retournement (+2,0 ± 0,0 points) battent l'absence "
        f"d'augmentation au-delà de l'intervalle à 95{NARROW}% de la différence appariée par graine{NARROW}; "
        "rotation (-3,0 ± 0,0 points) fait moins bien au-delà de cet intervalle")
    assert facts["fewshot_ablation_backbone_clear"].startswith(
        "aucune variante ne bat l'absence d'augmentation au-delà de l'intervalle à 95")
    assert facts["fewshot_ablation_contrast"] == ("Gains nets par rapport à l'absence d'augmentation\u00a0: 2 des 3 "
                                                  "variantes à partir de zéro, 0 des 3 variantes avec le tronc")
    assert facts["fewshot_ablation_start_reading"].startswith("davantage d'augmentations isolées aident nettement à "
                                                              "partir de zéro qu'avec le tronc")


def test_french_pseudo_mixing_and_episodes_readings(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    reading = fs.facts_pseudo(pseudo({0.5: [0.03, 0.04, 0.05], 0.9: [0.02, 0.02, 0.03]}))["fewshot_pseudo_reading"]
    assert reading.startswith("Face au modèle entraîné sur les seules images étiquetées avec la même graine")
    assert "pour 5 images par classe, +4,0 ± 2,5 points avec τ = 0,5" in reading
    assert reading.endswith("Les 2 différences sont toutes positives et nettement distinctes de zéro")
    one = fs.facts_pseudo(pseudo({0.5: [0.03, 0.04, 0.05]}))["fewshot_pseudo_reading"]
    assert one.endswith("1 différence sur 1 est positive et nettement distincte de zéro")
    zero = fs.facts_pseudo(constructed("fewshot_pseudo", [
        dict(shots=5, threshold=t, seed=s, accuracy=0.5 + s / 100 + (-0.03 if t == 0 else 0.0), seconds=1.0,
             pseudo_images=0 if t is None else 2500, pseudo_accuracy=None if t is None else 0.65)
        for t in (None, 0.0) for s in range(3)]))["fewshot_pseudo_zero"]
    assert zero.startswith("À τ = 0, rien n'est filtré")
    assert f"2{NARROW}500 images s'ajoutent, avec 65,0{NARROW}% d'étiquettes justes" in zero
    assert zero.endswith("ici, les étiquettes fausses coûtent donc plus que n'apportent les images supplémentaires")
    rows = [dict(shots=5, init=i, mixing="none", seed=s, accuracy=0.5) for i in ("scratch", "backbone") for s in range(3)]
    rows += [dict(shots=5, init="scratch", mixing="mixup", seed=s, accuracy=a) for s, a in enumerate([0.40, 0.41, 0.42])]
    rows += [dict(shots=5, init="backbone", mixing="mixup", seed=s, accuracy=a) for s, a in enumerate([0.6, 0.4, 0.5])]
    mixing = fs.facts_mixing(constructed("fewshot_mixing", rows))["fewshot_mixing_reading"]
    assert "5 images par classe à partir de zéro\u00a0: -9,0 ± 2,5 points avec mixup" in mixing
    assert mixing.endswith("Différences nettement distinctes de zéro\u00a0: mixup pour 5 images par classe à partir "
                           "de zéro (en baisse)")
    plain = [0.4, 0.8, 0.6, 0.5, 0.7] * 20
    episodes = fs.facts_episodes(constructed("fewshot_episodes", episode_rows(
        plain, [a + 0.02 for a in plain], dataset="cifar10-novel")))
    assert episodes["fewshot_episodes_cells"] == "nouvelles classes de CIFAR-10, K = 1\u00a0: +2,0 ± 0,0 points"
    assert episodes["fewshot_episodes_reading"] == ("différences nettement distinctes de zéro\u00a0: 1 sur 1 (1 en "
                                                    "hausse, 0 en baisse)")


def test_french_figures(monkeypatch):
    import matplotlib.pyplot as plt

    from coursekit.figures import fewshot as fs_figures

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    rows = grid(scratch={1: ([0.20, 0.22, 0.24], [0.22, 0.26, 0.30]), 5: ([0.40] * 3, [0.50] * 3)},
                backbone={1: ([0.45] * 3, [0.44] * 3), 5: ([0.60] * 3, [0.62] * 3)})
    fig = fs_figures.shots_curves(constructed("fewshot_shots", rows))
    ax = fig.axes[0]
    assert ax.get_title().startswith("Cinq nouvelles classes de CIFAR-10 à partir de K images chacune")
    assert ax.get_xlabel() == "images étiquetées par classe (échelle logarithmique)"
    assert {line.get_label() for line in ax.lines} >= {"à partir du tronc, avec augmentation", "hasard (5 classes)"}
    plt.close(fig)
    fig = fs_figures.ablation_bars(ablation({
        ("scratch", "none"): [0.40, 0.42, 0.44], ("scratch", "crop+flip"): [0.50, 0.52, 0.54],
        ("backbone", "none"): [0.60, 0.62, 0.64], ("backbone", "crop+flip"): [0.61, 0.62, 0.63]}))
    fig.canvas.draw()
    assert [ax.get_title() for ax in fig.axes] == ["à partir de zéro", "à partir du tronc"]
    assert "recadrage + retournement" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert fig._suptitle.get_text().startswith("10 images par classe, une augmentation à la fois")
    plt.close(fig)
