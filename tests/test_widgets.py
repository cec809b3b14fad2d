"""The widgets draw only from the snapshot: tested against hand-written snapshots, then the simulator."""
from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings, strategies as st

from eventsim.errors import KafkaError, KafkaException
from eventsim.widgets import (ClusterView, GroupView, PartitionView, Predict, StepControl, WindowView,
                              diff_groups, diff_snapshots, view_source)
from eventsim.widgets.html import num
from eventsim.widgets.partition_view import partition_html


# -- a fake backend: hand-written snapshots in the architecture.md schema ------------------------------

def _partition(p, leader, replicas, leo, hw=None, start=0):
    return {"partition": p, "leader": leader, "leader_epoch": 0, "replicas": list(replicas),
            "isr": list(replicas), "offline_replicas": [], "log_start_offset": start,
            "high_watermark": leo if hw is None else hw, "log_end_offset": leo,
            "last_stable_offset": leo if hw is None else hw,
            "replica_log_end_offsets": [leo] * len(replicas), "records": None}


def base_snapshot():
    return {
        "backend": "sim", "cluster_id": "sim-0", "time_ms": 0, "controller": 101,
        "controllers": [{"id": i, "alive": True, "active": i == 101} for i in (101, 102, 103)],
        "brokers": [{"id": i, "host": "sim", "port": 9092, "alive": True, "paused": False} for i in (1, 2, 3)],
        "topics": [{  # sorted by name, as every backend's snapshot is
            "name": "__consumer_offsets", "internal": True, "config": {},
            "partitions": [_partition(0, 2, [2], 0)],
        }, {
            "name": "orders", "internal": False,
            "config": {"cleanup.policy": "delete", "min.insync.replicas": "2", "retention.ms": "604800000"},
            "partitions": [_partition(0, 1, [1, 2, 3], 10), _partition(1, 2, [2, 3, 1], 4, hw=3),
                           _partition(2, 3, [3, 1, 2], 0)],
        }],
        "groups": [{
            "group_id": "billing", "state": "Stable", "protocol": "range", "generation": 2,
            "members": [{"member_id": "rdkafka-a", "client_id": "rdkafka", "assignment": [["orders", 0]]},
                        {"member_id": "rdkafka-b", "client_id": "rdkafka",
                         "assignment": [["orders", 1], ["orders", 2]]}],
            "offsets": [{"topic": "orders", "partition": 0, "committed": 5, "high_watermark": 10, "lag": 5},
                        {"topic": "orders", "partition": 1, "committed": 3, "high_watermark": 3, "lag": 0}],
            "total_lag": 5,
        }],
    }


class FakeClock:
    def __init__(self):
        self.now_ms = 0

    @property
    def elapsed_ms(self):
        return self.now_ms


class FakeCluster:
    """Behaves like the simulator: a crash is only noticed ``session_ms`` later; a clean stop at once."""

    session_ms = 9000

    def __init__(self, snap=None):
        self.snap = snap or base_snapshot()
        self.clock = FakeClock()
        self.crashed = {}  # broker id -> time the controller notices
        self.snapshot_calls = []

    # the snapshot, with the last max_records records generated from the offsets
    def snapshot(self, records=False, max_records=None):
        self.snapshot_calls.append((records, max_records))
        snap = copy.deepcopy(self.snap)
        snap["time_ms"] = self.clock.now_ms
        if records:
            for t in snap["topics"]:
                for p in t["partitions"]:
                    lo = max(p["log_start_offset"], p["log_end_offset"] - (max_records or 10 ** 9))
                    p["records"] = [{"offset": o, "key": f"k{o}", "value": f"v{o}", "timestamp": o,
                                     "headers": None} for o in range(lo, p["log_end_offset"])]
        return snap

    def produce(self, topic, partition, n):
        p = self._parts(topic)[partition]
        p["log_end_offset"] += n
        p["high_watermark"] = p["last_stable_offset"] = p["log_end_offset"]

    def _parts(self, topic):
        return next(t for t in self.snap["topics"] if t["name"] == topic)["partitions"]

    def _broker(self, broker_id):
        return next(b for b in self.snap["brokers"] if b["id"] == broker_id)

    def _elect_away(self, broker_id):
        alive = {b["id"] for b in self.snap["brokers"] if b["alive"]}
        for t in self.snap["topics"]:
            for p in t["partitions"]:
                if broker_id in p["isr"] and broker_id in p["replicas"]:
                    p["isr"] = [r for r in p["isr"] if r != broker_id]
                    if broker_id not in p["offline_replicas"]:
                        p["offline_replicas"].append(broker_id)
                if p["leader"] == broker_id:
                    rest = [r for r in p["isr"] if r in alive]
                    p["leader"] = rest[0] if rest else -1
                    p["leader_epoch"] += 1

    def stop_broker(self, broker_id, clean=False, wait=True):
        self._broker(broker_id)["alive"] = False
        if clean:
            self._elect_away(broker_id)
        else:
            self.crashed[broker_id] = self.clock.now_ms + self.session_ms
            if wait:  # like Cluster.stop_broker: run the clock until the controller noticed
                self.advance(self.session_ms)

    def start_broker(self, broker_id):
        self._broker(broker_id)["alive"] = True
        self.crashed.pop(broker_id, None)
        for t in self.snap["topics"]:
            for p in t["partitions"]:
                if broker_id in p["offline_replicas"]:
                    p["offline_replicas"].remove(broker_id)
                    p["isr"].append(broker_id)
                if p["leader"] == -1 and broker_id in p["replicas"]:
                    p["leader"], p["leader_epoch"] = broker_id, p["leader_epoch"] + 1

    def advance(self, ms):
        self.clock.now_ms += ms
        for broker_id, at in list(self.crashed.items()):
            if at <= self.clock.now_ms:
                del self.crashed[broker_id]
                self._elect_away(broker_id)


class FakeRealHandle:
    """Like a real-Kafka handle from eventsim.connect(): snapshot + stop/start, no clock, no records."""

    backend = "local"

    def __init__(self):
        self._sim = FakeCluster()
        self.cluster = None

    def snapshot(self):
        """What eventsim.backends.realsnapshot reports: no clock, no LEOs, no generation."""
        snap = self._sim.snapshot()
        snap.update(backend="local", time_ms=None, controller=None, controllers=[])
        for t in snap["topics"]:
            for p in t["partitions"]:
                p["log_end_offset"] = None
                p["replica_log_end_offsets"] = [None] * len(p["replicas"])
                if p["high_watermark"] == p["log_start_offset"]:
                    p["leader_epoch"] = None  # the epoch of the newest batch: none in an empty partition
        for g in snap["groups"]:
            g.update(generation=None, protocol=None)
        return snap

    def stop_broker(self, broker_id, clean=False):
        self._sim.stop_broker(broker_id, clean=True)  # by the time we look, the controller has reacted

    def start_broker(self, broker_id):
        self._sim.start_broker(broker_id)


class SnapshotOnly:
    """Like the `external` backend: it can describe the cluster but not stop brokers."""

    backend = "external"

    def snapshot(self):
        return base_snapshot()


def code_of(excinfo):
    return excinfo.value.args[0].code()


def offset_cells(html):
    return len(re.findall(r'class="es-o', html))


# -- the adapter ------------------------------------------------------------------------------------

def test_source_accepts_cluster_and_handle_and_rejects_other_things():
    fake = FakeCluster()
    assert view_source(fake).is_simulator

    class SimHandle:
        def __init__(self, cluster):
            self.cluster = cluster

        def snapshot(self):
            return self.cluster.snapshot()

    handle_source = view_source(SimHandle(fake))
    assert handle_source.is_simulator
    handle_source.advance(250)
    assert fake.clock.now_ms == 250
    # records come from the cluster when the handle's snapshot() takes no records argument
    snap = handle_source.snapshot(records=True, max_records=3)
    assert len(snap["topics"][1]["partitions"][0]["records"]) == 3
    with pytest.raises(TypeError, match="snapshot"):
        view_source(object())


def test_source_advance_on_real_backend_is_a_clear_error():
    source = view_source(FakeRealHandle())
    assert not source.is_simulator
    with pytest.raises(KafkaException, match="needs the simulator") as e:
        source.advance(100)
    assert code_of(e) == KafkaError._NOT_IMPLEMENTED
    with pytest.raises(KafkaException, match="cannot stop broker") as e:
        view_source(SnapshotOnly()).stop_broker(1)
    assert code_of(e) == KafkaError._NOT_IMPLEMENTED


@pytest.mark.parametrize("bad", [7, 0, "1", True, None])
def test_source_rejects_unknown_broker_ids(bad):
    with pytest.raises(KafkaException, match="unknown broker") as e:
        view_source(FakeCluster()).stop_broker(bad)
    assert code_of(e) == KafkaError._UNKNOWN_BROKER


@pytest.mark.parametrize("bad", [-1, 1.5, "10"])
def test_source_rejects_bad_advance(bad):
    with pytest.raises(KafkaException, match="advance") as e:
        view_source(FakeCluster()).advance(bad)
    assert code_of(e) == KafkaError._INVALID_ARG


# -- PartitionView ------------------------------------------------------------------------------------

def test_partition_view_draws_offsets_markers_and_records():
    view = PartitionView(FakeCluster(), "orders")
    html = view.html.value
    assert html == view._repr_html_()
    assert "orders-0" in html and "orders-1" in html and "orders-2" in html
    for label in ("log-start", "HW", "LEO", "billing committed"):
        assert label in html
    assert 'title="offset 7\nkey=k7\nvalue=v7\ntimestamp=7"' in html
    # orders-1 has HW 3 < LEO 4: offset 3 is drawn dashed and says why
    row1 = html.split("orders-1")[1].split("orders-2")[0]
    assert re.search(r'class="es-o es-u" title="offset 3\n[^"]*not yet committed">3<', row1)


def test_partition_view_windows_a_big_log():
    fake = FakeCluster()
    fake.produce("orders", 0, 10_000 - 10)
    view = PartitionView(fake, "orders", partitions=[0])
    html = view.html.value
    assert fake.snapshot_calls[-1] == (True, 40)
    assert offset_cells(html) == 40 + 1  # the newest 40 records and the "next" cell
    assert "\u2026 9\u202f960 earlier offsets" in html
    # the committed offset (5) is before the window: it is listed in the label, not lost
    assert "billing committed 5" in html
    assert ">9\u202f999<" in html and ">9\u202f959<" not in html


def test_partition_view_refresh_redraws_new_records():
    fake = FakeCluster()
    view = PartitionView(fake, "orders", partitions=[2])
    assert offset_cells(view.html.value) == 1  # empty log: only "next"
    fake.produce("orders", 2, 3)
    view.refresh_button.click()
    assert offset_cells(view.html.value) == 4
    assert 'title="offset 2\nkey=k2' in view.html.value


def test_partition_view_without_records_draws_offsets_only():
    view = PartitionView(FakeRealHandle(), "orders", partitions=[0], max_cells=4)
    html = view.html.value
    assert offset_cells(html) == 5 and "key=" not in html
    assert "\u2026 6 earlier offsets" in html


def test_views_draw_a_real_kafka_snapshot_with_unknown_fields():
    from eventsim.snapshot import validate_snapshot
    handle = FakeRealHandle()
    validate_snapshot(handle.snapshot())
    pv = PartitionView(handle, "orders")
    html = pv.html.value
    assert "LEO \u2014" in html and "t=" not in html
    # orders-1: HW 3, LEO unknown: the log is drawn up to the HW, nothing above it is visible
    row1 = html.split("orders-1")[1].split("orders-2")[0]
    assert offset_cells(row1) == 4 and "es-u" not in row1
    cv = ClusterView(handle)
    assert "epoch \u2014" in cv.html.value and "controller" not in cv.html.value.split("</div>")[0]
    cv.stop_broker(1)
    assert "orders-0: leader 1 \u2192 2, epoch 1" in cv.events  # no clock: no time stamp
    gv = GroupView(handle, "billing")
    assert "generation" not in gv.html.value and gv.history == ["group appears: Stable"]
    gv.refresh()
    assert [s[0] for s in gv.samples] == [0, 1]  # numbered by refresh
    assert gv.plot_lag().axes[0].get_xlabel() == "refresh number"


def test_partition_view_bad_input():
    with pytest.raises(KafkaException, match="unknown topic 'nope'") as e:
        PartitionView(FakeCluster(), "nope")
    assert code_of(e) == KafkaError.UNKNOWN_TOPIC_OR_PART
    with pytest.raises(KafkaException, match="no partition 9"):
        PartitionView(FakeCluster(), "orders", partitions=[9])
    with pytest.raises(ValueError, match="max_cells"):
        PartitionView(FakeCluster(), "orders", max_cells=0)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 500), n=st.integers(0, 3000), under=st.integers(0, 50),
       committed=st.integers(0, 4000), max_cells=st.integers(1, 60), records=st.booleans())
def test_partition_window_never_exceeds_max_cells_and_keeps_every_marker(start, n, under, committed,
                                                                         max_cells, records):
    leo = start + n
    hw = max(start, leo - under)
    part = _partition(0, 1, [1], leo, hw=hw, start=start)
    if records:
        part["records"] = [{"offset": o, "key": None, "value": "x", "timestamp": 0, "headers": None}
                           for o in range(max(start, leo - max_cells), leo)]
    html = partition_html("t", part, [("g committed", committed)], max_cells)
    assert offset_cells(html) <= max_cells + 1
    for label in ("log-start", "HW", "LEO", "g committed"):
        assert html.count(f"{label}<") + html.count(f"{label} ") >= 1, label


# -- ClusterView --------------------------------------------------------------------------------------

def leaders_in(html):
    """{partition name: broker id} read back from the rendered columns."""
    out = {}
    for col in re.findall(r'data-broker="(\d+)">(.*?)</div></div>', html):
        for tp in re.findall(r'data-tp="([^"]+)" data-role="lead"', col[1]):
            out[tp] = int(col[0])
    return out


def button(view, broker_id):
    return next(b for b in view.buttons.children if b.broker_id == broker_id)


def test_cluster_view_draws_brokers_roles_and_hides_internal_topics():
    view = ClusterView(FakeCluster())
    html = view.html.value
    assert leaders_in(html) == {"orders-0": 1, "orders-1": 2, "orders-2": 3}
    assert "leader \u00b7 epoch 0" in html and "follower \u00b7 ISR" in html
    assert "__consumer_offsets" not in html
    assert [b.description for b in view.buttons.children] == ["Stop broker 1", "Stop broker 2", "Stop broker 3"]
    assert "broker 1 <span class=\"es-d\">alive</span>" in html
    assert 'data-controller="101">controller 101 <span class="es-d">active' in html
    assert "quorum: 3 of 3 running" in html


def test_cluster_view_draws_the_quorum_losing_its_majority():
    from eventsim.widgets.cluster_view import cluster_html, diff_snapshots
    snap = FakeCluster().snapshot()
    lost = dict(snap, controller=None, controllers=[{"id": 101, "alive": False, "active": False},
                                                     {"id": 102, "alive": False, "active": False},
                                                     {"id": 103, "alive": True, "active": False}])
    html = cluster_html(lost, ["orders"])
    assert "quorum: 1 of 3 running \u2014 no majority, metadata frozen" in html
    assert 'data-controller="101">controller 101 <span class="es-d">stopped' in html
    lines, _ = diff_snapshots(snap, lost)
    assert lines[:3] == ["controller 101 stopped", "controller 102 stopped",
                         "active controller 101 \u2192 none (no majority of controllers: metadata is frozen)"]


def test_cluster_view_crash_button_runs_clock_until_controller_elects_new_leader():
    fake = FakeCluster()
    view = ClusterView(fake, topic="orders")
    button(view, 1).click()
    html = view.html.value
    assert fake.clock.now_ms >= FakeCluster.session_ms  # the crash was noticed only after the session timeout
    assert leaders_in(html)["orders-0"] == 2
    assert "new leader" in html and 'data-tp="orders-0" data-role="lead"' in html
    assert "orders-0: leader 1 \u2192 2, epoch 1" in "\n".join(view.events)
    assert "\u00bb stop broker 1 (crash)" in view.events[0] and view.events[0].startswith("t=0 ms")
    assert any(line.startswith("t=9\u202f000 ms  orders-0: leader 1") for line in view.events)
    assert button(view, 1).description == "Start broker 1"
    assert 'data-broker="1"' in html and "offline" in html


def test_cluster_view_clean_shutdown_moves_leaders_without_waiting():
    fake = FakeCluster()
    view = ClusterView(fake)
    view.shutdown.value = True
    button(view, 2).click()
    assert fake.clock.now_ms == 0
    assert leaders_in(view.html.value)["orders-1"] == 3
    assert "(controlled shutdown)" in view.events[0]
    assert "t=0 ms  orders-1: leader 2 \u2192 3, epoch 1" in view.events


def test_cluster_view_start_brings_broker_back_into_isr():
    fake = FakeCluster()
    view = ClusterView(fake)
    view.stop_broker(3, clean=True)
    assert "orders-2: ISR [1, 2, 3] \u2192 [1, 2] (3 left the ISR)" in "\n".join(view.events)
    button(view, 3).click()
    assert button(view, 3).description == "Stop broker 3"
    assert "orders-2: ISR [1, 2] \u2192 [1, 2, 3] (3 caught up)" in "\n".join(view.events)
    assert "broker 3 is back online" in "\n".join(view.events)
    assert "new leader" not in view.html.value  # the highlight is for the latest stop only


def test_cluster_view_on_real_backend_does_not_touch_a_clock():
    view = ClusterView(FakeRealHandle(), topic="orders")
    view.stop_broker(1)
    assert leaders_in(view.html.value)["orders-0"] == 2
    assert "local" in view.html.value


def test_cluster_view_button_errors_go_to_the_event_log():
    view = ClusterView(SnapshotOnly())
    button(view, 1).click()
    assert "could not change broker 1" in view.events[-1] and "cannot stop broker" in view.events[-1]
    assert "could not change broker 1" in view.html.value


def test_cluster_view_renders_partition_without_leader():
    fake = FakeCluster()
    view = ClusterView(fake, topic="orders")
    view.stop_broker(2, clean=True)
    view.stop_broker(3, clean=True)
    view.stop_broker(1, clean=True)
    html = view.html.value
    assert "no leader" in html or "offline" in html
    assert "orders-0: leader 1 \u2192 none (partition offline)" in "\n".join(view.events)


def test_cluster_view_html_is_deterministic():
    a, b = ClusterView(FakeCluster()), ClusterView(FakeCluster())
    a.stop_broker(1)
    b.stop_broker(1)
    assert a._repr_html_() == b._repr_html_()
    assert repr(a) == "ClusterView(topic=None)"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-1, 1, 2, 3]), st.booleans()), min_size=3, max_size=3))
def test_diff_reports_every_leader_change_and_nothing_else(changes):
    before = base_snapshot()
    after = copy.deepcopy(before)
    moved = set()
    for p, (leader, bump) in zip(after["topics"][1]["partitions"], changes):
        if leader != p["leader"]:
            p["leader"], p["leader_epoch"] = leader, p["leader_epoch"] + 1
            moved.add(p["partition"])
        elif bump:
            p["leader_epoch"] += 1
    lines, new = diff_snapshots(before, after, ["orders"])
    assert {k[1] for k in new} == {p for p in moved if after["topics"][1]["partitions"][p]["leader"] >= 0}
    assert len(lines) == sum(1 for (leader, bump), p in zip(changes, before["topics"][1]["partitions"])
                             if leader != p["leader"] or bump)
    assert diff_snapshots(before, copy.deepcopy(before)) == ([], set())


# -- GroupView ----------------------------------------------------------------------------------------

def test_group_view_members_lag_and_history():
    fake = FakeCluster()
    view = GroupView(fake, "billing")
    html = view.html.value
    assert "generation 2" in html and "total lag 5" in html and "rdkafka-a" in html
    assert view.lag() == 5 and view.lag("orders", 0) == 5 and view.lag("orders", 2) is None
    group = fake.snap["groups"][0]
    group["generation"] = 3
    group["members"] = group["members"][1:]
    group["members"][0]["assignment"] = [["orders", 0], ["orders", 1], ["orders", 2]]
    group["offsets"][0].update(committed=10, lag=0)
    group["total_lag"] = 0
    fake.advance(1000)
    view.refresh_button.click()
    hist = "\n".join(view.history)
    assert "generation 2 \u2192 3 (Stable)" in hist
    assert "member rdkafka-a left" in hist and "orders-0: rdkafka-a \u2192 rdkafka-b" in hist
    assert [s[:2] for s in view.samples] == [(0, 5), (1000, 0)]
    view.refresh()  # same virtual time: the sample is replaced, not duplicated
    assert len(view.samples) == 2


def test_group_view_plot_lag_returns_a_figure_with_one_line_per_partition():
    from matplotlib.figure import Figure
    fake = FakeCluster()
    view = GroupView(fake, "billing")
    fake.advance(500)
    view.refresh()
    fig = view.plot_lag()
    assert isinstance(fig, Figure)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["total", "orders-0", "orders-1"]
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [0, 500]


def test_group_view_lists_assigned_partitions_without_commits_and_plots_them_as_gaps():
    import math
    fake = FakeCluster()
    view = GroupView(fake, "billing")
    row = view.html.value.split("<td>orders-2</td>")[1].split("</tr>")[0]
    assert "rdkafka-b" in row and "nothing committed yet" in row
    fake.snap["groups"][0]["offsets"].append(
        {"topic": "orders", "partition": 2, "committed": 0, "high_watermark": 0, "lag": 0})
    fake.advance(10)
    view.refresh()
    lines = {line.get_label(): list(line.get_ydata()) for line in view.plot_lag().axes[0].get_lines()}
    assert math.isnan(lines["orders-2"][0]) and lines["orders-2"][1] == 0


def test_group_view_of_unknown_group_waits_for_it():
    fake = FakeCluster()
    view = GroupView(fake, "audit")
    assert "no members and no committed offsets yet" in view.html.value
    assert view.lag() is None and view.samples == [] and view.history == []
    with pytest.raises(ValueError, match="group_id"):
        GroupView(fake, "")


def test_diff_groups_assignment_moves():
    a = base_snapshot()["groups"][0]
    b = copy.deepcopy(a)
    b["members"][0]["assignment"] = []
    assert diff_groups(a, b) == ["orders-0: rdkafka-a \u2192 unassigned"]
    assert diff_groups(None, None) == []


# -- WindowView ---------------------------------------------------------------------------------------

WINDOWS = [
    {"key": "alice", "start_ms": 0, "end_ms": 60_000, "count": 3, "state": "closed", "late_records": 2},
    {"key": "alice", "start_ms": 30_000, "end_ms": 90_000, "count": 1, "state": "open", "late_records": 0},
    {"key": "bob", "start_ms": 60_000, "end_ms": 120_000, "value": 9.5, "state": "open"},
]


def test_window_view_draws_keys_lanes_and_labels():
    view = WindowView(WINDOWS, title="clicks per minute", now_ms=95_000, watermark_ms=90_000)
    html = view.html.value
    assert html == view._repr_html_()
    assert "count 3 \u00b7 closed \u00b7 2 late" in html and "value 9.5 \u00b7 open" in html
    assert html.count('class="es-lane"') == 3  # alice's hopping windows overlap: two lanes
    assert "stream time 95\u202f000 ms" in html and "\u25bc watermark" in html
    assert html.index(">alice<") < html.index(">bob<")
    view.update([dict(WINDOWS[2], value=None, late_records=1)])
    assert "no value \u00b7 open \u00b7 1 late" in view.html.value
    view.update([])
    assert "no windows yet" in view.html.value


def test_window_view_draws_wall_clock_timestamps_as_times_of_day():
    from eventsim.clock import EPOCH_MS
    shifted = [dict(w, start_ms=w["start_ms"] + EPOCH_MS, end_ms=w["end_ms"] + EPOCH_MS) for w in WINDOWS]
    html = WindowView(shifted, now_ms=EPOCH_MS + 95_250, watermark_ms=EPOCH_MS + 90_000).html.value
    assert "stream time 00:01:35.250" in html and "watermark 00:01:30" in html
    assert ">00:00:30<" in html and "[00:00:00, 00:01:00)" in html        # axis labels and a window's title
    assert str(EPOCH_MS // 1000) not in html and "1\u202f767" not in html      # no raw ms since 1970


def test_partition_view_shows_a_wall_clock_timestamp_with_its_date(sim):
    from eventsim.producer import Producer
    p = Producer({"bootstrap.servers": sim.bootstrap_servers})
    p.produce("orders", value=b"v", partition=0, timestamp=1_767_225_615_052)
    p.flush()
    html = PartitionView(sim, "orders").html.value
    assert "timestamp=1767225615052 (2026-01-01 00:00:15.052 UTC)" in html


@pytest.mark.parametrize("bad, message", [
    ([{"key": "a", "start_ms": 0, "end_ms": 10, "state": "open"}], "'value' or 'count'"),
    ([{"key": "a", "start_ms": 10, "end_ms": 10, "count": 1, "state": "open"}], "must be after"),
    ([{"key": "a", "start_ms": 0, "end_ms": 10, "count": 1, "state": "done"}], "'open' or 'closed'"),
    ([{"start_ms": 0, "end_ms": 10, "count": 1, "state": "open"}], "no 'key'"),
    ([{"key": "a", "start_ms": 0, "end_ms": 10, "count": 1, "state": "open", "late_records": -1}],
     "late_records"),
    ("nope", "list of dicts"),
])
def test_window_view_rejects_bad_windows(bad, message):
    view = WindowView(WINDOWS)
    with pytest.raises(ValueError, match=message):
        view.update(bad)
    assert view.windows[0]["key"] == "alice"  # nothing changed


# -- Predict ------------------------------------------------------------------------------------------

def test_predict_hides_explanation_until_commit_then_reveals():
    p = Predict("Broker 1 crashes. Who leads orders-0?", ["broker 1", "broker 2", "nobody"], 1,
                "The controller elects the first live replica in the ISR.")
    assert "first live replica" not in p.feedback.value and not p.committed
    p.commit_button.click()  # nothing chosen yet
    assert "Pick an answer first" in p.feedback.value and not p.committed
    p.choice.value = "nobody"
    p.commit_button.click()
    assert p.committed and p.correct is False
    assert "Not quite" in p.feedback.value and "broker 2" in p.feedback.value
    assert "first live replica" in p.feedback.value
    assert p.choice.disabled and p.commit_button.disabled
    p.choice.value = "broker 2"
    p.commit()  # a second commit does not change the verdict
    assert p.correct is False


def test_predict_right_answer_and_static_html():
    p = Predict("acks=all waits for?", ["the leader", "the ISR"], "the ISR", "All in-sync replicas.")
    p.choice.value = "the ISR"
    p.commit()
    assert p.correct and "Right." in p.feedback.value
    assert "<details>" in p._repr_html_() and "the ISR" in p._repr_html_()


@pytest.mark.parametrize("options, answer", [(["a", "b"], "c"), (["a", "b"], 2), (["a"], "a"),
                                             (["a", "a"], "a")])
def test_predict_rejects_bad_answers(options, answer):
    with pytest.raises(ValueError):
        Predict("q", options, answer, "e")


# -- StepControl --------------------------------------------------------------------------------------

def test_step_control_advances_virtual_time_and_refreshes_views():
    fake = FakeCluster()
    cv = ClusterView(fake, settle_ms=0)
    gv = GroupView(fake, "billing")
    control = StepControl(fake, step_ms=100, views=[cv])
    control.attach(gv)
    fake.stop_broker(1, wait=False)
    control.step_button.click()
    assert fake.clock.now_ms == 100 and "t = 100 ms" in control.time_label.value
    # not noticed yet: metadata still names broker 1, whose replica is drawn offline
    assert "orders-0" not in leaders_in(cv.html.value)
    assert '<b>orders-0</b> offline (still named leader)' in cv.html.value
    control.step_size.value = 4450
    control.play.value = 2  # two ticks of the Play widget
    assert fake.clock.now_ms == 9000
    assert leaders_in(cv.html.value)["orders-0"] == 2
    assert [s[0] for s in gv.samples] == [0, 100, 4550, 9000]  # one sample per step
    assert "virtual time t = 9\u202f000 ms" in control._repr_html_()
    control.play.value = 0  # rewinding the Play widget does not move time
    assert fake.clock.now_ms == 9000


def test_step_control_needs_the_simulator():
    with pytest.raises(KafkaException, match="needs the simulator") as e:
        StepControl(FakeRealHandle())
    assert code_of(e) == KafkaError._NOT_IMPLEMENTED
    with pytest.raises(ValueError, match="step_ms"):
        StepControl(FakeCluster(), step_ms=0)
    with pytest.raises(TypeError, match="refresh"):
        StepControl(FakeCluster()).attach(object())
    with pytest.raises(ValueError, match="step"):
        StepControl(FakeCluster()).step(-1)


# -- the hand-written snapshots follow the schema every backend validates against -------------------------

def test_fake_snapshots_match_the_snapshot_schema():
    from eventsim.snapshot import validate_snapshot
    validate_snapshot(base_snapshot())
    validate_snapshot(FakeCluster().snapshot(records=True, max_records=5))


# -- against the simulator ----------------------------------------------------------------------------

@pytest.fixture
def sim():
    """A 3-broker simulated cluster with topic orders (3 partitions, RF 3) and 30 records."""
    from eventsim.cluster import Cluster
    cluster = Cluster(brokers=3, seed=7)
    cluster.create_topic("orders", num_partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
    produce(cluster, "orders", 30)
    return cluster


def produce(cluster, topic, n, batch=100):
    """Send ``n`` records round-robin over the partitions with acks=all (the broker-side Produce request)."""
    from eventsim.log import Record
    parts = cluster.partition_count(topic)
    results = []
    for start in range(0, n, batch):
        by_part = {}
        for i in range(start, min(n, start + batch)):
            by_part.setdefault(i % parts, []).append(Record(key=f"k{i}".encode(), value=f"order {i}".encode()))
        for p, records in sorted(by_part.items()):
            cluster.produce(topic, p, records, acks=-1, on_done=lambda err, base: results.append(err))
        cluster.advance(50)
    cluster.advance(500)
    assert len(results) == len(range(0, n, batch)) * min(parts, n) and not any(results)


def test_sim_crash_button_shows_new_leader_after_the_session_timeout(sim):
    view = ClusterView(sim, topic="orders")
    old = sim.leader_for("orders", 0)
    assert leaders_in(view.html.value)["orders-0"] == old
    stopped_at = sim.clock.elapsed_ms
    button(view, old).click()
    new = sim.leader_for("orders", 0)
    assert new not in (old, -1)
    html = view.html.value
    assert leaders_in(html)["orders-0"] == new and "new leader" in html
    detected = stopped_at + int(sim.config["broker.session.timeout.ms"])
    epoch = view.snapshot["topics"][0]["partitions"][0]["leader_epoch"]
    assert f"t={num(detected)} ms  orders-0: leader {old} \u2192 {new}, epoch {epoch}" in view.events
    assert f"t={num(stopped_at)} ms  broker {old} is offline" in view.events
    assert button(view, old).description == f"Start broker {old}"
    button(view, old).click()  # start again: it catches up and rejoins every ISR
    assert all(old in p["isr"] for p in view.snapshot["topics"][0]["partitions"])
    assert any("caught up" in line for line in view.events)


def test_sim_clean_shutdown_moves_leaders_at_once(sim):
    view = ClusterView(sim)
    old = sim.leader_for("orders", 1)
    before = sim.clock.now_ms
    view.stop_broker(old, clean=True)
    assert sim.clock.now_ms == before
    assert leaders_in(view.html.value)["orders-1"] == sim.leader_for("orders", 1) != old


def test_sim_connect_handle_works_like_the_cluster():
    import eventsim
    kafka = eventsim.connect("sim", brokers=3, seed=7)
    kafka.cluster.create_topic("orders", num_partitions=3, replication_factor=3)
    view = ClusterView(kafka, topic="orders")
    assert view.source.is_simulator
    old = kafka.cluster.leader_for("orders", 2)
    view.stop_broker(old)
    assert leaders_in(view.html.value)["orders-2"] == kafka.cluster.leader_for("orders", 2) != old


def test_sim_partition_view_windows_ten_thousand_records(sim):
    produce(sim, "orders", 10_000 - 30 + 2 * 10_000)  # orders-0 ends up with 10 000 records
    sim.groups.commit_offsets("billing", {("orders", 0): 9_990}, member_id="", generation=-1)
    view = PartitionView(sim, "orders", partitions=[0])
    html = view.html.value
    part = view.snapshot["topics"][0]["partitions"][0]
    assert part["log_end_offset"] == 10_000 and len(part["records"]) == 40
    assert offset_cells(html) == 41
    assert "\u2026 9\u202f960 earlier offsets" in html
    assert "billing committed" in html.split(">9\u202f990<")[1].split("</div>")[0]
    assert len(html) < 20_000


def test_sim_group_view_lag_from_committed_offsets(sim):
    view = GroupView(sim, "billing")
    assert view.group is None
    sim.groups.commit_offsets("billing", {("orders", 0): 4, ("orders", 1): 10}, member_id="", generation=-1)
    sim.advance(100)
    view.refresh()
    hw = sim.partition_high_watermark("orders", 0)
    assert view.lag("orders", 0) == hw - 4 and view.lag() == (hw - 4) + (sim.partition_high_watermark("orders", 1) - 10)
    assert f"total lag {view.lag()}" in view.html.value
    assert len(view.plot_lag().axes[0].get_lines()) == 3


def test_sim_views_are_deterministic_for_a_seed():
    from eventsim.cluster import Cluster

    def run():
        cluster = Cluster(brokers=3, seed=11)
        cluster.create_topic("orders", num_partitions=2, replication_factor=3)
        produce(cluster, "orders", 50)
        cv = ClusterView(cluster)
        cv.stop_broker(cluster.leader_for("orders", 0))
        return cv._repr_html_() + PartitionView(cluster, "orders")._repr_html_()

    assert run() == run()


def test_sim_step_control_moves_virtual_time(sim):
    view = ClusterView(sim, topic="orders", settle_ms=0)
    control = StepControl(sim, step_ms=1000, views=[view])
    old = sim.leader_for("orders", 0)
    view.stop_broker(old)  # settle_ms=0: the view does not run the clock; the control does
    assert leaders_in(view.html.value).get("orders-0") is None
    timeout = int(sim.config["broker.session.timeout.ms"])
    control.step(timeout // 1000 + 1)
    assert leaders_in(view.html.value)["orders-0"] == sim.leader_for("orders", 0) != old
