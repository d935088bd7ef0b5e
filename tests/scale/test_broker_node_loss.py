"""A RabbitMQ node of a three-node cluster is lost mid-campaign: every letter still arrives, once.

The cluster version of tests/faults/test_outages.py's broker restart. Three extra nodes form a
cluster on loopback (see tests/scale/cluster.py); intake, sorting and delivery run as processes
with AMQP_URL listing all three nodes, each service starting at a different node. In the middle
of a 500-letter run the node that leads most of the pipeline's quorum queues is stopped. Nothing
is restarted: the services move to another node on their own, the queues elect new leaders, and
the tally must show nothing lost, doubled or invented. Then the node comes back and rejoins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from pymongo import AsyncMongoClient

from shared.topology import CONSUMER_QUEUES
from tests.faults.pipeline import Pipeline
from tests.scale.cluster import Cluster, unavailable_reason

pytestmark = [pytest.mark.slow, pytest.mark.faults]

LETTERS = 500
STOP_AT_DELIVERED = 150
# Intake accepts far faster than sorting renders scans: submitted in one go, all 500 would be in before
# the 150th is delivered. So 300 go first and the other 200 are submitted from the moment the node stops.
FIRST_WAVE = 300
AFTER_REJOIN = 20
# Which node each service connects to first: intake → node 1, sorting → node 2, delivery → node 3.
FIRST_NODE = {"intake": 0, "sorting": 1, "delivery": 2}


def still_running(names: list[str]) -> list[str]:
    """Processes of our nodes still alive (by the RABBITMQ_NODENAME they were started with), and any of
    our node names epmd still has registered. Both must be empty at the end."""
    found = []
    for process in psutil.process_iter(["pid", "name"]):
        with contextlib.suppress(psutil.Error):
            if process.environ().get("RABBITMQ_NODENAME") in names:
                found.append(f"pid {process.info['pid']} ({process.info['name']})")
    epmd = shutil.which("epmd")
    if epmd:
        listed = subprocess.run([epmd, "-names"], capture_output=True, text=True, timeout=10, check=False)
        short = [f"name {name.split('@')[0]} at" for name in names]
        found += [f"epmd: {line}" for line in listed.stdout.splitlines() if any(s in line for s in short)]
    return found


def service_connections(cluster: Cluster, via, pipeline: Pipeline) -> dict[str, dict]:
    """service → its broker connection (node, connected_at), matched by the client's port."""
    node_ports = {node.port for node in cluster.nodes}
    owner = {}
    for name, managed in pipeline.services.items():
        for conn in psutil.Process(managed.process.pid).net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port in node_ports and conn.status == psutil.CONN_ESTABLISHED:
                owner[conn.laddr.port] = name
    found: dict[str, dict] = {}
    for conn in cluster.connections(via):
        if conn["peer_port"] in owner:
            found[owner[conn["peer_port"]]] = conn
    return found


@pytest.fixture
def cluster():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"cannot run extra RabbitMQ nodes: {reason}")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="letters-cluster-")))
    names = [node.name for node in cluster.nodes]
    started = time.monotonic()
    try:
        cluster.form()
        print(f"\ncluster formed in {time.monotonic() - started:.1f}s: "
              + ", ".join(f"{n.name} amqp={n.port} dist={n.dist_port}" for n in cluster.nodes))
        yield cluster
    finally:
        leftovers = cluster.close()
        alive = still_running(names)
        assert not leftovers and not alive, f"cluster nodes still running after the test: {leftovers} {alive}"
        print("cluster stopped, directory removed")


class DeliveryClock:
    """Samples the number of letters in delivery's outgoing queue, to see when deliveries pause and resume."""

    def __init__(self, mongodb_url: str, namespace: str) -> None:
        self.client = AsyncMongoClient(mongodb_url)
        self.outgoing = self.client[f"{namespace}-delivery"]["outgoing"]
        self.samples: list[tuple[float, int]] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                self.samples.append((time.monotonic(), await self.outgoing.count_documents({})))
            await asyncio.sleep(0.1)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    @property
    def count(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    async def reach(self, count: int, timeout: float) -> None:
        stop_at = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > stop_at:
                raise AssertionError(f"{self.count} letters delivered in {timeout:.0f}s, expected {count}")
            await asyncio.sleep(0.1)

    def first_delivery_after(self, moment: float) -> float | None:
        before = max((c for t, c in self.samples if t <= moment), default=0)
        return next((t for t, c in self.samples if t > moment and c > before), None)

    def longest_pause(self, since: float) -> float:
        changes = [t for (t, c), (_, previous) in zip(self.samples[1:], self.samples, strict=False)
                   if c != previous and t >= since]
        moments = [since, *changes]
        return max((b - a for a, b in itertools.pairwise(moments)), default=0.0)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.client.close()


@pytest.mark.timeout(420)
async def test_losing_a_rabbitmq_node_mid_run_loses_and_doubles_nothing(infra, cluster: Cluster, tmp_path):
    first = cluster.nodes[0]
    members = sorted(node.name for node in cluster.nodes)
    urls = [node.url for node in cluster.nodes]
    env = {service: {"AMQP_URL": ",".join(urls[k:] + urls[:k])} for service, k in FIRST_NODE.items()}
    # The Pipeline's own broker calls (cleanup, parking counts) go to the cluster, not to the machine's node.
    cluster_infra = dataclasses.replace(infra, amqp_url=first.url,
                                        sources={**infra.sources, "rabbitmq": "test cluster"})
    pipeline = Pipeline(cluster_infra, "nodeloss", tmp_path, env=env)
    print(f"service logs: {tmp_path}")
    clock = DeliveryClock(infra.mongodb_url, pipeline.namespace)
    try:
        pipeline.start()
        pids = {name: p.process.pid for name, p in pipeline.services.items()}
        prefix = f"{pipeline.namespace}."

        # Every queue of the pipeline is a quorum queue with a member on each of the three nodes.
        queues = cluster.queues(first, prefix)
        expected = {f"{prefix}{q}{s}" for q in CONSUMER_QUEUES for s in ("", ".parking")}
        assert set(queues) == expected, sorted(queues)
        for name, queue in queues.items():
            assert queue["type"] == "quorum", (name, queue)
            assert sorted(queue["members"]) == members, (name, queue)
        consumer_queues = {f"{prefix}{q}" for q in CONSUMER_QUEUES}
        leaders = Counter(queues[q]["leader"] for q in consumer_queues)
        before = service_connections(cluster, first, pipeline)
        assert set(before) == set(FIRST_NODE), f"services with a broker connection: {before}"
        connected = Counter(c["node"] for c in before.values())
        print(f"{len(queues)} quorum queues, 3 members each; leaders of the consumed ones: {dict(leaders)}; "
              f"services connected to: { {s: c['node'] for s, c in sorted(before.items())} }")

        # The node to lose: the one leading most of the queues the services consume (ties: more services).
        victim = cluster.node_named(max(leaders, key=lambda n: (leaders[n], connected[n])))
        survivor = next(node for node in cluster.nodes if node is not victim)
        led = sorted(q.removeprefix(prefix) for q in consumer_queues if queues[q]["leader"] == victim.name)
        on_victim = sorted(s for s, c in before.items() if c["node"] == victim.name)
        assert led
        print(f"will stop {victim.name}: leader of {led}; services connected there: {on_victim}")

        run_began = time.monotonic()
        clock.start()
        first_wave = asyncio.create_task(pipeline.submit(FIRST_WAVE, concurrency=16, deadline_s=240))
        await clock.reach(STOP_AT_DELIVERED, timeout=150)

        stop_began, stop_began_wall = time.monotonic(), time.time()
        delivered_at_stop = clock.count
        second_wave = asyncio.create_task(
            pipeline.submit(LETTERS - FIRST_WAVE, concurrency=16, deadline_s=240))
        await asyncio.to_thread(cluster.stop_node, victim)
        node_down = time.monotonic()
        assert not victim.running
        print(f"stopped {victim.name} with {delivered_at_stop} letters delivered, "
              f"{stop_began - run_began:.1f}s into the run; `rabbitmqctl stop` took "
              f"{node_down - stop_began:.1f}s")

        (accepted, seen), (accepted_later, seen_later) = await asyncio.gather(first_wave, second_wave)
        accepted, seen = accepted + accepted_later, seen + seen_later
        submitted_done = time.monotonic()
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=180)
        all_delivered = time.monotonic()

        # No service was restarted, and none died.
        assert {name: p.process.pid for name, p in pipeline.services.items()} == pids
        assert all(p.running for p in pipeline.services.values()), "a service died while the node was lost"

        # Who moved where, and how long deliveries stood still.
        after = await asyncio.to_thread(service_connections, cluster, survivor, pipeline)
        assert set(after) == set(FIRST_NODE), f"services with a broker connection after the loss: {after}"
        assert all(c["node"] != victim.name for c in after.values()), after
        moved = {s: c for s, c in after.items() if c["connected_at"] != before[s]["connected_at"]}
        assert set(moved) == set(on_victim), f"reconnected: {sorted(moved)}; on the lost node: {on_victim}"
        reconnected = {s: c["connected_at"] / 1000 - stop_began_wall for s, c in moved.items()}
        resumed = clock.first_delivery_after(stop_began + max(reconnected.values(), default=0))
        assert resumed is not None, "no letter was delivered after the services reconnected"
        print("failover: " + "".join(f"{s} reconnected to {after[s]['node']} {t:.1f}s after the stop began; "
                                     for s, t in sorted(reconnected.items()))
              + f"deliveries resumed {resumed - stop_began:.1f}s after the stop began; longest pause in "
              f"deliveries from the stop on {clock.longest_pause(stop_began):.1f}s; the last of the "
              f"{LETTERS - FIRST_WAVE} letters submitted from the stop on was accepted "
              f"{submitted_done - stop_began:.1f}s and all were delivered {all_delivered - stop_began:.1f}s "
              "after the stop began")

        tally = await pipeline.tally(accepted)
        print(tally.line("cluster node loss"))
        assert 500 not in seen, f"status codes seen: {Counter(seen)}"
        assert tally.accepted == LETTERS
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)

        # Every consumer is back on the surviving nodes, not only the ones the letters needed.
        consuming = await asyncio.to_thread(cluster.consumers, survivor)
        missing = [q for q in sorted(consumer_queues) if f"{q}\t" not in consuming]
        assert not missing, f"queues without a consumer after failover: {missing}\n{consuming}"

        # The node comes back, rejoins, and every queue has its three members online again.
        back_began = time.monotonic()
        cluster.start_node(victim)
        await asyncio.to_thread(cluster.await_booted, victim)
        await asyncio.to_thread(cluster.await_online, len(cluster.nodes), survivor)
        assert cluster.running_nodes(survivor) == members
        give_up = time.monotonic() + 60
        while True:
            queues = await asyncio.to_thread(cluster.queues, victim, prefix)
            short = {q: v["online"] for q, v in queues.items() if sorted(v["online"]) != members}
            if not short:
                break
            assert time.monotonic() < give_up, f"quorum queues without all members online: {short}"
            await asyncio.sleep(1)
        assert all(sorted(q["members"]) == members for q in queues.values())
        print(f"{victim.name} rejoined {time.monotonic() - back_began:.1f}s after it was started again; all "
              f"{len(queues)} quorum queues have their 3 members online; "
              f"leaders now: {dict(Counter(q['leader'] for q in queues.values()))}")

        # And the pipeline keeps going with the node back, still without a restart.
        more, seen_after = await pipeline.submit(AFTER_REJOIN, concurrency=8)
        await pipeline.wait_delivered({a["id"] for a in more}, timeout=60)
        assert {name: p.process.pid for name, p in pipeline.services.items()} == pids
        assert all(p.running for p in pipeline.services.values())
        tally = await pipeline.tally(accepted + more)
        print(tally.line("after the node rejoined"))
        assert 500 not in seen_after
        assert tally.accepted == LETTERS + AFTER_REJOIN
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    except BaseException:
        # Evidence for a failure: who consumes what, and who is connected where.
        with contextlib.suppress(Exception):
            alive = next(node for node in cluster.nodes if node.running)
            print(f"consumers at failure (via {alive.name}):\n{cluster.consumers(alive)}")
            print(f"connections at failure: {cluster.connections(alive)}")
        raise
    finally:
        await clock.close()
        try:
            await pipeline.stop()
        except Exception as error:  # noqa: BLE001 - the pipeline's queues go with the cluster anyway
            print(f"pipeline cleanup on the cluster failed: {error!r}")
