# Developer entry points. Every target creates the virtualenv it needs, so a fresh clone needs
# only Python >= 3.10 and GNU make:  `make example`, `make test`.

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?= -n 2 -q

.DEFAULT_GOAL := help
.PHONY: help venv example test lint bench clean

help:
	@echo "make example   run examples/quickstart.py (creates $(VENV) on first use)"
	@echo "make test      run the whole test suite"
	@echo "make lint      ruff check + mypy"
	@echo "make bench     install the benchmark extras and run benchmarks/overhead.py"
	@echo "make clean     remove $(VENV) and caches"

# The stamp records that `pip install -e .[test]` succeeded against this pyproject.toml.
$(VENV)/.stamp-test: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "skipjack needs Python >= 3.10")'
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-test
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

venv: $(VENV)/.stamp-test

example: venv
	$(VPY) examples/quickstart.py

test: venv
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy skipjack

bench: $(VENV)/.stamp-bench
	$(VPY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
