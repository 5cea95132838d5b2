"""The SQL store on SQLite and (when available) PostgreSQL: round trips and the API contract."""

from __future__ import annotations

import ipaddress
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import RESOURCE_CLASSES, SQL_TEXT, instances_of, sample_network

from localvpc.model.errors import StoreError
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, Vpc
from localvpc.model.zones import Zone
from localvpc.store import Store


def put_all(store: Store, network: Network) -> None:
    with store.transaction() as tx:
        for table in network.tables().values():
            for resource in table.values():
                tx.put(resource)


def test_every_kind_round_trips_and_survives_reopen(store_target: str) -> None:
    network = sample_network()
    with Store.open(store_target) as store:
        put_all(store, network)
        assert store.load_network() == network
        assert store.count() == sum(network.summary().values())
        for kind, n in network.summary().items():
            assert store.count(kind) == n
    with Store.open(store_target) as reopened:
        loaded = reopened.load_network()
    assert loaded == network
    assert loaded.warnings == []
    # Each resource lands in its own table under its key (zones by name).
    assert loaded.zones["us-west-2-lax-1a"].zone_id == "usw2-lax1-az1"
    assert loaded.route_tables["rtb-1"].routes[2].destination == ipaddress.ip_network("::/0")


ANY_RESOURCE = st.one_of([instances_of(cls, SQL_TEXT) for cls in RESOURCE_CLASSES])


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(resources=st.lists(ANY_RESOURCE, max_size=40))
def test_generated_networks_round_trip(store: Store, resources: list[object]) -> None:
    expected = Network()
    for resource in resources:  # later ones replace earlier ones with the same key, as in SQL
        expected.add(resource)
    store.reset()
    put_all(store, expected)
    assert store.load_network() == expected


def test_get_put_overwrite_version_and_delete(store: Store) -> None:
    first = Vpc(id="vpc-1", cidrs=[ipaddress.ip_network("10.0.0.0/16")])
    with store.transaction() as tx:
        tx.put(first)
    assert store.get("vpcs", "vpc-1") == first
    assert store.version("vpcs", "vpc-1") == 1
    second = Vpc(id="vpc-1", account="999999999999", tags={"Name": "renamed"})
    with store.transaction() as tx:
        tx.put(second)
        tx.put(second)
    assert store.get("vpcs", "vpc-1") == second
    assert store.version("vpcs", "vpc-1") == 3
    assert store.count("vpcs") == 1
    assert store.get("vpcs", "vpc-404") is None
    assert store.version("vpcs", "vpc-404") is None
    assert store.get("subnets", "vpc-1") is None  # same id, other kind
    with store.transaction() as tx:
        assert tx.delete("vpcs", "vpc-1") is True
        assert tx.delete("vpcs", "vpc-1") is False
    assert store.get("vpcs", "vpc-1") is None
    assert store.count() == 0


def test_kind_comes_from_the_class_and_zones_are_keyed_by_name(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(Subnet(id="x", vpc_id="vpc-1"))
        tx.put(Vpc(id="x"))
        tx.put(Zone("eu-west-1a", "euw1-az1", "eu-west-1"))
    assert store.count("subnets") == store.count("vpcs") == store.count("zones") == 1
    assert store.get("zones", "eu-west-1a") == Zone("eu-west-1a", "euw1-az1", "eu-west-1")
    assert set(store.load_network().summary()) == {"subnets", "vpcs", "zones"}


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(Vpc(id="vpc-keep"))
        tx.put_meta("keep", 1)
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as tx:
        tx.put(Vpc(id="vpc-lost"))
        tx.delete("vpcs", "vpc-keep")
        tx.put_meta("lost", 2)
        tx.delete_meta("keep")
        assert tx.get("vpcs", "vpc-lost") == Vpc(id="vpc-lost")  # visible inside
        assert tx.get_meta("lost") == 2
        raise RuntimeError("boom")
    assert set(store.load_network().vpcs) == {"vpc-keep"}
    assert store.meta_items() == {"keep": 1}
    # The store is usable afterwards, and a finished transaction cannot be reused.
    with store.transaction() as tx:
        tx.put(Vpc(id="vpc-after"))
    with pytest.raises(StoreError, match="ended"):
        tx.put(Vpc(id="vpc-late"))
    assert store.count("vpcs") == 2


def test_meta_values_prefixes_and_deletes(store: Store) -> None:
    value = {"opted_in": ["us-west-2-lax-1"], "n": 3, "ok": True, "none": None, "f": 1.5}
    with store.transaction() as tx:
        tx.put_meta("zone-groups/111111111111/us-west-2", value)
        tx.put_meta("zone-groups/111111111111/eu-west-1", [])
        tx.put_meta("ZONE-GROUPS/upper", "case matters")
        tx.put_meta("zone_groupsX", "underscore is not a wildcard")
        tx.put_meta("zone%groups", "percent is not a wildcard")
        tx.put_meta("token/abc", None)
    assert store.get_meta("zone-groups/111111111111/us-west-2") == value
    assert store.get_meta("missing") is None
    assert store.meta_items("zone-groups/") == {
        "zone-groups/111111111111/eu-west-1": [],
        "zone-groups/111111111111/us-west-2": value,
    }
    assert store.meta_items("zone%") == {"zone%groups": "percent is not a wildcard"}
    assert len(store.meta_items()) == 6
    with store.transaction() as tx:
        tx.put_meta("token/abc", "replaced")
        assert tx.delete_meta("zone%groups") is True
        assert tx.delete_meta("zone%groups") is False
    assert store.get_meta("token/abc") == "replaced"
    assert len(store.meta_items()) == 5


def test_reset_drops_resources_and_meta(store: Store) -> None:
    put_all(store, sample_network())
    with store.transaction() as tx:
        tx.put_meta("k", "v")
    store.reset()
    assert store.load_network() == Network()
    assert store.meta_items() == {}
    assert store.count() == 0


def test_bad_writes_raise_store_error_and_leave_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match="not a model resource"), store.transaction() as tx:
        tx.put(Vpc(id="vpc-ok"))
        tx.put({"id": "vpc-dict"})
    with pytest.raises(StoreError, match="NUL"), store.transaction() as tx:
        tx.put(Vpc(id="vpc-\x00"))
    with pytest.raises(StoreError, match="not valid Unicode"), store.transaction() as tx:
        tx.put(Vpc(id="vpc-1", region="\ud800"))
    with pytest.raises(StoreError, match="not JSON"), store.transaction() as tx:
        tx.put_meta("k", {1, 2})
    with pytest.raises(StoreError, match="not JSON"), store.transaction() as tx:
        tx.put_meta("k", float("nan"))
    with pytest.raises(StoreError, match="unknown resource kind 'vpc'"), store.transaction() as tx:
        tx.delete("vpc", "vpc-ok")
    with pytest.raises(StoreError, match="unknown resource kind"):
        store.count("Vpc")
    with pytest.raises(StoreError, match=r"Vpc\.cidrs\[0\]"), store.transaction() as tx:
        tx.put(Vpc(id="vpc-bad", cidrs=["10.0.0.0/8"]))  # type: ignore[list-item]
    assert store.count() == 0
    assert store.meta_items() == {}


def test_nested_transaction_in_one_thread_is_an_error_not_a_deadlock(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(Vpc(id="vpc-outer"))
        with pytest.raises(StoreError, match="already open"), store.transaction():
            pass
        with pytest.raises(StoreError, match="inside one of its own transactions"):
            store.close()
    assert store.count("vpcs") == 1


def test_closed_store_refuses_work(store_target: str) -> None:
    store = Store.open(store_target)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.load_network()
    with pytest.raises(StoreError, match="closed"), store.transaction():
        pass


def test_rows_of_unknown_kinds_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as store, store.transaction() as tx:
        tx.put(Vpc(id="vpc-1"))
    with sqlite3.connect(path) as db:  # as a newer localvpc might have written
        db.execute("INSERT INTO resources VALUES ('space_elevators', 'se-1', 'a', 'r', '{}', 1)")
    with Store.open(path) as store:
        network = store.load_network()
    assert set(network.vpcs) == {"vpc-1"}
    assert network.warnings == ["store: skipped 'se-1': unknown resource kind 'space_elevators'"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"id": "vpc-1", "cidrs": ["not-a-cidr"]}', r"stored vpcs 'vpc-1'.*Vpc\.cidrs\[0\]"),
        ('{"id": "vpc-1", "cid', "cannot load the network"),
    ],
)
def test_undecodable_rows_raise_store_error(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as store, store.transaction() as tx:
        tx.put(Vpc(id="vpc-1"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE resources SET body = ? WHERE id = 'vpc-1'", (body,))
    with Store.open(path) as store, pytest.raises(StoreError, match=message):
        store.load_network()


def test_awkward_text_in_bodies_round_trips(store: Store) -> None:
    vpc = Vpc(
        id="vpc-ünï-😀",
        region="eu-west-1",
        tags={"nul": "a\x00b", "quote": "\"'\\", "emoji": "😀", "rtl": "שלום", "": "empty key"},
    )
    with store.transaction() as tx:
        tx.put(vpc)
    assert store.get("vpcs", "vpc-ünï-😀") == vpc
    assert store.load_network().vpcs == {vpc.id: vpc}


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_url_spellings(postgres_url: str, scheme: str) -> None:
    url = scheme + postgres_url[postgres_url.index("://") :]
    with Store.open(url) as store:
        assert store.backend == "postgresql"
        assert "postgresql+psycopg://" in store.url
        store.reset()
        with store.transaction() as tx:
            tx.put(Vpc(id=f"vpc-{scheme}"))
        assert set(store.load_network().vpcs) == {f"vpc-{scheme}"}


def test_durability_must_be_known(tmp_path: Path) -> None:
    from localvpc.store import Store, StoreError

    with pytest.raises(StoreError, match="durability"):
        Store.open(tmp_path / "s.db", durability="sometimes")
    for mode in ("full", "process"):
        store = Store.open(tmp_path / f"{mode}.db", durability=mode)
        store.close()
