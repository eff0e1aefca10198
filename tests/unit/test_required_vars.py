"""required_vars: every unusable or malformed variable named in one failure."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
    inventory = {"all": {"hosts": dict((name, dict(spec, ansible_connection="local",
                                                   ansible_python_interpreter=sys.executable))
                                       for name, spec in hosts.items())}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "inventory.json"), str(tmp_path / "play.yml"),
                           "-e", json.dumps({"out_dir": str(tmp_path)})], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
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
