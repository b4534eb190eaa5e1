"""Stanford Cars' class names and errors, read without a network: the make and the model in a class name
("Audi S4 Sedan 2012"), the pairs of classes that differ only by their year, the pairs a network confused
most, and the share of its errors that stay within the true make."""
from __future__ import annotations

TWO_WORD_MAKES = ("AM General", "Aston Martin", "Land Rover")


def make_of(name: str) -> str:
    """The make in a Stanford Cars class name: "Audi" in "Audi TTS Coupe 2012", "Aston Martin" in "Aston
    Martin Virage Coupe 2012"."""
    return next((m for m in TWO_WORD_MAKES if name.startswith(m + " ")), name.split()[0])


def model_of(name: str) -> str:
    """The class name without its year: "Audi S4 Sedan" for "Audi S4 Sedan 2012"."""
    return name.rsplit(" ", 1)[0]


def confused_pairs(confusion: list[list[int]], classes: tuple[str, ...] | list[str]) -> list[tuple[str, str, int]]:
    """The pairs of classes the network confused, both directions counted together, most confused first:
    ``(class, class, count)`` from a sparse confusion ``[[true, predicted, count], ...]``."""
    pairs: dict[tuple[int, int], int] = {}
    for true, predicted, n in confusion:
        if true != predicted:
            key = (min(true, predicted), max(true, predicted))
            pairs[key] = pairs.get(key, 0) + n
    ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(classes[a], classes[b], n) for (a, b), n in ranked]


def within_make(confusion: list[list[int]], classes: tuple[str, ...] | list[str]) -> tuple[float, float]:
    """Of the errors in a sparse confusion ``[[true, predicted, count], ...]``, the share (%) that name
    another model of the true class's make, and the share that errors spread evenly over the other
    classes would give (each error weighted by how many other classes its make has)."""
    makes = [make_of(c) for c in classes]
    errors = [(t, p, n) for t, p, n in confusion if t != p]
    wrong = sum(n for *_, n in errors)
    if not wrong:
        return 0.0, 0.0
    same = sum(n for t, p, n in errors if makes[t] == makes[p])
    expected = sum(n * (makes.count(makes[t]) - 1) / (len(classes) - 1) for t, _, n in errors)
    return 100 * same / wrong, 100 * expected / wrong


def look_alikes(classes: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """Pairs of classes that differ only by their year ("Audi S4 Sedan 2007" and "Audi S4 Sedan 2012"):
    the hardest kind of fine-grained pair, read from the names alone."""
    by_model: dict[str, list[str]] = {}
    for name in classes:
        by_model.setdefault(model_of(name), []).append(name)
    return [(names[0], names[1]) for names in by_model.values() if len(names) > 1]
