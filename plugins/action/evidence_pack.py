# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the module evidence_pack on the controller, inside Ansible's own process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.solvereign.release_ops.plugins.plugin_utils.in_process_action import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = "solvereign.release_ops.evidence_pack"
