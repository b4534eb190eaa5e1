# The two commands of README.md: `make book` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The book shows the stored results of this profile (`make book BOOK_PROFILE=full` after an
# instructor has regenerated `full` results).
BOOK_PROFILE ?= quick
# The translations built beside the English edition (coursekit.editions), each at _build/html/<language>/.
TRANSLATIONS := fr
BOOK_ENV = COURSEKIT_PROFILE=$(BOOK_PROFILE) COURSEKIT_PROGRESS=0

.PHONY: setup book test unit chapters twins figures catalogues clean

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
	if [ "$$state" != "$$(cat $@ 2>/dev/null)" ]; then rm -rf _build/.jupyter_cache*; echo "$$state" > $@; fi

# The chapters read CIFAR-10: fetch it first (with a progress bar in the terminal, not in the book),
# or find the offline copy under $COURSEKIT_DATA.
book: setup _build/.cache-state
	$(BIN)/coursekit data
	$(BOOK_ENV) $(BIN)/jupyter-book build . --warningiserror --keep-going
	@for lang in $(TRANSLATIONS); do \
	  $(BIN)/python -m coursekit.editions write $$lang _build/$$lang >/dev/null && \
	  COURSEKIT_LANG=$$lang $(BOOK_ENV) $(BIN)/jupyter-book build . --config _build/$$lang/_config.yml \
	    --toc _build/$$lang/_toc.yml --path-output _build/$$lang --warningiserror --keep-going && \
	  rm -rf _build/html/$$lang && cp -r _build/$$lang/_build/html _build/html/$$lang || exit 1; \
	done

# After the English text (or a sentence coursekit computes) changed: extract the messages (nothing
# executed) and update every translation's catalogues, the chapters' and coursekit's; a changed
# message comes back fuzzy, a new one empty (README).
catalogues: setup
	$(BIN)/python -m coursekit.editions write en _build/gettext --extract >/dev/null
	$(BIN)/jupyter-book build . --config _build/gettext/_config.yml --toc _build/gettext/_toc.yml \
	  --path-output _build/gettext --builder custom --custom-builder gettext -qq
	for lang in $(TRANSLATIONS); do \
	  $(BIN)/sphinx-intl update -p _build/gettext/_build/gettext -l $$lang -d locales -w 0 && \
	  $(BIN)/python -m coursekit.i18n $$lang || exit 1; done

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
	for lang in $(TRANSLATIONS); do $(BIN)/python -m coursekit.editions twins $$lang || exit 1; done

figures: setup
	$(BIN)/coursekit figures --out _build/figures --format png,svg,pdf

clean:
	rm -rf _build

FORCE:
