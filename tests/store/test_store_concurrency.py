"""One store shared by many threads (as the API server's thread pool shares it)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from localvpc.model.vpc import Subnet, Vpc
from localvpc.store import Store

THREADS = 8
ROUNDS = 30


def test_threads_writing_and_deleting_lose_and_duplicate_nothing(store: Store) -> None:
    start = threading.Barrier(THREADS)
    seen_counts: list[int] = []

    def work(t: int) -> set[str]:
        kept: set[str] = set()
        start.wait()
        for j in range(ROUNDS):
            vpc_id = f"vpc-{t}-{j}"
            with store.transaction() as tx:
                tx.put(Vpc(id=vpc_id, tags={"thread": str(t)}))
                tx.put(Subnet(id=f"subnet-{t}-{j}", vpc_id=vpc_id))
            kept.add(vpc_id)
            if j % 3 == 2:  # delete one of this thread's earlier VPCs
                with store.transaction() as tx:
                    assert tx.delete("vpcs", f"vpc-{t}-{j - 1}") is True
                kept.discard(f"vpc-{t}-{j - 1}")
            with store.transaction() as tx:  # read-modify-write of one key from every thread
                counter = tx.get_meta("counter") or 0
                tx.put_meta("counter", counter + 1)
                tx.put(Vpc(id="vpc-shared", tags={"last": str(t)}))
            seen_counts.append(store.count("vpcs"))  # readers run alongside the writers
            if j % 10 == 0:
                assert "vpc-shared" in store.load_network().vpcs
        return kept

    with ThreadPoolExecutor(THREADS) as pool:
        kept_by_thread = list(pool.map(work, range(THREADS)))

    expected = set().union(*kept_by_thread) | {"vpc-shared"}
    assert len(expected) == THREADS * (ROUNDS - ROUNDS // 3) + 1
    network = store.load_network()
    assert set(network.vpcs) == expected
    assert store.count("vpcs") == len(expected)
    assert store.count("subnets") == THREADS * ROUNDS
    # Every read-modify-write of the shared row and counter was serialized: none was lost.
    assert store.version("vpcs", "vpc-shared") == THREADS * ROUNDS
    assert store.get_meta("counter") == THREADS * ROUNDS
    assert len(seen_counts) == THREADS * ROUNDS
    assert max(seen_counts) <= THREADS * ROUNDS + 1


def test_separate_stores_on_one_database_serialize_their_writers(store_target: str) -> None:
    """Two ``Store`` objects share no lock: the database itself must serialize them (as it
    would two server processes)."""
    stores = [Store.open(store_target) for _ in range(2)]
    per_thread = 25

    def bump(t: int) -> None:
        store = stores[t % 2]
        for _ in range(per_thread):
            with store.transaction() as tx:
                counter = tx.get_meta("counter") or 0
                tx.put_meta("counter", counter + 1)

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(bump, range(THREADS)))
        assert (
            stores[0].get_meta("counter") == stores[1].get_meta("counter") == THREADS * per_thread
        )
    finally:
        for store in stores:
            store.close()
