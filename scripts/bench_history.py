"""How long ``eventsim.history.check`` takes on a synthetic history of N ops (default 100 000): half sends
(3 producers, 50 keys, 4 partitions), half polls reading every record back; then the same history with one
poll in ten dropped (lost and poll-skip examples to build). Prints the best of three runs of each.

    .venv/bin/python scripts/bench_history.py [N]
"""
import random
import sys
import time

from eventsim.history import check


def history(n, seed=0):
    rng = random.Random(seed)
    ops, next_offset, stored = [], [0] * 4, []
    for i in range(n // 2):
        partition, key, value = rng.randrange(4), "k%d" % rng.randrange(50), "v%d" % i
        ops.append({"process": "p%d" % (i % 3), "type": "send", "topic": "t", "key": key, "value": value,
                    "status": "ok", "partition": partition, "offset": next_offset[partition], "txn": None})
        stored.append((partition, next_offset[partition], key, value))
        next_offset[partition] += 1
    for partition, offset, key, value in sorted(stored):
        ops.append({"process": "c%d" % partition, "type": "poll", "topic": "t", "partition": partition,
                    "offset": offset, "key": key, "value": value})
    return ops


def best_of_three(ops):
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = check(ops)
        times.append(time.perf_counter() - start)
    return min(times), result


def main(n):
    clean = history(n)
    seconds, result = best_of_three(clean)
    print("%d ops, clean: %.3f s, anomalies %s" % (len(clean), seconds, sorted(result["anomalies"])))
    faulty = [op for i, op in enumerate(clean) if not (op["type"] == "poll" and i % 10 == 0)]
    seconds, result = best_of_three(faulty)
    print("%d ops, one poll in ten dropped: %.3f s, anomalies %s" % (
        len(faulty), seconds, {name: len(found) for name, found in result["anomalies"].items()}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
