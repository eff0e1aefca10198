"""required_vars: every unusable or malformed variable named in one failure."""

import json

from .conftest import run_local_playbook

PLAYBOOK = """
- name: Check the variables
  hosts: all
  gather_facts: false
  tasks:
    - name: Check
      solvereign.release_ops.required_vars:
        names: [solvereign_url, solvereign_release_commit, solvereign_release_version]
        formats:
          solvereign_url: {pattern: '^https?://', problem: is not an http(s) URL}
          solvereign_release_commit: {pattern: '^[0-9a-f]{4,40}$'}
      register: checked
      ignore_errors: true
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ checked | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
"""


def check(tmp_path, hosts):
    proc = run_local_playbook(tmp_path, hosts, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout
    return dict((name, json.loads((tmp_path / ("%s.json" % name)).read_text())) for name in hosts)


def test_formats_are_checked_with_presence_and_named_with_their_values(tmp_path):
    results = check(tmp_path, {
        "good": {"solvereign_url": "https://staging.example.com", "solvereign_release_commit": "87b4a59",
                 "solvereign_release_version": "3.7.0"},
        "bad_forms": {"solvereign_url": "staging.example.com", "solvereign_release_commit": "HEAD",
                      "solvereign_release_version": "3.7.0"},
        # A missing variable and a malformed one: both in the one message.
        "bad_both": {"solvereign_url": "ftp://x", "solvereign_release_commit": "87b4a59"},
    })
    assert results["good"].get("failed") is not True and results["good"]["malformed"] == []
    assert results["bad_forms"]["failed"] is True
    expected = ('solvereign_url "staging.example.com" is not an http(s) URL; '
                'solvereign_release_commit "HEAD" does not match ^[0-9a-f]{4,40}$')
    assert results["bad_forms"]["msg"] == expected
    assert results["bad_both"]["missing"] == ["solvereign_release_version"]
    assert "missing: solvereign_release_version" in results["bad_both"]["msg"]
    assert 'malformed: solvereign_url "ftp://x" is not an http(s) URL' in results["bad_both"]["msg"]
