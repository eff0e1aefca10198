# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action that runs its module of the same name inside the controller's process.

For modules that only ever work on the controller (they write the checklist and the evidence
pack there): the same module, without the interpreter, payload and fork a module task costs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.solvereign.release_ops.plugins.module_utils import in_process


class InProcessModuleAction(ActionBase):
    """Subclasses name their module in ``MODULE``."""

    MODULE = None
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessModuleAction, self).run(tmp, task_vars)
        result.update(in_process.run_module(self.MODULE, dict(self._task.args), check_mode=bool(self._task.check_mode)))
        return result
