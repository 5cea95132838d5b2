"""Persistence of the model: the ``Store`` (SQLite or PostgreSQL) and the JSON codec it uses.

* ``localvpc.store.codec``: ``encode``/``decode`` between model dataclasses and JSON-able dicts,
  driven by the classes' type hints;
* ``localvpc.store.sqlstore``: ``Store``, resources and meta state in SQL tables via SQLAlchemy
  Core, with durable (acknowledged means on disk) and thread-safe writes.

Of localvpc this package imports only ``localvpc.model``; the layers above (the API server, the
CLI) build on it.
"""

from localvpc.model.errors import StoreError
from localvpc.store.codec import CodecError, decode, encode
from localvpc.store.sqlstore import Store, Transaction

__all__ = ["CodecError", "Store", "StoreError", "Transaction", "decode", "encode"]
