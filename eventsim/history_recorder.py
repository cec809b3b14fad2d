"""Recording a history (see :mod:`eventsim.history`) from clients' own results, on any backend.

::

    rec = eventsim.history.Recorder()
    p = rec.producer(kafka.Producer(conf), process="p1")
    c = rec.consumer(kafka.Consumer(conf), process="c1")
    ...                                   # use p and c exactly like the clients they wrap
    eventsim.history.check(rec.ops)

The wrappers pass every call through to the wrapped client (eventsim's or confluent-kafka's: they share the
method names) and append ops to ``rec.ops``: a "send" per ``produce`` (status "info" until its delivery
report, then "ok" with partition and offset, or "fail"; the caller's own ``on_delivery`` still runs), a
"poll" per record ``poll``/``consume`` return (not for events or errors), "seek"/"assign" ops, "rebalance"
ops from the ``on_assign``/``on_revoke``/``on_lost`` callbacks of ``subscribe`` (the caller's own run too),
and a "txn" op when ``commit_transaction``/``abort_transaction`` returns; sends between
``begin_transaction`` and that carry the transaction's id.

Keys and values are stored as text: bytes that are UTF-8 decoded, other bytes as ``"0x"`` + hex.
"""


def text(b):
    """A key or value as JSON-able text: str unchanged, UTF-8 bytes decoded, other bytes ``"0x" + hex``."""
    if b is None or isinstance(b, str):
        return b
    b = bytes(b)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + b.hex()


class Recorder:
    """A history being recorded: ``ops`` is the list, shared by every client wrapped by this recorder."""

    def __init__(self):
        self.ops = []
        self._names = {}

    def _name(self, process, prefix):
        if process is not None:
            return process
        self._names[prefix] = self._names.get(prefix, 0) + 1
        return f"{prefix}{self._names[prefix]}"

    def producer(self, producer, process=None):
        """Wrap a Producer; its ops carry ``process`` (default: "p1", "p2", ... in wrapping order)."""
        return RecordingProducer(producer, self.ops, self._name(process, "p"))

    def consumer(self, consumer, process=None):
        """Wrap a Consumer; its ops carry ``process`` (default: "c1", "c2", ... in wrapping order)."""
        return RecordingConsumer(consumer, self.ops, self._name(process, "c"))


class _Wrapper:
    def __init__(self, client, ops, process):
        self._client, self._ops, self.process = client, ops, process

    def __getattr__(self, name):                     # everything not recorded goes straight through
        return getattr(self._client, name)

    def __enter__(self):
        self._client.__enter__()
        return self

    def __exit__(self, *exc):
        return self._client.__exit__(*exc)

    def _move(self, kind, tp):
        self._ops.append({"process": self.process, "type": kind, "topic": tp.topic, "partition": tp.partition,
                          "offset": tp.offset})


class RecordingProducer(_Wrapper):
    """A Producer that records a "send" op per ``produce`` and a "txn" op per finished transaction."""

    def __init__(self, client, ops, process):
        super().__init__(client, ops, process)
        self._txn, self._txns = None, 0

    def __len__(self):
        return len(self._client)                    # records still queued or in flight

    def __bool__(self):
        return True

    def produce(self, topic, value=None, key=None, *args, **kwargs):
        op = {"process": self.process, "type": "send", "topic": topic, "key": text(key), "value": text(value),
              "status": "info", "partition": None, "offset": None, "txn": self._txn}
        if len(args) >= 2 and callable(args[1]):     # on_delivery given by position, after partition
            args = (args[0], self._on_delivery(op, args[1])) + args[2:]
        else:
            name = "callback" if "callback" in kwargs and "on_delivery" not in kwargs else "on_delivery"
            kwargs[name] = self._on_delivery(op, kwargs.get(name))
        self._ops.append(op)
        try:
            return self._client.produce(topic, value, key, *args, **kwargs)
        except Exception:
            op["status"] = "fail"                    # never queued
            raise

    @staticmethod
    def _on_delivery(op, user):
        def report(err, msg):
            if err is None:
                op.update(status="ok", partition=msg.partition(), offset=msg.offset())
            else:
                op["status"] = "fail"
            if user is not None:
                user(err, msg)
        return report

    def begin_transaction(self, *args, **kwargs):
        result = self._client.begin_transaction(*args, **kwargs)
        self._txns += 1
        self._txn = f"{self.process}-t{self._txns}"
        return result

    def commit_transaction(self, *args, **kwargs):
        return self._end("commit", self._client.commit_transaction, args, kwargs)

    def abort_transaction(self, *args, **kwargs):
        return self._end("abort", self._client.abort_transaction, args, kwargs)

    def _end(self, status, method, args, kwargs):
        result = method(*args, **kwargs)             # raises: the outcome is unknown, the txn stays open
        if self._txn is not None:
            self._ops.append({"process": self.process, "type": "txn", "id": self._txn, "status": status})
        self._txn = None
        return result


class RecordingConsumer(_Wrapper):
    """A Consumer that records a "poll" op per record read and the moves of its position."""

    def _polled(self, msg):
        if msg is not None and not msg.error():
            self._ops.append({"process": self.process, "type": "poll", "topic": msg.topic(),
                              "partition": msg.partition(), "offset": msg.offset(), "key": text(msg.key()),
                              "value": text(msg.value())})
        return msg

    def poll(self, *args, **kwargs):
        return self._polled(self._client.poll(*args, **kwargs))

    def consume(self, *args, **kwargs):
        msgs = self._client.consume(*args, **kwargs)
        for msg in msgs:
            self._polled(msg)
        return msgs

    def seek(self, partition):
        result = self._client.seek(partition)
        self._move("seek", partition)
        return result

    def assign(self, partitions):
        result = self._client.assign(partitions)
        for tp in partitions:
            self._move("assign", tp)
        return result

    def incremental_assign(self, partitions):
        result = self._client.incremental_assign(partitions)
        for tp in partitions:
            self._move("assign", tp)
        return result

    def subscribe(self, topics, on_assign=None, on_revoke=None, on_lost=None, **kwargs):
        """Subscribe with callbacks that record a "rebalance" op per partition assigned, revoked or lost and
        then call the caller's own (``on_lost`` only if given: without it the client calls ``on_revoke``)."""
        kwargs["on_assign"], kwargs["on_revoke"] = self._rebalance(on_assign), self._rebalance(on_revoke)
        if on_lost is not None:
            kwargs["on_lost"] = self._rebalance(on_lost)
        return self._client.subscribe(topics, **kwargs)

    def _rebalance(self, user):
        def callback(consumer, partitions):
            for tp in partitions:
                self._move("rebalance", tp)
            if user is not None:
                user(self, partitions)
        return callback
