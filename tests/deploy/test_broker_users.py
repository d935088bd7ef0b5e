"""Each service's RabbitMQ user: derived from the code, and the Kubernetes resources kept current."""

from __future__ import annotations

import json
import re
from pathlib import Path

from deploy.broker_users import OPERATOR, SERVICES, definitions, manifest, permissions
from shared.topology import CONSUMER_QUEUES, published_keys
from tests.deploy.test_manifests import INFRASTRUCTURE


def test_the_committed_rabbitmq_users_are_the_generated_ones():
    committed = (INFRASTRUCTURE / "rabbitmq-users.yaml").read_text()
    assert committed == manifest(), "regenerate with `python -m deploy.broker_users manifest`"


def test_only_intake_may_publish_a_staff_token_change():
    for service in SERVICES:
        allowed = re.fullmatch(permissions(service).topic_write, "staff.token_changed") is not None
        assert allowed == (service == "intake"), service


def test_a_service_publishes_its_own_events_and_no_other_services():
    for service in SERVICES:
        keys = published_keys(service)
        topic = permissions(service).topic_write
        others = {key for other in SERVICES if other != service for key in published_keys(other)}
        assert all(re.fullmatch(topic, key) for key in keys), service
        assert not any(re.fullmatch(topic, key) for key in others), service


def test_every_user_reaches_the_whole_topology_in_a_namespace_and_nothing_beyond_it():
    for user in (*SERVICES, OPERATOR):
        p = permissions(user, "t1")
        for queue in CONSUMER_QUEUES:
            assert re.fullmatch(p.read, f"t1.{queue}") and re.fullmatch(p.read, f"t1.{queue}.parking")
        for outside in ("amq.default", "", "t2.letters", "letters", "t1.other.queue", "t1.letters.x"):
            assert not re.fullmatch(p.write, outside), (user, outside)
        assert p.letters_exchange == "t1.letters"


def test_the_definitions_hold_no_password_in_plain_text():
    document = definitions({"intake": "s3cret-intake", "sorting": "s3cret-sorting"})
    assert "s3cret" not in repr(document)
    assert [user["name"] for user in document["users"]] == ["intake", "sorting"]


def test_each_user_may_publish_exactly_what_its_service_documents_it_publishes():
    """The AsyncAPI documents are generated from each composition root's publishers (docs/, kept
    current by test_docs_are_current): a new event there without permission here would make its
    service's publishes fail in production, where each service has its own broker user."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
    for service in SERVICES:
        document = json.loads((docs / f"{service}.json").read_text())
        published = {channel["address"].rsplit(":", 1)[-1] for name, channel in document["channels"].items()
                     if any(op["action"] == "send" and op["channel"]["$ref"].endswith(f"/{name}")
                            for op in document["operations"].values())}
        assert set(published_keys(service)) == published, service
