# The two commands of README.md: `make book` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The book shows the stored results of this profile (`make book BOOK_PROFILE=full` after an
# instructor has regenerated `full` results).
BOOK_PROFILE ?= quick

.PHONY: setup book test unit chapters twins figures clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# jupyter-cache keys a chapter's outputs by its code only: clear the cache when the stored
# results, coursekit or the profile change, so that a regenerated result shows in the next build.
_build/.cache-state: FORCE
	@mkdir -p _build
	@state="$(BOOK_PROFILE) $$(cat results/*.json src/coursekit/*.py src/coursekit/*/*.py 2>/dev/null | sha256sum)"; \
	if [ "$$state" != "$$(cat $@ 2>/dev/null)" ]; then rm -rf _build/.jupyter_cache; echo "$$state" > $@; fi

# The chapters read CIFAR-10: fetch it first (with a progress bar in the terminal, not in the book),
# or find the offline copy under $COURSEKIT_DATA.
book: setup _build/.cache-state
	$(BIN)/coursekit data
	COURSEKIT_PROFILE=$(BOOK_PROFILE) COURSEKIT_PROGRESS=0 $(BIN)/jupyter-book build . --warningiserror --keep-going

# Lint (ruff: pyflakes and the order of imports), unit tests without the slow part (pyproject's
# `-m "not slow"`; `.venv/bin/python -m pytest -m slow` runs it), every chapter once under nbval
# (COURSEKIT_PROFILE=ci) from the installed wheel, then the book with warnings as errors, from stored
# results only (a missing or outdated result fails instead of training).
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	COURSEKIT_REQUIRE_STORED=1 $(MAKE) book
	$(BIN)/python -m pytest --built-book tests/test_built_book.py

twins: setup
	$(BIN)/python -m coursekit.book

figures: setup
	$(BIN)/coursekit figures --out _build/figures --format png,svg,pdf

clean:
	rm -rf _build

FORCE:
