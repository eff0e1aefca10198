# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a check module of this collection inside the controller's process.

A module started by Ansible costs a Python interpreter, an AnsiballZ payload and a fork for
every task: most of a check's time when its own work is a few HTTP requests. The check modules
take the class that builds their module object (``main(module_factory=AnsibleModule)``), so
the action plugin ``run_checks`` can hand them :class:`InProcessModule` instead and run several
checks at once in threads. The module validates its arguments against the same argument spec,
masks the same ``no_log`` values and returns the same result as when Ansible runs it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import threading
import os
import shutil
import subprocess

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

# The check modules that run_checks may run; they take a module factory.
CHECK_MODULES = frozenset((
    "auth_smoke", "container_logs_check", "git_tag_check", "http_check", "pg_migrations_check", "pg_settings_info",
    "pg_tenant_isolation_check", "pg_verify_function_check", "prometheus_check", "security_headers_check",
    "sentry_check", "ui_login_check", "webhook_check",
))
# The modules that only work on the controller and run there through an action of their own name.
CONTROLLER_MODULES = frozenset(("checklist_write", "evidence_pack"))
IN_PROCESS_MODULES = CHECK_MODULES | CONTROLLER_MODULES
COLLECTION = "solvereign.release_ops"


class ModuleFinished(BaseException):
    """Raised by exit_json/fail_json: the module's result. A BaseException, so that no
    ``except Exception`` inside a check can swallow the end of the module."""

    def __init__(self, result):
        super(ModuleFinished, self).__init__(result.get("msg", ""))
        self.result = result


class InProcessModule(object):
    """The part of AnsibleModule that the check modules use, without leaving the process."""

    def __init__(self, argument_spec, supports_check_mode=False, mutually_exclusive=None, required_together=None,
                 required_one_of=None, required_if=None, required_by=None, **unused):
        arguments = _CALL.arguments
        self.check_mode = bool(_CALL.check_mode)
        self.no_log_values = set()
        self.params = {}
        if self.check_mode and not supports_check_mode:
            raise ModuleFinished(dict(skipped=True, msg="remote module does not support check mode"))
        validator = ArgumentSpecValidator(argument_spec, mutually_exclusive=mutually_exclusive,
                                          required_together=required_together, required_one_of=required_one_of,
                                          required_if=required_if, required_by=required_by)
        validated = validator.validate(arguments)
        self.no_log_values = set(validated._no_log_values)  # pylint: disable=protected-access
        self.params = validated.validated_parameters
        if validated.error_messages:
            self.fail_json(msg="; ".join(validated.error_messages))

    def exit_json(self, **result):
        result.setdefault("changed", False)
        raise ModuleFinished(remove_values(result, self.no_log_values))

    def fail_json(self, msg, **result):
        result.update(failed=True, msg=msg)
        result.pop("exception", None)
        raise ModuleFinished(remove_values(result, self.no_log_values))

    def warn(self, warning):
        _CALL.warnings.append(warning)

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        found = shutil.which(arg, path=os.pathsep.join(list(opt_dirs or []) + [os.environ.get("PATH", os.defpath)]))
        if required and not found:
            self.fail_json(msg="Failed to find required executable %s" % arg)
        return found

    def run_command(self, args, cwd=None, environ_update=None, check_rc=False, data=None, **unused):
        env = dict(os.environ)
        env.update(environ_update or {})
        try:
            proc = subprocess.run(args, cwd=cwd, env=env, input=data, stdout=subprocess.PIPE,  # pylint: disable=subprocess-run-check
                                  stderr=subprocess.PIPE, universal_newlines=True, check=False)
        except OSError as exc:
            if check_rc:
                self.fail_json(msg=str(exc), cmd=args)
            return 127, "", str(exc)
        if check_rc and proc.returncode != 0:
            self.fail_json(msg=proc.stderr or proc.stdout, rc=proc.returncode, cmd=args)
        return proc.returncode, proc.stdout, proc.stderr


class _Call(object):
    """The arguments of the module being built in this thread."""

    def __init__(self):
        self._local = threading.local()

    def __getattr__(self, name):
        try:
            return getattr(self._local, name)
        except AttributeError:
            raise AttributeError("no module call in progress in this thread (%s)" % name)

    def begin(self, arguments, check_mode):
        self._local.arguments = arguments
        self._local.check_mode = check_mode
        self._local.warnings = []


_CALL = _Call()


def short_name(module_name):
    """``solvereign.release_ops.http_check`` -> ``http_check``; None for other collections' modules."""
    if "." not in module_name:
        return module_name if module_name in IN_PROCESS_MODULES else None
    prefix, dummy, short = module_name.rpartition(".")
    return short if prefix == COLLECTION and short in IN_PROCESS_MODULES else None


def run_module(module_name, arguments, check_mode=False):
    """Run one of :data:`IN_PROCESS_MODULES` in this thread and return its result dict."""
    short = short_name(module_name)
    if short is None:
        raise ValueError("%s cannot run in-process" % module_name)
    code = importlib.import_module("ansible_collections.solvereign.release_ops.plugins.modules.%s" % short)
    _CALL.begin(dict(arguments or {}), check_mode)
    try:
        code.main(module_factory=InProcessModule)
    except ModuleFinished as finished:
        result = finished.result
    else:
        result = dict(failed=True, msg="%s ended without a result" % module_name)
    if _CALL.warnings:
        result.setdefault("warnings", []).extend(_CALL.warnings)
    return result
