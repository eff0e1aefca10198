#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: required_vars
short_description: Fail with one clear message naming every required variable that is not usable
version_added: 0.1.0
description:
  - For each name in O(names), checks that the variable is defined, is not empty, and can be
    evaluated. A variable that refers to an undefined one (typically a vault variable when the
    vault file was not loaded) is named together with the variable it refers to.
  - Fails once, listing all problems, instead of stopping at the first.
  - This is an action plugin; it runs on the controller only and never connects to the host.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
options:
  names:
    description: Names of the variables that must be usable.
    type: list
    elements: str
    required: true
  hint:
    description: Text appended to the failure message, for example where to set the variables.
    type: str
  formats:
    description:
      - By variable name, the form its value must have, C({pattern, problem}); checked for the variables
        of O(names) that are set and usable. C(pattern) is a Python regular expression searched
        in the value (as the C(ansible.builtin.regex) test does); C(problem) ends the message
        C(<name> "<value>" <problem>).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Check the inventory variables the checks need
  solvereign.release_ops.required_vars:
    names: [solvereign_environment, solvereign_url, solvereign_release_version]
    hint: Set them in group_vars/<environment>.yml of the inventory.

- name: The same, and the commit must be a commit hash
  solvereign.release_ops.required_vars:
    names: [solvereign_environment, solvereign_release_commit]
    formats:
      solvereign_release_commit:
        pattern: '^[0-9a-fA-F]{4,40}$'
        problem: must be 4 to 40 hex digits
"""

RETURN = r"""
missing:
  description: Names that are not defined.
  returned: always
  type: list
  elements: str
empty:
  description: Names whose value is empty.
  returned: always
  type: list
  elements: str
unresolved:
  description: Names that cannot be evaluated, each with the reason.
  returned: always
  type: list
  elements: str
malformed:
  description: For each value that does not have its form (O(formats)), the variable, its value and the problem.
  returned: always
  type: list
  elements: str
"""
