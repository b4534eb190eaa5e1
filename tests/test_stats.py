"""The book's one interval convention, and the one comparison every chapter words its verdicts with."""
import math

import pytest

from coursekit import stats


def test_the_interval_is_students_t_over_the_standard_error():
    mean, std, half = stats.mean_interval([1.0, 2.0, 3.0])
    assert (mean, std) == (2.0, 1.0)
    assert half == pytest.approx(4.303 / math.sqrt(3))
    assert stats.mean_interval([5.0]) == (5.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        stats.mean_interval([])


def test_compare_is_better_when_every_seed_gains_about_the_same():
    a = {0: 61.0, 1: 63.0, 2: 58.0}
    b = {0: 60.0, 1: 61.9, 2: 57.1}  # a spread of 5 points between seeds, a lead of 0.9 to 1.1 in each
    c = stats.compare(a, b)
    assert c.verdict == "better" and c.separated
    assert c.mean_difference == pytest.approx(1.0)
    assert c.half_width == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert tuple(c) == (c.mean_difference, c.half_width)  # d, h = c
    assert (c.mean_difference, c.half_width) == stats.paired_difference(a, b)


def test_compare_is_worse_the_other_way_round():
    c = stats.compare({0: 60.0, 1: 61.9, 2: 57.1}, {0: 61.0, 1: 63.0, 2: 58.0})
    assert c.verdict == "worse" and c.separated and c.mean_difference == pytest.approx(-1.0)


def test_compare_cannot_tell_when_the_seeds_disagree():
    c = stats.compare({0: 62.0, 1: 59.0, 2: 61.0}, {0: 60.0, 1: 61.0, 2: 60.5})
    assert c.verdict == "cannot tell" and not c.separated
    assert abs(c.mean_difference) <= c.half_width


def test_compare_pairs_only_the_seeds_both_have():
    c = stats.compare({0: 2.0, 1: 3.0, 2: 4.0, 9: 100.0}, {0: 1.0, 1: 2.0, 2: 3.0})
    assert (c.mean_difference, c.half_width, c.verdict) == (1.0, 0.0, "better")
    with pytest.raises(ValueError, match="share no seed"):
        stats.compare({0: 1.0}, {1: 1.0})


def test_an_identical_pair_cannot_be_told_apart():
    assert stats.compare({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0}).verdict == "cannot tell"


WORDS = dict(better="A leads by {d:.1f} ± {h:.1f} points", worse="B leads by {size:.1f} ± {h:.1f} points",
             cannot_tell="the seeds cannot tell {what} apart ({d:+.1f} ± {h:.1f} points)")


@pytest.mark.parametrize("a, b, sentence", [
    ({0: 3.0, 1: 4.0}, {0: 1.0, 1: 2.0}, "A leads by 2.0 ± 0.0 points"),
    ({0: 1.0, 1: 2.0}, {0: 3.0, 1: 4.0}, "B leads by 2.0 ± 0.0 points"),
    ({0: 1.0, 1: 2.0, 2: 3.0}, {0: 1.5, 1: 1.0, 2: 3.2}, "the seeds cannot tell A and B apart (+0.1 ± 2.0 points)"),
])
def test_word_says_each_verdict_in_its_own_sentence(a, b, sentence):
    assert stats.word(stats.compare(a, b), **WORDS, what="A and B") == sentence


def test_word_without_a_worse_sentence_says_the_better_one():
    worse = stats.compare({0: 1.0, 1: 2.0}, {0: 3.0, 1: 4.0})
    assert stats.word(worse, "separated by {size:.0f}", cannot_tell="no") == "separated by 2"
    with pytest.raises(TypeError):  # a reading must say what it says when the seeds cannot tell
        stats.word(worse, "separated")


def test_unpaired_uses_welchs_interval():
    a, b = {0: 10.0, 1: 12.0, 2: 14.0}, {0: 1.0, 1: 2.0, 2: 3.0}  # variances 4 and 1, three runs each
    d, h = stats.compare_unpaired(a, b)
    se = math.sqrt(4 / 3 + 1 / 3)
    df = (5 / 3) ** 2 / ((4 / 3) ** 2 / 2 + (1 / 3) ** 2 / 2)  # 2.94: Student's t at 2 degrees of freedom
    assert d == pytest.approx(10.0) and math.floor(df) == 2 and h == pytest.approx(4.303 * se)


def test_unpaired_ignores_the_seed_numbers_that_pairing_would_use():
    # each seed gains exactly 1 point, so the paired interval is zero; unmatched runs spread far wider
    a, b = {0: 50.0, 1: 60.0, 2: 70.0}, {0: 49.0, 1: 59.0, 2: 69.0}
    assert stats.compare(a, b).verdict == "better"
    assert stats.compare_unpaired(a, b).verdict == "cannot tell"
    assert stats.compare_unpaired({0: 70.0, 1: 71.0, 2: 72.0}, {0: 50.0, 1: 51.0, 2: 52.0}).verdict == "better"


def test_a_contrast_of_three_independent_groups():
    best, resnet, vit = {0: 80.0, 1: 81.0, 2: 82.0}, {0: 60.0, 1: 61.0, 2: 62.0}, {0: 50.0, 1: 51.0, 2: 52.0}
    # (best - resnet) - (resnet - vit) = 20 - 10
    c = stats.contrast([(1, best), (-2, resnet), (1, vit)])
    assert c.mean_difference == pytest.approx(10.0) and c.verdict == "better"
    assert tuple(stats.compare_unpaired({0: 1.0}, {0: 2.0})) == (-1.0, 0.0)  # one run each (the ci profile)
