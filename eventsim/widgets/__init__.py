"""ipywidgets views of a Kafka cluster, drawn only from the common snapshot (``eventsim.snapshot``).

They take a simulated ``Cluster`` or a handle from ``eventsim.connect(...)``, so the same notebook cell
works on the simulator and on real Kafka (stepping virtual time is simulator-only)::

    from eventsim.widgets import ClusterView, PartitionView, GroupView, StepControl
    ClusterView(cluster, topic="orders")   # brokers, replicas, leaders, ISR, Stop / Start buttons
    PartitionView(cluster, "orders")       # each partition's log: log-start, HW, LEO, committed offsets
    GroupView(cluster, "billing")          # members, assignment, lag, rebalance history, plot_lag()

Every view also renders static HTML (``_repr_html_``), so executed notebooks read well on GitHub.
"""
from .cluster_view import ClusterView, diff_snapshots
from .group_view import GroupView, diff_groups
from .partition_view import PartitionView
from .predict import Predict
from .source import ViewSource, view_source
from .step_control import StepControl
from .window_view import WindowView, validate_windows

__all__ = [
    "ClusterView", "GroupView", "PartitionView", "Predict", "StepControl", "WindowView",
    "ViewSource", "view_source", "diff_snapshots", "diff_groups", "validate_windows",
]
