# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the evidence role: the secret values the pack is scanned for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.solvereign.release_ops.plugins.module_utils.evidence import dsn_password

# Variables whose names say they hold a secret, in the collection's prefixes.
SECRET_NAME = re.compile(r"^(?:solvereign|soak|rollback|hotfix|evidence)_\w*"
                         r"(?:password|passwd|token|secret|api_key|apikey|private_key|webhook_url|cookie)$")
DSN_NAME = re.compile(r"^(?:solvereign|soak|rollback|hotfix)_\w*(?:database_url|dsn)$")


def _value(hvars, name):
    try:
        value = hvars[name]
    except (KeyError, AnsibleError):
        return None
    except Exception:  # an undefined (vault) variable behind it: nothing to scan for
        return None
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value)
    if not text.strip() or text.startswith("{{"):
        return None
    return text


def evidence_secrets(hostvars, hosts, names=(), extra=()):
    """``{variable: value}`` of every configured secret of ``hosts``.

    The key is the variable name, followed by ``@<environment>`` when several hosts are given
    (so a finding says whose secret leaked).
    ``names`` are variables always scanned for; every variable of a host whose name looks like a
    secret (see ``SECRET_NAME``) is added, and the password inside every DSN variable. ``extra``
    are further values (``evidence_secret_values``): strings or ``{name, value}``."""
    if isinstance(names, str) or isinstance(extra, (str, dict)):
        raise AnsibleFilterError("evidence_secrets: names and extra must be lists "
                                 "(evidence_secret_variables, evidence_secret_values)")
    out = {}
    several = len(hosts or []) > 1

    def add(name, value):
        if value and value not in out.values():
            key = name
            number = 2
            while key in out:
                key = "%s#%d" % (name, number)
                number += 1
            out[key] = value

    for host in hosts or []:
        try:
            hvars = hostvars[host]
        except (KeyError, AnsibleError):
            continue
        suffix = ""
        if several:
            suffix = "@%s" % (_value(hvars, "solvereign_environment") or host)
        try:
            keys = list(hvars.keys())
        except Exception:
            keys = []
        wanted = list(names or []) + sorted(k for k in keys if SECRET_NAME.match(str(k)) and k not in (names or []))
        for name in wanted:
            add(name + suffix, _value(hvars, name))
        for name in sorted(set(k for k in keys if DSN_NAME.match(str(k))) | set(["solvereign_database_url"])):
            password = dsn_password(_value(hvars, name))
            add("%s (password)%s" % (name, suffix), password)
    for index, entry in enumerate(extra or []):
        if isinstance(entry, dict):
            if "value" not in entry:
                raise AnsibleFilterError("evidence_secret_values[%d] needs 'value' (and 'name')" % index)
            add(str(entry.get("name") or "evidence_secret_values[%d]" % index), str(entry["value"]))
        elif entry is not None:
            add("evidence_secret_values[%d]" % index, str(entry))
    return out


def evidence_fingerprints(hostvars, hosts, variable="auth_smoke_session_fingerprints"):
    """``[{name, sha256}]`` of the secrets the checks saw and kept only as SHA-256 (the session
    cookies of the login smoke), from ``variable`` of every host, named after the environment."""
    out, seen = [], set()
    for host in hosts or []:
        try:
            hvars = hostvars[host]
            digests = hvars.get(variable) or []
        except Exception:
            continue
        environment = _value(hvars, "solvereign_environment") or host
        for digest in digests if isinstance(digests, list) else []:
            if isinstance(digest, str) and digest not in seen:
                seen.add(digest)
                out.append({"name": "session cookie of the login smoke (%s)" % environment, "sha256": digest})
    return out


def evidence_secret_names(secrets):
    """The variable names of ``evidence_secrets`` output (safe to show)."""
    return sorted(secrets or {})


class FilterModule(object):
    def filters(self):
        return {
            "evidence_secrets": evidence_secrets,
            "evidence_secret_names": evidence_secret_names,
            "evidence_fingerprints": evidence_fingerprints,
        }
