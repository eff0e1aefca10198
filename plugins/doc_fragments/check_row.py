# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options that label the checklist row a check module returns.
    DOCUMENTATION = r"""
options:
  check_id:
    description:
      - Id of the runbook Checklist Summary row this check produces, for example V(1.1) or V(2.2).
    type: str
    required: true
  check_title:
    description:
      - Title of the row, as in the runbook's Checklist Summary.
    type: str
    required: true
  environment:
    description:
      - Name of the environment checked (V(staging), V(prod), V(local)); copied into the row.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    details: The check only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The module never fails because the system under test does not meet the criteria; it returns
    a row whose C(status) says so. It fails only when its own arguments are unusable.
  - Statuses are V(PASS), V(WARN), V(FAIL), V(ERROR) (could not be evaluated) and V(SKIP). A row's
    status is the worst status of its findings; a row without findings is V(ERROR).
"""
