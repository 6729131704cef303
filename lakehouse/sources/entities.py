"""The source entities: bronze table names, TPC-H tables, and where each fault may touch them."""

from __future__ import annotations

from lakehouse.sources.faults import FRESH_KEY_BASE, Entity

ORDERS = Entity(
    "db__orders",
    ("o_orderkey", "o_custkey", "o_orderstatus", "o_totalprice", "o_orderdate", "o_orderpriority", "o_clerk",
     "o_shippriority", "o_comment"),
    pad=("o_orderkey", "o_custkey", "o_totalprice", "o_orderdate", "o_clerk", "o_shippriority", "o_orderstatus",
         "o_orderpriority"),
    codes=("o_orderstatus", "o_orderpriority"), dates=("o_orderdate",), null="o_orderkey", number="o_totalprice",
    negative="o_totalprice", fk="o_custkey", fresh=("o_orderkey", FRESH_KEY_BASE), mutate=("o_totalprice", "o_comment"),
)
LINEITEM = Entity(
    "db__lineitem",
    ("l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity", "l_extendedprice", "l_discount", "l_tax",
     "l_returnflag", "l_linestatus", "l_shipdate", "l_commitdate", "l_receiptdate", "l_shipinstruct", "l_shipmode",
     "l_comment"),
    pad=("l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity", "l_extendedprice", "l_discount", "l_tax",
         "l_returnflag", "l_linestatus", "l_shipdate", "l_commitdate", "l_receiptdate", "l_shipinstruct", "l_shipmode"),
    codes=("l_returnflag", "l_linestatus", "l_shipinstruct", "l_shipmode"),
    dates=("l_shipdate", "l_commitdate", "l_receiptdate"), null="l_linenumber", number="l_extendedprice",
    negative="l_quantity", fk="l_partkey", fresh=("l_linenumber", 100), mutate=("l_quantity", "l_comment"),
)
CUSTOMER = Entity(
    "api__customers",
    ("c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal", "c_mktsegment", "c_comment"),
    pad=("c_custkey", "c_name", "c_nationkey", "c_phone", "c_acctbal", "c_mktsegment"), codes=("c_mktsegment",),
    null="c_custkey", number="c_acctbal", fk="c_nationkey", fresh=("c_custkey", FRESH_KEY_BASE),
    mutate=("c_acctbal", "c_address"),
)
PART = Entity(
    "files__part",
    ("p_partkey", "p_name", "p_mfgr", "p_brand", "p_type", "p_size", "p_container", "p_retailprice", "p_comment"),
    pad=("p_partkey", "p_name", "p_mfgr", "p_brand", "p_type", "p_size", "p_container", "p_retailprice"),
    codes=("p_type", "p_container"), null="p_partkey", number="p_retailprice", negative="p_size", wrong_count=True,
    mutate=("p_retailprice", "p_comment"),
)
SUPPLIER = Entity(
    "files__supplier",
    ("s_suppkey", "s_name", "s_address", "s_nationkey", "s_phone", "s_acctbal", "s_comment"),
    pad=("s_suppkey", "s_name", "s_nationkey", "s_phone", "s_acctbal"), null="s_suppkey", number="s_acctbal",
    fk="s_nationkey", fresh=("s_suppkey", FRESH_KEY_BASE), mutate=("s_acctbal", "s_comment"),
)
PARTSUPP = Entity(
    "files__partsupp",
    ("ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost", "ps_comment"),
    pad=("ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost"), null="ps_partkey", number="ps_supplycost",
    negative="ps_availqty", fk="ps_suppkey", wrong_count=True, mutate=("ps_supplycost", "ps_comment"),
)
NATION = Entity(
    "files__nation", ("n_nationkey", "n_name", "n_regionkey", "n_comment"),
    pad=("n_nationkey", "n_name", "n_regionkey"), codes=("n_name",), mutate=("n_comment",),
)
REGION = Entity(
    "files__region", ("r_regionkey", "r_name", "r_comment"), pad=("r_regionkey", "r_name"), codes=("r_name",),
    mutate=("r_comment",),
)

FILE_ENTITIES: dict[str, tuple[Entity, str, str]] = {
    "part": (PART, "part", "csv"),
    "supplier": (SUPPLIER, "supplier", "jsonl"),
    "partsupp": (PARTSUPP, "partsupp", "csv"),
    "nation": (NATION, "nation", "csv"),
    "region": (REGION, "region", "csv"),
}
SILVER_TABLE: dict[str, str] = {
    "db__orders": "orders", "db__lineitem": "lineitem", "api__customers": "customer", "files__part": "part",
    "files__supplier": "supplier", "files__partsupp": "partsupp", "files__nation": "nation", "files__region": "region",
    "logs__web_access": "web_events",
}
