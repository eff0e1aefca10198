# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the read-only PostgreSQL session (module_utils/postgres.py).
    DOCUMENTATION = r"""
options:
  dsn:
    description:
      - libpq connection string of the database to check, as a URL
        (V(postgresql://user:password@host:5432/dbname?sslmode=verify-full)) or as key=value pairs
        (V(host=db.example.com dbname=solvereign user=release_ro password=... sslmode=require)).
      - Every libpq option in it (C(sslmode), C(sslrootcert), C(target_session_attrs), ...) and the
        C(PG*) environment variables of the controller are honoured.
      - Use a read-only role. The password is never shown, neither in the row nor in error messages
        or evidence files.
    type: str
    required: true
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established. Overrides a C(connect_timeout) in
        O(dsn). V(0) waits as long as libpq does.
    type: int
    default: 10
  statement_timeout:
    description:
      - Seconds each statement may run before the server cancels it (C(statement_timeout), set
        locally in the check's transaction). V(0) leaves the server's setting.
    type: float
    default: 30.0
  probe_role:
    description:
      - Role to switch to with C(SET LOCAL ROLE) right after the transaction starts, for example the
        application role, so that row level security is judged as that role sees it. The DSN's user
        must be a member of it.
      - Empty to run as the DSN's user.
    type: str
    default: ""
notes:
  - Every statement runs in one C(BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY) transaction that is
    rolled back; the session also sets C(default_transaction_read_only). The check never writes.
  - Connection and statement failures give an V(ERROR) row that names the cause (malformed DSN, wrong
    password, database down or refused, statement timeout, missing schema, table or function).
requirements:
  - psycopg2 (C(psycopg2-binary)) on the controller
"""
