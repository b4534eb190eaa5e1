"""The readings of chapter "detection" (``experiments.detection.facts_*``) on constructed results shaped as
``over_seeds`` makes them: every number formatted from the seeds, every wording chosen where it should be."""
from __future__ import annotations

import pytest

from coursekit import stats
from coursekit.experiments import detection as det

SEEDS = [0, 1, 2]


def interval(values, scale=100.0, digits=1, unit=" %") -> str:
    mean, _, half = stats.mean_interval([scale * v for v in values])
    return f"{mean:.{digits}f} ± {half:.{digits}f}{unit}"


# --- LeNet-5 ---------------------------------------------------------------------------------------

def lenet_result(accuracies=(0.990, 0.989, 0.991), centred=(0.99, 0.99, 0.99), seconds=(60.0, 90.0, 120.0)) -> dict:
    seeds = [dict(seed=s, metrics=dict(accuracy=a, centred_accuracy=c, images=10_000), history=[{}] * 8,
                  cost=dict(train_seconds=t, parameters=60_850, macs=326_520))
             for s, a, c, t in zip(SEEDS, accuracies, centred, seconds)]
    return dict(experiment="detect_lenet", config=dict(seed=0, seeds=SEEDS), metrics=dict(seeds[0]["metrics"]),
                history=[dict(epoch=e + 1) for e in range(8)], cost=dict(seeds[0]["cost"]),
                mistakes=[dict(index=i, label=1, predicted=7) for i in range(101)],
                provenance=dict(data=dict(train=dict(images=60_000), test=dict(images=10_000))), seeds=seeds)


def test_lenet_numbers():
    facts = det.facts_lenet(lenet_result())
    # errors 1.0, 1.1 and 0.9 %: mean 1.00, standard deviation 0.1, half-width t(2) 0.1 / sqrt(3) = 0.25
    assert facts["det_lenet_err"] == "1.00 ± 0.25 %"
    assert facts["det_lenet_acc"] == "99.00 ± 0.25 %" == interval([0.990, 0.989, 0.991], digits=2)
    assert facts["det_lenet_params"] == "60,850" and facts["det_lenet_macs"] == "327 thousand"
    assert facts["det_lenet_epochs"] == "8" and facts["det_lenet_seeds"] == "3"
    assert facts["det_lenet_images"] == "60,000" and facts["det_lenet_test_images"] == "10,000"
    assert facts["det_lenet_mistakes"] == "101"
    assert facts["det_lenet_seconds"] == "1.5 minutes"  # the mean of 60, 90 and 120 s


@pytest.mark.parametrize("accuracies, start", [
    ((0.985, 0.984, 0.986), "above the paper's 0.95 %"),                    # 1.50 ± 0.25 %
    ((0.995, 0.996, 0.994), "below the paper's 0.95 %"),                    # 0.50 ± 0.25 %
    ((0.990, 0.989, 0.991), "the paper's 0.95 % lies within the interval"),  # 1.00 ± 0.25 %
    ((0.9915, 0.9905, 0.9895), "the paper's 0.95 % lies within the interval"),  # 0.95 itself
])
def test_lenet_reading(accuracies, start):
    reading = det.facts_lenet(lenet_result(accuracies))["det_lenet_reading"]
    assert reading.startswith(start)


def test_lenet_reading_needs_the_whole_interval_on_one_side():
    # mean 1.20 %, but the interval (± 1.24) reaches below 0.95: within, not above
    facts = det.facts_lenet(lenet_result((0.988, 0.983, 0.993)))
    assert facts["det_lenet_err"] == "1.20 ± 1.24 %"
    assert facts["det_lenet_reading"].startswith("the paper's 0.95 % lies within")


# --- the detector ----------------------------------------------------------------------------------

def bins(edges, recalls):
    return [dict(low=lo, high=hi, boxes=0 if r is None else 10, recall=r)
            for lo, hi, r in zip(edges[:-1], edges[1:], recalls)]


def detector_result(small=(0.5, 0.55, 0.6), large=(0.9, 0.92, 0.95), alone=(0.9, 0.9, 0.9),
                    crowded=(0.8, 0.8, 0.8), centred=(0.98, 0.99, 1.0), ap=None, seconds=(120.0, 180.0, 240.0)) -> dict:
    ap = ap or [[0.5 + 0.04 * c + 0.01 * s for c in range(10)] for s in range(3)]  # 9 best, 0 worst
    seeds = []
    for i, s in enumerate(SEEDS):
        metrics = dict(map=[0.61, 0.63, 0.65][i], map_50=[0.9, 0.92, 0.94][i], map_75=[0.7, 0.72, 0.71][i],
                       recall=[0.85, 0.86, 0.87][i], ap_per_class=ap[i], objects=1250, centred_digits=2000,
                       recall_by_size=bins(det.SIZE_EDGES, [small[i], 0.7, 0.8, large[i]]),
                       recall_by_overlap=bins(det.OVERLAP_EDGES, [alone[i], 0.85, crowded[i]]),
                       centred_accuracy=centred[i], mar_100=0.9)
        seeds.append(dict(seed=s, metrics=metrics, history=[dict(epoch=e + 1) for e in range(4)],
                          cost=dict(train_seconds=seconds[i], parameters=500_000)))
    config = dict(seed=0, seeds=SEEDS, epochs=4, scenes_per_epoch=4000, batch_size=16, test_scenes=500)
    return dict(experiment="detect_digits", config=config, metrics=dict(seeds[0]["metrics"]),
                history=seeds[0]["history"], cost=dict(seeds[0]["cost"]), misses=[dict(scene=0)] * 37, seeds=seeds)


def test_detector_numbers():
    result = detector_result()
    facts = det.facts_detector(result, lenet_result())
    assert facts["det_map50"] == interval([0.9, 0.92, 0.94], scale=1, digits=3, unit="") == "0.920 ± 0.050"
    assert facts["det_map"] == interval([0.61, 0.63, 0.65], scale=1, digits=3, unit="")
    assert facts["det_map75"] == interval([0.7, 0.72, 0.71], scale=1, digits=3, unit="")
    assert facts["det_recall"] == interval([0.85, 0.86, 0.87]) == "86.0 ± 2.5 %"
    assert facts["det_seeds"] == "3" and facts["det_params"] == "500,000"
    assert facts["det_steps"] == "1,000" and facts["det_batch"] == "16"  # 4 epochs x 4000 / 16
    assert facts["det_train_scenes"] == "16,000" and facts["det_test_scenes"] == "500"
    assert facts["det_objects"] == "1,250" and facts["det_misses"] == "37" and facts["det_centred"] == "2,000"
    assert facts["det_seconds"] == "3.0 minutes"
    assert facts["det_centred_acc"] == interval([0.98, 0.99, 1.0])
    assert facts["det_lenet_centred_acc"] == "99.0 ± 0.0 %"


def test_best_and_worst_digit_from_ap_per_class():
    facts = det.facts_detector(detector_result(), lenet_result())
    assert facts["det_best_digit"] == "9" and facts["det_best_ap"] == f"{0.5 + 0.36 + 0.01:.3f}"
    assert facts["det_worst_digit"] == "0" and facts["det_worst_ap"] == "0.510"
    ap = [[0.6, 0.9, 0.3, 0.8, 0.7, 0.5, 0.6, 0.95, 0.4, 0.6] for _ in SEEDS]
    ap[0][3], ap[1][3], ap[2][3] = 0.7, 0.8, 0.9  # 3: mean 0.8
    ap[1][7] = None  # 7 is absent from one seed's scenes: left out, though it scores best elsewhere
    ap[2][2] = None  # and so is 2, the worst
    facts = det.facts_detector(detector_result(ap=ap), lenet_result())
    assert (facts["det_best_digit"], facts["det_best_ap"]) == ("1", "0.900")
    assert (facts["det_worst_digit"], facts["det_worst_ap"]) == ("8", "0.400")


@pytest.mark.parametrize("small, large, expected", [
    ((0.5, 0.55, 0.6), (0.9, 0.92, 0.95),
     "digits under 14 pixels tall are found less often than digits of 26 pixels or more "
     "(55.0 % against 92.3 %, a difference of 37.3 ± 6.3 points over the seeds)"),
    ((0.9, 0.92, 0.95), (0.5, 0.55, 0.6),
     "digits under 14 pixels tall are found more often than digits of 26 pixels or more "
     "(92.3 % against 55.0 %, a difference of 37.3 ± 6.3 points over the seeds)"),
    ((0.5, 0.9, 0.75), (0.7, 0.6, 0.8),  # paired differences -20, +30, -5 points
     "the seeds cannot tell the recall of digits under 14 pixels tall (71.7 %) from that of digits of 26 pixels "
     "or more (70.0 %; difference +1.7 ± 63.7 points)"),
    ((0.5, None, 0.7), (0.7, 0.6, 0.8),
     "the test scenes hold no digits in one of the bins compared, so there is nothing to read"),
    ((0.5, 0.6, 0.7), (0.7, 0.6, None),
     "the test scenes hold no digits in one of the bins compared, so there is nothing to read"),
])
def test_size_reading(small, large, expected):
    facts = det.facts_detector(detector_result(small=small, large=large), lenet_result())
    assert facts["det_size_reading"] == expected


def test_size_reading_numbers_are_the_paired_difference():
    small, large = (0.5, 0.55, 0.6), (0.9, 0.92, 0.95)
    d, h = stats.paired_difference({s: 100 * v for s, v in zip(SEEDS, small)}, {s: 100 * v for s, v in zip(SEEDS, large)})
    reading = det.facts_detector(detector_result(small=small, large=large), lenet_result())["det_size_reading"]
    assert f"a difference of {abs(d):.1f} ± {h:.1f} points" in reading and d < 0


@pytest.mark.parametrize("alone, crowded, start", [
    ((0.95, 0.96, 0.97), (0.6, 0.7, 0.65), "digits that overlap no other are found more often than digits "
                                           "overlapping another by an IoU of 0.1 or more (96.0 % against 65.0 %"),
    ((0.6, 0.7, 0.65), (0.95, 0.96, 0.97), "digits that overlap no other are found less often than digits "
                                           "overlapping another by an IoU of 0.1 or more (65.0 % against 96.0 %"),
    ((0.9, 0.8, 0.85), (0.8, 0.9, 0.85), "the seeds cannot tell the recall of digits that overlap no other (85.0 %) "
                                         "from that of digits overlapping another by an IoU of 0.1 or more (85.0 %"),
    ((0.9, 0.8, 0.85), (None, None, None), "the test scenes hold no digits in one of the bins compared"),
])
def test_overlap_reading(alone, crowded, start):
    facts = det.facts_detector(detector_result(alone=alone, crowded=crowded), lenet_result())
    assert facts["det_overlap_reading"].startswith(start)
    assert facts["det_size_reading"].startswith("digits under 14 pixels tall are found less often")  # unaffected


@pytest.mark.parametrize("detector, classifier, start", [
    ((0.90, 0.91, 0.92), (0.99, 0.99, 0.99), "the detector names the digit less often than LeNet-5 does (8.0 ± 2.5 points"),
    ((0.99, 0.99, 0.99), (0.90, 0.91, 0.92), "the detector names the digit more often than LeNet-5 does (8.0 ± 2.5 points"),
    ((0.98, 0.99, 1.00), (0.99, 0.98, 1.00), "the seeds cannot tell the two apart (difference +0.0 ± "),
])
def test_centred_reading(detector, classifier, start):
    facts = det.facts_detector(detector_result(centred=detector), lenet_result(centred=classifier))
    assert facts["det_centred_reading"].startswith(start)
    assert facts["det_centred_acc"] == interval(detector) and facts["det_lenet_centred_acc"] == interval(classifier)


def test_centred_reading_does_not_pair_separately_trained_networks():
    # -1 point on every seed: paired, the seeds would tell the two apart; but the detector and LeNet of a seed
    # share nothing, and the runs spread as much as they differ
    facts = det.facts_detector(detector_result(centred=(0.97, 0.96, 0.965)), lenet_result(centred=(0.98, 0.97, 0.975)))
    assert facts["det_centred_reading"].startswith("the seeds cannot tell the two apart")
    facts = det.facts_detector(detector_result(centred=(0.95, 0.96, 0.955)), lenet_result(centred=(0.98, 0.97, 0.975)))
    assert facts["det_centred_reading"].startswith("the detector names the digit less often than LeNet-5 does (2.0 ± 1.1 points, "
                                                   "the difference of the means over seeds with Welch's interval)")


def test_a_result_of_one_run_counts_as_one_seed():
    result = detector_result()
    one = {k: v for k, v in result.items() if k != "seeds"}
    lenet = {k: v for k, v in lenet_result().items() if k != "seeds"}
    facts = det.facts_detector(one, lenet)
    assert facts["det_seeds"] == "1"
    assert facts["det_map50"] == "0.900 ± 0.000" and facts["det_seconds"] == "2.0 minutes"
    assert facts["det_size_reading"].startswith("digits under 14 pixels tall are found less often")
    assert "(50.0 % against 90.0 %" in facts["det_size_reading"]
    assert facts["det_centred_reading"].startswith("the detector names the digit less often")  # 98 against 99
    assert det.facts_lenet(lenet)["det_lenet_seeds"] == "1"


@pytest.mark.parametrize("profile", [
    "quick",
    "full",
])
def test_lenet_and_detector_are_compared_on_the_same_centred_digits(profile):
    lenet, detector = det.LENET_BUDGET[profile], det.DETECTOR_BUDGET[profile]
    assert lenet["centred"] == detector["centred"]
    assert lenet["test_per_class"] is None and lenet["seeds"] == detector["seeds"]  # the whole test set, in order


def test_scene_facts_are_read_from_the_recipe():
    facts = det.facts_scenes(dict(size=96, per_scene=(2, 5), digit_size=(20, 44), max_overlap=0.25))
    assert facts["det_scene_size"] == "96 × 96" and facts["det_per_scene"] == "2 to 5"
    assert facts["det_digit_size"] == "20 to 44" and facts["det_max_overlap"] == "0.25"
    assert det.facts_scenes()["det_anchor_sizes"] == "12, 20 and 32"
    # torchvision's defaults: 0.7 between proposals, 0.5 between final boxes
    assert facts["det_nms_rpn"] == "0.7" and facts["det_nms_box"] == "0.5"
    assert facts["det_nms_reading"].startswith("so NMS never removes one of two true digits here")
    dense = det.facts_scenes(dict(size=96, per_scene=(2, 5), digit_size=(20, 44), max_overlap=0.6))
    assert dense["det_nms_reading"].startswith("so NMS can remove one of two true digits")


def test_design_facts_are_read_from_the_detector():
    from coursekit.models.detector import ANCHOR_RATIOS, digit_faster_rcnn

    detector = digit_faster_rcnn()
    facts = det.facts_design(detector)
    matcher, roi = detector.rpn.proposal_matcher, detector.roi_heads.box_roi_pool
    assert (facts["det_rpn_positive"], facts["det_rpn_negative"]) == (
        f"{matcher.high_threshold:g}", f"{matcher.low_threshold:g}") == ("0.7", "0.3")
    assert facts["det_roi_grid"] == "{} × {}".format(*roi.output_size) == "7 × 7"
    assert facts["det_roi_points"] == f"{roi.sampling_ratio} × {roi.sampling_ratio}" == "2 × 2"
    assert facts["det_stride"] == "4" and facts["det_small_box_cells"] == "1.75"  # 64 px scenes, 16 x 16 map
    assert facts["det_anchor_ratios"] == "1 and 2" and ANCHOR_RATIOS == (1.0, 2.0)
    assert (facts["det_match_iou"], facts["det_match_score"]) == ("0.5", "0.5")
    # the stride is the backbone's, whatever the scene's size; the cells follow it and the box
    assert det.facts_design(digit_faster_rcnn(image_size=96))["det_stride"] == "4"
    assert det.facts_design(detector, small_box=12)["det_small_box_cells"] == "3"


def test_the_digits_counted_found_are_those_match_counts():
    import torch

    from coursekit import data, detection

    scenes = data.Scenes(torch.zeros(1, 1, 32, 32, dtype=torch.uint8), [torch.tensor([[0.0, 0, 10, 10]])],
                         [torch.tensor([3])], [torch.tensor([0])], tuple(str(d) for d in range(10)))
    iou, score = (float(det.facts_design()[k]) for k in ("det_match_iou", "det_match_score"))

    def found(shift: float, s: float) -> bool:
        box = torch.tensor([[shift, 0.0, 10 + shift, 10]])
        return detection.match([dict(boxes=box, scores=torch.tensor([s]), labels=torch.tensor([3]))], scenes)[0]["found"]

    assert found(0, score) and not found(0, score - 0.01)
    at = 10 * (1 - iou) / (1 + iou)  # the shift at which the IoU of two 10-pixel boxes is `iou`
    assert found(at - 0.01, 1.0) and not found(at + 0.01, 1.0)


def test_box_widths_of_scenes():
    import torch

    from coursekit import data

    boxes = [torch.tensor([[0.0, 0, 3, 20], [10, 10, 40, 30]]), torch.tensor([[5.0, 5, 17, 25]])]
    labels = [torch.tensor([1, 0]), torch.tensor([7])]
    scenes = data.Scenes(torch.zeros(2, 1, 64, 64, dtype=torch.uint8), boxes, labels,
                         [torch.tensor([0, 1]), torch.tensor([2])], tuple(str(d) for d in range(10)))
    assert det.facts_boxes(scenes) == {"det_demo_scenes": "2", "det_box_narrowest": "3 pixels wide (a 1)",
                                       "det_box_widest": "30"}


def test_alexnet_against_lenet():
    from coursekit import models

    alexnet, lenet = models.create("alexnet"), models.create("lenet5")
    ratio = models.count_parameters(alexnet) / models.count_parameters(lenet)
    assert det.facts_alexnet(alexnet, lenet) == {"det_alexnet_ratio": f"{ratio:,.0f}"}
    assert 500 < ratio < 2000  # "a thousand times", as the chapter used to say


def test_shared_digits_on_the_stored_results():
    from conftest import stored_result

    detector, lenet = stored_result("detect_digits"), stored_result("detect_lenet")
    reading = det.facts_shared_digits(detector, lenet)["det_shared_digits"]
    images = detector["provenance"]["data"]["train"]["images"]
    assert reading == (f"fair: both learnt from the same {images:,} training digits, and neither saw a test digit")
    assert images == lenet["provenance"]["data"]["train"]["images"]


def test_shared_digits_says_when_they_differ():
    source = dict(kind="image-folder", images=60_000, fingerprint="a")
    lenet = dict(provenance=dict(data=dict(train=dict(source, padded="2 px"))))
    same = dict(provenance=dict(data=dict(train=dict(source))))
    assert det.facts_shared_digits(same, lenet)["det_shared_digits"].startswith("fair: both learnt from the same 60,000")
    fewer = dict(provenance=dict(data=dict(train=dict(source, images=2_000, subset="200 per class, seed 0"))))
    assert det.facts_shared_digits(fewer, lenet)["det_shared_digits"] == (
        "not quite fair: LeNet-5 learnt from 60,000 training digits, the detector from 2,000 (neither saw a test digit)")
    other = dict(provenance=dict(data=dict(train=dict(source, fingerprint="b"))))
    assert det.facts_shared_digits(other, lenet)["det_shared_digits"].startswith("not quite fair")


# --- the French edition (COURSEKIT_LANG=fr) --------------------------------------------------------

def test_readings_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    facts = det.facts_lenet(lenet_result((0.985, 0.984, 0.986)))
    assert facts["det_lenet_err"] == "1,50 ± 0,25\u202f%" and facts["det_lenet_acc"] == "98,50 ± 0,25\u202f%"
    assert facts["det_lenet_reading"] == ("supérieur aux 0,95\u202f% de l'article\u202f; cet entraînement plus court "
                                          "n'atteint pas le niveau publié")
    assert facts["det_lenet_seconds"] == "1,5 minute" and facts["det_lenet_params"] == "60\u202f850"
    assert facts["det_lenet_macs"] == "327 mille"
    facts = det.facts_detector(detector_result(), lenet_result())
    assert facts["det_map50"] == "0,920 ± 0,050" and facts["det_recall"] == "86,0 ± 2,5\u202f%"
    assert facts["det_seconds"] == "3,0 minutes" and facts["det_train_scenes"] == "16\u202f000"
    assert facts["det_size_reading"] == (
        "les chiffres de moins de 14 pixels de haut sont trouvés moins souvent que les chiffres de 26 pixels ou plus "
        "(55,0\u202f% contre 92,3\u202f%, une différence de 37,3 ± 6,3 points sur les graines)")
    assert facts["det_overlap_reading"].startswith(
        "les chiffres qui n'en recouvrent aucun autre sont trouvés plus souvent que les chiffres qui en recouvrent un "
        "autre avec une IoU de 0,1 ou plus (90,0\u202f% contre 80,0\u202f%")
    assert facts["det_centred_reading"].startswith(
        "les graines ne permettent pas de les distinguer (différence de +0,0 ±")
    crowded = det.facts_detector(detector_result(crowded=(None, None, None)), lenet_result())["det_overlap_reading"]
    assert crowded == ("les scènes de test ne contiennent pas de chiffres dans l'une des tranches comparées, il n'y a "
                       "donc rien à lire")
    scenes = det.facts_scenes()
    assert (scenes["det_per_scene"], scenes["det_max_overlap"], scenes["det_anchor_sizes"]) == (
        "1 à 4", "0,3", "12, 20 et 32")
    assert scenes["det_nms_reading"].startswith("si bien que la NMS ne supprime jamais")
    design = det.facts_design()
    assert (design["det_small_box_cells"], design["det_anchor_ratios"], design["det_match_iou"]) == (
        "1,75", "1 et 2", "0,5")
    source = dict(kind="image-folder", images=60_000, fingerprint="a")
    fewer = dict(provenance=dict(data=dict(train=dict(source, images=2_000))))
    assert det.facts_shared_digits(fewer, dict(provenance=dict(data=dict(train=source))))["det_shared_digits"] == (
        "pas tout à fait équitable\u00a0: LeNet-5 a appris à partir de 60\u202f000 chiffres d'entraînement, le "
        "détecteur à partir de 2\u202f000 (aucun des deux n'a vu de chiffre de test)")
    monkeypatch.setenv("COURSEKIT_LANG", "en")  # and English again, as it always was
    assert det.facts_lenet(lenet_result())["det_lenet_err"] == "1.00 ± 0.25 %"


def test_detection_figures_in_french(monkeypatch):
    import torch

    from coursekit.figures import detection as drawn

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    fig = drawn.iou_and_nms(torch.tensor([[10.0, 10, 30, 40]]), torch.tensor([[11.0, 10, 31, 41], [20.0, 20, 50, 50]]),
                            torch.tensor([0.9, 0.3]), torch.tensor([0]))
    assert [ax.get_title() for ax in fig.axes] == ["candidates\u00a0: score / IoU avec une boîte réelle",
                                                  "conservées par la suppression des non-maxima (1)"]
    assert fig.axes[0].texts[0].get_text() == "0,90 / 0,88"
    fig = drawn.detector_results(detector_result())
    ap, by_size, by_overlap = fig.axes
    assert ap.get_xlabel() == "chiffre" and by_size.get_xlabel() == "hauteur du chiffre (px)"
    assert by_size.get_ylabel() == "rappel pour une IoU de 0,5 (%)"
    assert [t.get_text() for t in by_overlap.get_xticklabels()][1:] == ["0,001–0,1", "0,1–1"]
    assert fig._suptitle.get_text().startswith(
        "Faster R-CNN sur 1\u202f250 chiffres de test\u00a0: moyenne sur 3 graines")
