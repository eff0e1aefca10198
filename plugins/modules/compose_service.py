#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_service
short_description: Run one service of a docker compose project with a given image (runbook 8.3 redeploy)
version_added: 0.2.0
description:
  - Makes one service of a compose project run O(image), the way the runbook's rollback does it
    (C(docker pull), then C(docker-compose up -d --force-recreate <service>)).
  - Uses the C(docker compose) v2 plugin when it is installed, else the C(docker-compose) v1 binary.
  - The user's compose files are never written. The image goes into a separate override file
    (O(override_file)) passed with C(-f) after the user's files; this works for a compose file that
    pins the image with a literal tag and for one that takes the tag from a variable in C(.env).
    RV(plain_up_image) says what a later C(docker compose up) without the override file would run.
  - With O(state=inspected) nothing is changed; the module reports the service's container, its
    image and whether O(image) is present. With O(state=pulled) O(image) is pulled (per O(pull)) and must be
    present at the end; the container is not touched, so a missing image is found before anything stops.
  - Idempotent; the container is recreated only when it does not already run O(image)
    (or always with O(recreate=always)).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is pulled, written or recreated; RV(changed) says whether the service would be recreated.
  diff_mode:
    support: full
    details:
      - The service's image before and after.
  platform:
    platforms: posix
options:
  project_src:
    description: Directory of the compose project (the project directory of compose).
    type: path
    required: true
  files:
    description:
      - The project's compose files, relative to O(project_src) or absolute. Empty for the file compose
        itself would pick (C(compose.yaml), ..., C(docker-compose.yml), plus its C(.override) file).
    type: list
    elements: path
    default: []
  project_name:
    description:
      - Compose project name. Default as compose derives it (C(COMPOSE_PROJECT_NAME) from the environment
        or C(.env), else the directory name).
    type: str
  service:
    description: The service to run O(image).
    type: str
    required: true
  image:
    description:
      - The image, with its tag, the service must run (V(solvereign/api:v3.6.10)). Required for
        O(state=present); with O(state=inspected) its presence is reported.
    type: str
  state:
    description:
      - V(present) makes the service run O(image); V(pulled) only makes sure O(image) is on the engine;
        V(inspected) only reports.
    type: str
    choices: [present, pulled, inspected]
    default: present
  pull:
    description:
      - V(always) pulls O(image) first; a failed pull with the image present locally is a warning, without it
        the module fails before anything is stopped.
      - V(missing) pulls only when the image is not present; V(never) never pulls (a missing image fails).
    type: str
    choices: [always, missing, never]
    default: always
  recreate:
    description:
      - V(auto) recreates the container only when it does not run O(image); V(always) recreates it in any case.
    type: str
    choices: [auto, always]
    default: auto
  override_file:
    description:
      - Path of the override file that sets the service's image, relative to O(project_src) or absolute.
        A file at that path that this module did not write is never replaced (the module fails instead).
    type: path
    default: docker-compose.rollback.yml
  labels:
    description: Labels set on the service's container through the override file.
    type: dict
    default: {}
  timeout:
    description: Seconds compose waits for the old container to stop (C(--timeout)).
    type: int
    default: 10
  docker_host:
    description: Docker engine, as C(DOCKER_HOST) (V(unix:///run/docker.sock), V(ssh://deploy@host)); default the CLI's.
    type: str
  docker_cli:
    description: Name or path of the docker CLI.
    type: str
    default: docker
  compose_cli:
    description: Name or path of the compose v1 binary, used when the C(docker compose) plugin is absent.
    type: str
    default: docker-compose
notes:
  - Every CLI call goes through C(run_command) with an argument list, never a shell.
  - The commands run and their output are returned in RV(log), for the deploy log.
seealso:
  - name: community.docker.docker_compose_v2
    description: The general-purpose compose module this one follows in shape.
    link: https://docs.ansible.com/ansible/latest/collections/community/docker/docker_compose_v2_module.html
"""

EXAMPLES = r"""
- name: Roll the api service back to v3.6.10
  solvereign.release_ops.compose_service:
    project_src: /srv/solvereign
    service: api
    image: solvereign/api:v3.6.10
    labels:
      solvereign.rollback.from: v3.7.0
  register: redeploy

- name: What runs now
  solvereign.release_ops.compose_service:
    project_src: /srv/solvereign
    service: api
    state: inspected
"""

RETURN = r"""
changed:
  description: Whether the service's container was (or, in check mode, would be) recreated.
  returned: always
  type: bool
container_before:
  description: The service's container before (C(id), C(name), C(image), C(image_id), C(state), C(running), C(labels)); null when none.
  returned: always
  type: dict
container_after:
  description: The service's container at the end (as RV(container_before)); in check mode the one before.
  returned: always
  type: dict
image_before:
  description: The image the service ran before.
  returned: always
  type: str
  sample: solvereign/api:v3.7.0
image_after:
  description: The image the service runs at the end (in check mode, the one it would run).
  returned: always
  type: str
  sample: solvereign/api:v3.6.10
image_present:
  description: Whether O(image) is present on the engine (after the pull).
  returned: always
  type: bool
pulled:
  description: Whether O(image) was pulled successfully.
  returned: always
  type: bool
services:
  description: The services of the compose project.
  returned: always
  type: list
  elements: str
project_name:
  description: The compose project name used.
  returned: always
  type: str
compose_version:
  description: Which compose ran, V(v2 ...) (plugin) or V(v1 ...) (C(docker-compose)).
  returned: always
  type: str
compose_files:
  description: The user's compose files (never written).
  returned: always
  type: list
  elements: str
override_file:
  description: The override file that sets the image; null when none was written.
  returned: always
  type: str
plain_up_image:
  description:
    - The image a later C(docker compose up) with only the user's files (without RV(override_file)) would run.
  returned: always
  type: str
command:
  description: The compose up command run (argument list); empty when nothing was recreated.
  returned: always
  type: list
  elements: str
actions:
  description: What was done, in order (C(what), C(status), C(detail)).
  returned: always
  type: list
  elements: dict
log:
  description: The commands run and their output (the deploy log).
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils._compose import (
    ComposeDriver,
    ComposeError,
    OVERRIDE_MARKER,
    override_text,
    write_override,
)


def run(module, holder):
    p = module.params
    driver = ComposeDriver(module, p["project_src"], files=p["files"], project_name=p["project_name"],
                           docker_host=p["docker_host"], docker_cli=p["docker_cli"], compose_cli=p["compose_cli"])
    holder["driver"] = driver
    override = p["override_file"]
    if not os.path.isabs(override):
        override = os.path.join(driver.project_src, override)
    result = dict(changed=False, project_name=driver.project_name, compose_version=None,
                  compose_files=driver.files, override_file=None, command=[], actions=[], pulled=False,
                  services=[], container_before=None, container_after=None, image_before=None, image_after=None,
                  plain_up_image=None)
    if p["state"] != "pulled":
        result["compose_version"] = driver.compose_version
        services = driver.services()
        result["services"] = services
        if p["service"] not in services:
            raise ComposeError("service %r is not in the compose project %s (services: %s): set the service name"
                               % (p["service"], driver.project_src, ", ".join(services) or "none"))
        before = driver.container(p["service"])
        result.update(container_before=before, container_after=before,
                      image_before=before["image"] if before else None)
        result["image_after"] = result["image_before"]
        result["plain_up_image"] = driver.configured_image(p["service"])
        if os.path.isfile(override):
            with open(override) as handle:
                if handle.read().startswith(OVERRIDE_MARKER):
                    result["override_file"] = override
    before = result["container_before"]
    image = p["image"]
    result["image_present"] = bool(image and driver.image_present(image))
    if p["state"] == "inspected":
        result["log"] = driver.log_text()
        return result

    up_to_date = bool(before and before["running"] and before["image"] == image and p["recreate"] == "auto")
    if up_to_date and p["state"] == "present":
        result["actions"].append(dict(what="service", status="unchanged",
                                      detail="%s already runs %s" % (before["name"], image)))
        result["log"] = driver.log_text()
        return result

    # Make sure the image is there before anything is stopped.
    present_before = result["image_present"]
    if not module.check_mode and (p["pull"] == "always" or (p["pull"] == "missing" and not result["image_present"])):
        ok, detail = driver.pull(image)
        result["pulled"] = ok
        result["actions"].append(dict(what="image", status="pulled" if ok else "pull failed", detail=detail[-300:]))
        if not ok and result["image_present"]:
            module.warn("docker pull %s failed (%s); using the image present on the engine" % (image, detail[-200:]))
        result["image_present"] = bool(driver.image_present(image))
    if not result["image_present"]:
        if module.check_mode and p["pull"] != "never":
            result["actions"].append(dict(what="image", status="would pull", detail=image))
        else:
            raise ComposeError("image %s is not on the engine and could not be pulled; nothing was stopped "
                               "(import or push the image, or choose another version)" % image)
    if p["state"] == "pulled":
        result["changed"] = not present_before and result["image_present"] and not module.check_mode
        result["log"] = driver.log_text()
        return result

    result["changed"] = True
    result["image_after"] = image
    if module.check_mode:
        result["actions"].append(dict(what="service", status="would recreate",
                                      detail="%s with %s" % (p["service"], image)))
        result["log"] = driver.log_text()
        return result

    written = write_override(override, override_text(p["service"], image, p["labels"]))
    result["override_file"] = override
    result["actions"].append(dict(what="override file", status="written" if written else "unchanged", detail=override))
    result["command"] = driver.up(p["service"], override, p["timeout"])
    after = driver.container(p["service"])
    result["container_after"] = after
    result["image_after"] = after["image"] if after else None
    if not after or not after["running"] or after["image"] != image:
        raise ComposeError("after compose up, the %s container %s (image %s): see the deploy log" % (
            p["service"], "is missing" if not after else "is %s" % after["state"], after and after["image"]))
    result["changed"] = not before or before["id"] != after["id"] or before["image"] != after["image"]
    result["actions"].append(dict(what="container", status="recreated" if result["changed"] else "unchanged",
                                  detail="%s runs %s" % (after["name"], image)))
    result["log"] = driver.log_text()
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_src=dict(type="path", required=True),
            files=dict(type="list", elements="path", default=[]),
            project_name=dict(type="str"),
            service=dict(type="str", required=True),
            image=dict(type="str"),
            state=dict(type="str", choices=["present", "pulled", "inspected"], default="present"),
            pull=dict(type="str", choices=["always", "missing", "never"], default="always"),
            recreate=dict(type="str", choices=["auto", "always"], default="auto"),
            override_file=dict(type="path", default="docker-compose.rollback.yml"),
            labels=dict(type="dict", default={}),
            timeout=dict(type="int", default=10),
            docker_host=dict(type="str"),
            docker_cli=dict(type="str", default="docker"),
            compose_cli=dict(type="str", default="docker-compose"),
        ),
        required_if=[("state", "present", ("image",)), ("state", "pulled", ("image",))],
        supports_check_mode=True,
    )
    holder = {}
    try:
        result = run(module, holder)
    except (ComposeError, OSError, IOError, ValueError) as exc:
        log = holder["driver"].log_text() if "driver" in holder else ""
        message = str(exc) if isinstance(exc, ComposeError) else "compose_service failed: %s" % exc
        module.fail_json(msg=message, log=log)
    result["diff"] = dict(before=dict(image=result.get("image_before")), after=dict(image=result.get("image_after")))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
