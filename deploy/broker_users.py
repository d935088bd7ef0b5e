"""One RabbitMQ user per service, allowed only what that service does on the broker.

Derived from the catalogue of subscriptions (shared/topology.py: who consumes which queue) and
from what each service publishes, so the permissions cannot drift from the code:

* configure, write and read: the system's exchanges and queues, nothing else (not the default
  exchange, so no publishing around the letters exchange). Every service declares and binds the
  whole topology at start (a late consumer must not miss an event), and RabbitMQ lets a user
  declare a queue with a dead-letter exchange only with read on that queue: so read cannot be
  narrowed to the service's own queues while that holds. Narrowing it means declaring the
  topology once (from definitions) and each service only its own queues.
* topic permissions on the letters exchange: a service may publish only its own events. Sorting
  or delivery credentials cannot announce `staff.token_changed` (and intake signs it anyway).
* `operator`: inspects (through the dead-letter exchange) and replays parking lots
  (`python -m shared.parking`), reads queue
  depths (KEDA); may publish any event to the letters exchange, so keep its password close.

The guest user stays for local development and the tests only.

    python -m deploy.broker_users definitions > definitions.json   # passwords from the environment
    python -m deploy.broker_users commands                          # the same as rabbitmqctl commands
    python -m deploy.broker_users manifest > deploy/k8s/infrastructure/rabbitmq-users.yaml

Passwords come from RABBITMQ_INTAKE_PASSWORD, RABBITMQ_SORTING_PASSWORD,
RABBITMQ_DELIVERY_PASSWORD and RABBITMQ_OPERATOR_PASSWORD. Load the definitions with
`rabbitmqctl import_definitions definitions.json` (or `load_definitions` at boot), then give each
service its own AMQP_URL (`amqp://intake:<password>@…`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass

from shared.topology import PUBLICATIONS, owners, published_keys, queue_policies

SERVICES = tuple(PUBLICATIONS)
OPERATOR = "operator"


@dataclass(frozen=True)
class Permissions:
    user: str
    configure: str
    write: str
    read: str
    letters_exchange: str
    topic_write: str
    topic_read: str = ".*"


def _prefix(namespace: str) -> str:
    return re.escape(f"{namespace}.") if namespace else ""


def permissions(user: str, namespace: str = "") -> Permissions:
    p = _prefix(namespace)
    topology = rf"^{p}(letters|letters\.dead|({'|'.join(owners())})\..+)$"
    exchange = f"{namespace}.letters" if namespace else "letters"
    if user == OPERATOR:
        # letters.dead too: listing a parking lot puts a fresh copy of each message back (shared/parking.py).
        return Permissions(user, configure="^$", write=rf"^{p}(letters|letters\.dead)$", read=topology,
                           letters_exchange=exchange, topic_write=".*")
    events = "|".join(re.escape(key) for key in published_keys(user))
    return Permissions(user, configure=topology, write=topology, read=topology, letters_exchange=exchange,
                       topic_write=f"^({events})$")


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(passwords: dict[str, str], namespace: str = "", vhost: str = "/") -> dict:
    """A RabbitMQ definitions document with the users, their permissions and topic permissions, and
    the queues' policies (their delivery limit: shared/topology.py)."""
    users, perms, topics = [], [], []
    for user, password in passwords.items():
        p = permissions(user, namespace)
        users.append({"name": user, "password_hash": password_hash(password),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        perms.append({"user": user, "vhost": vhost, "configure": p.configure, "write": p.write, "read": p.read})
        topics.append({"user": user, "vhost": vhost, "exchange": p.letters_exchange, "write": p.topic_write,
                       "read": p.topic_read})
    policies = [{"vhost": vhost, **policy} for policy in queue_policies(namespace)]
    return {"users": users, "vhosts": [{"name": vhost}], "permissions": perms, "topic_permissions": topics,
            "policies": policies}


def policy_commands(namespace: str = "", vhost: str = "/") -> list[list[str]]:
    """The queues' policies as rabbitmqctl calls (a changed limit applies at once, no queue is deleted)."""
    return [["set_policy", "-p", vhost, "--apply-to", policy["apply-to"], "--priority", str(policy["priority"]),
             policy["name"], policy["pattern"], json.dumps(policy["definition"])]
            for policy in queue_policies(namespace)]


def rabbitmqctl_commands(passwords: dict[str, str], namespace: str = "", vhost: str = "/",
                         user_prefix: str = "") -> list[list[str]]:
    """The same as rabbitmqctl calls (for a node without definitions import, and for the tests,
    whose users are named `<user_prefix><service>` so that test runs never share one)."""
    commands = []
    for service, password in passwords.items():
        if password.startswith("-"):
            raise ValueError(f"{service}'s password starts with '-', which rabbitmqctl reads as an option: "
                             "choose another (or load the definitions file instead)")
        p, user = permissions(service, namespace), f"{user_prefix}{service}"
        commands += [
            ["add_user", user, password],
            ["set_permissions", "-p", vhost, user, p.configure, p.write, p.read],
            ["set_topic_permissions", "-p", vhost, user, p.letters_exchange, p.topic_write, p.topic_read],
        ]
    return commands


def topology_operator_objects(cluster: str = "letters-rabbitmq", vhost: str = "/") -> list[dict]:
    """The same users for Kubernetes: User, Permission and TopicPermission resources of the RabbitMQ
    messaging topology operator. Each User takes its name and password from the Secret
    `letters-broker-<user>` (keys username, password), which also holds that service's AMQP_URL."""
    objects: list[dict] = []
    for user in (*SERVICES, OPERATOR):
        p = permissions(user)
        labels = {"app.kubernetes.io/part-of": "letters", "app.kubernetes.io/component": user}
        cluster_ref = {"name": cluster}
        objects += [
            {"apiVersion": "rabbitmq.com/v1beta1", "kind": "User",
             "metadata": {"name": f"letters-{user}", "labels": labels},
             "spec": {"rabbitmqClusterReference": cluster_ref, "tags": [],
                      "importCredentialsSecret": {"name": f"letters-broker-{user}"}}},
            {"apiVersion": "rabbitmq.com/v1beta1", "kind": "Permission",
             "metadata": {"name": f"letters-{user}", "labels": labels},
             "spec": {"vhost": vhost, "userReference": {"name": f"letters-{user}"},
                      "permissions": {"configure": p.configure, "write": p.write, "read": p.read},
                      "rabbitmqClusterReference": cluster_ref}},
            {"apiVersion": "rabbitmq.com/v1beta1", "kind": "TopicPermission",
             "metadata": {"name": f"letters-{user}", "labels": labels},
             "spec": {"vhost": vhost, "userReference": {"name": f"letters-{user}"},
                      "permissions": {"exchange": p.letters_exchange, "write": p.topic_write, "read": p.topic_read},
                      "rabbitmqClusterReference": cluster_ref}},
        ]
    return objects


def policy_objects(cluster: str = "letters-rabbitmq", vhost: str = "/") -> list[dict]:
    """The queues' policies (shared/topology.py) as Policy resources of the topology operator."""
    return [
        {"apiVersion": "rabbitmq.com/v1beta1", "kind": "Policy",
         "metadata": {"name": re.sub(r"[^a-z0-9-]+", "-", policy["name"]),
                      "labels": {"app.kubernetes.io/part-of": "letters"}},
         "spec": {"name": policy["name"], "vhost": vhost, "pattern": policy["pattern"],
                  "applyTo": policy["apply-to"], "priority": policy["priority"], "definition": policy["definition"],
                  "rabbitmqClusterReference": {"name": cluster}}}
        for policy in queue_policies()
    ]


MANIFEST_HEADER = """\
# One RabbitMQ user per service (and one for operators), through the RabbitMQ messaging topology
# operator (User, Permission, TopicPermission). Generated by `python -m deploy.broker_users
# manifest` from deploy/broker_users.py, which explains the permissions; do not edit by hand.
# Each User reads its name and password from the Secret letters-broker-<user> (template:
# overlays/production/letters-broker-<user>.env.example), which also holds that service's AMQP_URL.
# Then one Policy per consuming queue: its delivery limit and parking lot (shared/topology.py),
# a policy so that the limit can change on a live broker without deleting the queue.
"""


def manifest() -> str:
    import yaml

    return MANIFEST_HEADER + yaml.safe_dump_all([*topology_operator_objects(), *policy_objects()],
                                                sort_keys=False, width=200)


def passwords_from_env() -> dict[str, str]:
    names = {user: f"RABBITMQ_{user.upper()}_PASSWORD" for user in (*SERVICES, OPERATOR)}
    missing = [name for name in names.values() if not os.environ.get(name)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)}")
    return {user: os.environ[name] for user, name in names.items()}


def main(argv: list[str]) -> int:
    namespace = os.environ.get("NAMESPACE", "")
    what = argv[0] if argv else "definitions"
    if what == "definitions":
        print(json.dumps(definitions(passwords_from_env(), namespace), indent=2))
    elif what == "manifest":
        print(manifest(), end="")
    elif what == "commands":
        for command in [*rabbitmqctl_commands(passwords_from_env(), namespace), *policy_commands(namespace)]:
            print("rabbitmqctl " + " ".join(f"'{part}'" for part in command))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
