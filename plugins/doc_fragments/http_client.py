# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the shared HTTP client (module_utils/http_client.py).
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait for an answer to one request. Connecting waits at most 10 seconds or this
        value, whichever is lower.
    type: float
    default: 10.0
  retries:
    description:
      - How many times a request is retried when no connection could be made (refused, DNS,
        connect timeout). An HTTP answer of any status and a read timeout are never retried.
    type: int
    default: 2
  retry_backoff:
    description:
      - Seconds before the first retry; doubled for each further retry.
    type: float
    default: 0.5
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only for a test target.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA bundle used to verify the server certificate.
    type: path
  follow_redirects:
    description:
      - Follow HTTP redirects. Off by default so that a probe judges the answer of the URL it names.
    type: bool
    default: false
  max_redirects:
    description:
      - Most redirects followed before the probe is reported as a redirect loop.
    type: int
    default: 5
requirements:
  - requests
"""
