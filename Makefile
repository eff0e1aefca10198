# solvereign.release_ops: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
STACK := $(PY) tests/stack/stackctl.py
INVENTORY ?= inventories/local
EVIDENCE ?= release_evidence/v3.7.0

.PHONY: help bootstrap demo verify stack-start stack-stop test test-unit test-integration molecule lint bench clean ee-context

help:
	@echo "make demo   - bootstrap, start the reference stack, verify inventories/local, print the checklist"
	@echo "make test   - unit and integration tests (what CI runs)"
	@echo "make lint   - ansible-lint (production profile), changelog lint, ansible-test sanity"
	@echo "make bench  - verify.yml against the runbook's shell commands at 100 ms round trip, fleet, soak"

bootstrap:
	@scripts/bootstrap.sh

stack-start: bootstrap
	@$(STACK) start

stack-stop:
	@if [ -x $(PY) ]; then $(STACK) stop; fi

verify: bootstrap
	@ansible-playbook playbooks/verify.yml -i $(INVENTORY) -e solvereign_evidence_dir=$(CURDIR)/$(EVIDENCE)

demo: bootstrap
	@$(STACK) start
	@rc=0; ansible-playbook playbooks/verify.yml -i inventories/local \
	    -e solvereign_evidence_dir=$(CURDIR)/$(EVIDENCE) -e checklist_print=false || rc=$$?; \
	  echo; cat $(EVIDENCE)/checklist.md; \
	  echo "Evidence: $(EVIDENCE)/ (checklist.json, checklist.md, junit.xml, report.html, evidence.json, MANIFEST.sha256) and the archive beside it"; \
	  $(STACK) stop; exit $$rc

test: bootstrap test-unit test-integration molecule lint

test-unit:
	@$(PY) -m pytest -q tests/unit

test-integration:
	@$(PY) -m pytest -q tests/integration

# The collection playbooks against the reference stack, through molecule: verify (default), soak,
# rollback (on the stack's dockerd) and hotfix; each scenario sets up and removes its own fixture.
molecule: bootstrap
	@$(STACK) start >/dev/null
	@rc=0; cd extensions && $(VENV)/bin/molecule test --all || rc=$$?; \
	  cd $(CURDIR) && $(PY) tests/stack/molecule_fixtures.py down all; $(STACK) stop; exit $$rc

lint: bootstrap
	@$(VENV)/bin/ansible-lint --profile production
	@$(VENV)/bin/antsibull-changelog lint
	@scripts/sanity.sh
	@rm -rf .ansible

# The execution environment's build context in .ee/context (the image build needs the base image's registry).
ee-context: bootstrap
	@rm -rf .ee && ansible-galaxy collection build --force --output-path .ee/dist . >/dev/null
	@ansible-builder create --file execution-environment.yml --context .ee/context --output-filename Containerfile

# verify.yml against the runbook's shell commands through a latency proxy, the fleet, the soak
# (settings: BENCH_RTT_MS, BENCH_PAIRS, BENCH_FLEET, ... in bench/run.py); writes bench/RESULTS.md.
bench: bootstrap
	@$(PY) bench/run.py

clean: stack-stop
	rm -rf $(VENV) .collections release_evidence .pytest_cache
