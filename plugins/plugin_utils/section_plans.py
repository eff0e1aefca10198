# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The section roles' planned checks, templated on the controller for every environment at once.

A section role (health, database, ...) keeps the checks it plans in its role vars, as
``_<role>_planned_checks``; run on a host, its one task adds them to the host fact
``solvereign_check_plan``. Every task costs Ansible a worker and a variable computation per host,
so for a fleet of environments :class:`EnvironmentPlanner` does the same work in the task that runs
the checks: for the first host of each environment it templates the role's planned checks with that
host's variables, the role's defaults and vars (with the precedence a play that lists the roles gives
them: defaults < inventory and facts < play vars < role vars < extra vars), and validates the
role's ``meta/argument_specs.yml`` as the role's own validation task would.

A role may also name task files that must still run on the hosts of an environment
(``_<role>_host_tasks``, a list of ``tasks_from`` names, e.g. log sampling on remote docker hosts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.utils.vars import load_extra_vars

COLLECTION = "solvereign.release_ops"
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


def role_short_name(name):
    """``solvereign.release_ops.health`` or ``health`` -> ``health``; None for other collections' roles."""
    name = to_text(name or "").strip()
    if name.startswith(COLLECTION + "."):
        name = name[len(COLLECTION) + 1:]
    if not name or "." in name or "/" in name:
        return None
    return name


def tags_selected(tags, run_tags, skip_tags):
    """Whether a section tagged ``tags`` runs under ``--tags run_tags --skip-tags skip_tags``, as Ansible
    decides it for a task (``always`` runs unless skipped by name; ``tagged``/``untagged`` as Ansible)."""
    tags = set(tags or [])
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    if tags & skip or ("tagged" in skip and tags) or ("untagged" in skip and not tags) or "all" in skip:
        return False
    if "always" in tags:
        return True
    return bool("all" in run or tags & run or ("tagged" in run and tags) or ("untagged" in run and not tags))


class SectionRole(object):
    """One section role's files, loaded once per run."""

    def __init__(self, loader, name, tags):
        self.name = name
        self.tags = list(tags or [])
        self.path = os.path.join(ROLES_DIR, name)
        self.plan_var = "_%s_planned_checks" % name
        self.rows_var = "_%s_rows" % name
        self.host_tasks_var = "_%s_host_tasks" % name
        self.defaults = self._load(loader, "defaults") or {}
        self.vars = self._load(loader, "vars") or {}
        if self.plan_var not in self.vars:
            raise AnsibleActionFail("%s.%s is not a section role that plans checks: its vars/main.yml has no %s"
                                    % (COLLECTION, name, self.plan_var))
        specs = self._load(loader, os.path.join("meta", "argument_specs")) or {}
        self.options = (((specs.get("argument_specs") or {}).get("main") or {}).get("options")) or {}
        self.validator = ArgumentSpecValidator(self.options) if self.options else None

    def _load(self, loader, where):
        for extension in (".yml", ".yaml"):
            path = os.path.join(self.path, where, "main" + extension) if where in ("defaults", "vars") \
                else os.path.join(self.path, where + extension)
            if os.path.isfile(path):
                data = load_trusted(loader, path)
                if data is not None and not isinstance(data, dict):
                    raise AnsibleActionFail("%s is not a mapping" % path)
                return data
        if where in ("defaults", "vars") and not os.path.isdir(self.path):
            raise AnsibleActionFail("%s.%s: no such role in %s" % (COLLECTION, self.name, ROLES_DIR))
        return None


def load_sections(loader, sections):
    """The :class:`SectionRole` of each item of ``sections`` (a role name or ``{role, tags}``)."""
    roles = []
    for item in sections or []:
        if isinstance(item, dict):
            unknown = set(item) - set(("role", "tags"))
            if unknown:
                raise AnsibleActionFail("sections: %r has unknown keys %s (allowed: role, tags)"
                                        % (item, ", ".join(sorted(unknown))))
            name, tags = item.get("role"), item.get("tags") or []
        else:
            name, tags = item, []
        short = role_short_name(name)
        if short is None:
            raise AnsibleActionFail("sections: %r is not a role of %s" % (name, COLLECTION))
        if isinstance(tags, str):
            tags = [tags]
        roles.append(SectionRole(loader, short, tags))
    return roles


def load_trusted(loader, path):
    """A role file's data, its strings templates as Ansible takes them from a role (ansible-core 2.19
    trusts only what it is told to; earlier versions template every string)."""
    try:
        return loader.load_from_file(path, cache="none", unsafe=True, trusted_as_template=True)
    except TypeError:
        return loader.load_from_file(path, cache="none", unsafe=True)


@contextlib.contextmanager
def templates_compiled_once():
    """While open, a template text is compiled once and its compiled form reused.

    ansible-core 2.19 compiles a template at every evaluation; planning fifty environments evaluates
    the same few hundred texts fifty times, and compiling is most of that work. A compiled template
    depends only on its text, its options and the Jinja environment's template search path (the
    variables and the templar come at render time; every environment of a process has the same
    filters and tests), so they are the key. Where ansible-core has no such method (before 2.19) nothing changes."""
    try:
        from ansible._internal._templating._engine import TemplateEngine  # pylint: disable=import-outside-toplevel
    except ImportError:
        yield
        return
    originals = dict((name, getattr(TemplateEngine, name, None)) for name in ("_compile_template", "_compile_expression"))
    if None in originals.values():
        yield
        return
    compiled = {}

    def reusing(name):
        original = originals[name]

        def compile_once(engine, text, options):
            loader = getattr(engine.environment, "loader", None)
            key = (name, text, options, repr(getattr(loader, "searchpath", None)))
            try:
                return compiled[key]
            except KeyError:
                pass
            except TypeError:  # options that cannot be a key
                return original(engine, text, options)
            result = compiled[key] = original(engine, text, options)
            return result
        return compile_once

    for name in originals:
        setattr(TemplateEngine, name, reusing(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(TemplateEngine, name, original)


def templar_over(templar, variables):
    """(a copy of ``templar`` over ``variables``, the mapping it reads them from).

    ansible-core 2.19 makes a lazy mapping of a plain dict of variables at every template it renders:
    a copy of every variable, for each of the hundreds of templates an environment's plan holds.
    Here the mapping is made once, so a variable is also templated once per environment, as it is
    within one task. Where ansible-core has no such mapping (before 2.19), the dict itself."""
    templar = templar.copy_with_new_env(available_variables=variables)
    try:
        # pylint: disable=import-outside-toplevel
        from ansible._internal._templating._engine import TemplateOptions
        from ansible._internal._templating._lazy_containers import _AnsibleLazyTemplateMixin
        from ansible._internal._templating._utils import TemplateContext
        with TemplateContext(template_value=None, templar=templar._engine, options=TemplateOptions.DEFAULT):
            lazy = _AnsibleLazyTemplateMixin._try_create(variables)
    except (ImportError, AttributeError, TypeError, ReferenceError):
        return templar, variables
    if not isinstance(lazy, dict):
        return templar, variables
    templar.available_variables = lazy
    return templar, lazy


def _one_line(text, limit=400):
    return " ".join(to_text(text).split())[:limit]


class EnvironmentPlanner(object):
    """Templates the selected sections' checks for one host after another."""

    def __init__(self, templar, loader, roles, hostvars, play_vars=None):
        self.templar = templar
        self.roles = roles
        self.hostvars = hostvars
        self.play_vars = dict(play_vars or {})
        self.extra_vars = load_extra_vars(loader)
        self.defaults = {}
        self.role_vars = {}
        for role in roles:
            self.defaults.update(role.defaults)
            self.role_vars.update(role.vars)

    def variables(self, host):
        """What a task of these roles would see on ``host``."""
        variables = dict(self.defaults)
        variables.update(self.hostvars.raw_get(host))
        variables.update(self.play_vars)
        variables.update(self.role_vars)
        variables.update(self.extra_vars)
        variables["hostvars"] = self.hostvars
        return variables

    def plan(self, host, environment):
        """(checks, host task files by role) for ``host``; a section that cannot be planned gets its
        rows as ERROR checks that say why."""
        variables = self.variables(host)
        templar, available = templar_over(self.templar, variables)
        checks, host_tasks = [], {}
        for role in self.roles:
            problem, validated = self._validate(templar, variables, role)
            # The role's variables, templated once for its validation, are what its checks see:
            # the checks then do not template them again at every reference.
            variables.update(validated)
            if available is not variables:
                available.update(validated)
            planned = None
            if not problem:
                try:
                    planned = templar.template(variables[role.plan_var])
                    if role.host_tasks_var in variables:
                        files = templar.template(variables[role.host_tasks_var]) or []
                        if files:
                            host_tasks[role.name] = list(files)
                except AnsibleError as exc:
                    problem = "its checks could not be planned: %s" % _one_line(exc)
            if problem:
                checks.append(self._error_entry(templar, variables, role, environment, problem))
                continue
            if not isinstance(planned, list):
                raise AnsibleActionFail("%s: %s of %s.%s is not a list" % (environment, role.plan_var, COLLECTION,
                                                                           role.name))
            checks.extend(planned)
        return checks, host_tasks

    def _validate(self, templar, variables, role):
        """The role's argument spec over its variables, as its validation task would check them: (the
        problem, empty when there is none; the role's variables templated, empty when they are not usable)."""
        if not role.options:
            return "", {}
        try:
            provided = templar.template(dict((name, variables[name]) for name in role.options if name in variables))
        except AnsibleError as exc:
            return "its variables could not be evaluated: %s" % _one_line(exc), {}
        result = role.validator.validate(provided, validate_role_argument_spec=True)
        if result.error_messages:
            return "its variables do not match meta/argument_specs.yml: %s" % _one_line(
                "; ".join(result.error_messages)), {}
        return "", provided

    def _error_entry(self, templar, variables, role, environment, problem):
        try:
            rows = templar.template(variables[role.rows_var]) if role.rows_var in variables else None
        except AnsibleError:
            rows = None
        reason = "%s.%s for %s: %s. Fix the inventory variables of %s and run again" % (
            COLLECTION, role.name, environment, problem, environment)
        if not rows:
            raise AnsibleActionFail(reason)
        return dict(name="%s_not_planned" % role.name, rows=list(rows), error=reason)


def selected_sections(roles, task_vars):
    """The sections whose tags the run selects (``ansible_run_tags``, ``ansible_skip_tags``)."""
    run_tags = task_vars.get("ansible_run_tags") or ["all"]
    skip_tags = task_vars.get("ansible_skip_tags") or []
    return [role for role in roles if tags_selected(role.tags, run_tags, skip_tags)]
