"""The course's experiments, one module per chapter, and the way they are run or loaded.

``experiments.run("intro_cnn")`` gives the stored result of an experiment (or trains and stores it);
:mod:`.core` says how, and each chapter's module (:mod:`.intro`, :mod:`.classic`, :mod:`.transfer`,
:mod:`.fewshot`, :mod:`.vit`, :mod:`.detection`, :mod:`.finegrained`) defines its experiments, their sizes per profile, their runners and the
``facts`` its text reads from their results.
"""
from __future__ import annotations

from ..store import provenance_line

# isort: off
from . import intro, classic, pretrained, transfer, fewshot, vit, detection, finegrained, ages  # noqa: F401  (registered in book order)
# isort: on
from .core import EXPERIMENTS, Experiment, config, get, load, network, profile_cost, register, run, run_plan

__all__ = ["EXPERIMENTS", "Experiment", "config", "get", "load", "network", "profile_cost", "provenance_line",
           "register", "run", "run_plan", "ages", "classic", "detection", "fewshot", "finegrained", "intro", "pretrained", "transfer", "vit"]
