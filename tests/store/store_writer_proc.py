"""A writer process for the durability and multi-process tests (not a test module).

``python store_writer_proc.py DB PREFIX COUNT`` opens the store at DB and, COUNT times (forever
when COUNT is 0), puts a VPC ``PREFIX-<n>`` and a meta entry ``PREFIX/<n>`` in one transaction,
printing the VPC id only after the transaction has returned (the write is acknowledged).
"""

from __future__ import annotations

import itertools
import sys

from localvpc.model.vpc import Vpc
from localvpc.store import Store


def main(db: str, prefix: str, count: int) -> None:
    store = Store.open(db)
    numbers = itertools.count() if count == 0 else iter(range(count))
    for n in numbers:
        vpc_id = f"{prefix}-{n}"
        with store.transaction() as tx:
            tx.put(Vpc(id=vpc_id, tags={"n": str(n)}))
            tx.put_meta(f"{prefix}/{n}", n)
        sys.stdout.write(vpc_id + "\n")
        sys.stdout.flush()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
