#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pg_settings_info
short_description: Read PostgreSQL server settings in a read-only transaction
version_added: 0.1.0
description:
  - Reads the named settings from C(pg_settings), for example C(max_connections) when no
    Prometheus gauge reports it (runbook row 7.2, DB connections below 80% of the maximum).
  - Runs in the same read-only, rolled-back session as the SQL checks; the password of the DSN
    never appears in the result or in error messages.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.postgres
attributes:
  check_mode:
    support: full
    details: Reads only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  names:
    description: Names of the settings to read.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Read max_connections for the DB connection signal
  solvereign.release_ops.pg_settings_info:
    dsn: "{{ solvereign_database_url }}"
    names: [max_connections]
  delegate_to: localhost
  register: pg_settings
"""

RETURN = r"""
settings:
  description: Value of each setting found, as text, by name.
  returned: success
  type: dict
  sample: {"max_connections": "100"}
missing:
  description: Names that are not PostgreSQL settings.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    PgError,
    ensure_required_libs,
    postgres_common_argument_spec,
    session_from_module,
)


def main(module_factory=AnsibleModule):
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(names=dict(type="list", elements="str", required=True))
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    names = module.params["names"]
    try:
        with session_from_module(module) as db:
            rows = db.query("SELECT name, setting FROM pg_catalog.pg_settings WHERE name = ANY(%s)",
                            (names,), label="reading pg_settings")
    except PgError as exc:
        module.fail_json(msg="cannot read %s: %s" % (", ".join(names), exc.message), kind=exc.kind)
    settings = dict((r["name"], r["setting"]) for r in rows)
    module.exit_json(changed=False, settings=settings, missing=[n for n in names if n not in settings])


if __name__ == "__main__":
    main()
