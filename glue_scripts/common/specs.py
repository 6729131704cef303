"""Table specs: the one declaration of every bronze and silver table, shared by Glue jobs and Dagster (the catalogue,
glue_scripts/common/catalogue.py, lists them with the quarantine tables and the gold marts)."""

from __future__ import annotations

from dataclasses import dataclass, field

BRONZE_METADATA_COLUMNS: tuple[str, ...] = (
    "_ingestion_date",
    "_ingested_at",
    "_source_system",
    "_source_ref",
    "_run_id",
    "_record_hash",
)

DATE_FORMATS: tuple[str, ...] = ("yyyy-MM-dd", "MM/dd/yyyy")

# Every silver quarantine rule; the last four come from defects bronze's readers record in `_defects`.
RULES: tuple[str, ...] = (
    "null_key",
    "unparseable_date",
    "unparseable_number",
    "negative_value",
    "unaccepted_value",
    "unknown_foreign_key",
    "wrong_column_count",
    "malformed_line",
    "missing_column",
    "invalid_json",
    "not_a_scalar",
    "unusable_key",
)


@dataclass(frozen=True)
class Column:
    """One typed silver column and how its raw string is standardized (trim, upper)."""

    name: str
    type: str
    trim: bool = True
    upper: bool = False
    non_negative: bool = False


@dataclass(frozen=True)
class ForeignKey:
    """Columns of this table that must resolve to the primary key of another silver table."""

    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class BronzeSpec:
    """One bronze table: a source entity as delivered, all source columns kept as raw strings."""

    source: str
    entity: str
    job: str
    fmt: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        """The bronze table name, `<source>__<entity>`."""
        return f"{self.source}__{self.entity}"


@dataclass(frozen=True)
class SilverSpec:
    """One silver table: typed, standardized, one current row per primary key."""

    name: str
    bronze: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version_column: str = "updated_at"
    drift_renames: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The TPC-H columns, in TPC-H order."""
        return tuple(c.name for c in self.columns)

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        """The TPC-H columns with their silver types (no lineage)."""
        return tuple((c.name, c.type) for c in self.columns)


@dataclass(frozen=True)
class EventSpec:
    """One silver table of events: one row per well-formed line of a bronze day, with no key (two equal lines are
    two requests); each day's partition is rebuilt from its bronze day alone, malformed lines go to quarantine."""

    name: str
    bronze: str
    data_columns: tuple[tuple[str, str], ...]


SilverTable = SilverSpec | EventSpec


def _key(name: str) -> Column:
    return Column(name, "bigint")


def _money(name: str, non_negative: bool = False) -> Column:
    return Column(name, "decimal(15,2)", non_negative=non_negative)


def _text(name: str) -> Column:
    return Column(name, "string", trim=False)


def _code(name: str) -> Column:
    return Column(name, "string", upper=True)


SILVER_SPECS: tuple[SilverSpec, ...] = (
    SilverSpec(
        name="region",
        bronze="files__region",
        primary_key=("r_regionkey",),
        columns=(_key("r_regionkey"), _code("r_name"), _text("r_comment")),
    ),
    SilverSpec(
        name="nation",
        bronze="files__nation",
        primary_key=("n_nationkey",),
        columns=(_key("n_nationkey"), _code("n_name"), _key("n_regionkey"), _text("n_comment")),
        foreign_keys=(ForeignKey(("n_regionkey",), "region", ("r_regionkey",)),),
    ),
    SilverSpec(
        name="supplier",
        bronze="files__supplier",
        primary_key=("s_suppkey",),
        columns=(
            _key("s_suppkey"),
            Column("s_name", "string"),
            _text("s_address"),
            _key("s_nationkey"),
            Column("s_phone", "string"),
            _money("s_acctbal"),
            _text("s_comment"),
        ),
        foreign_keys=(ForeignKey(("s_nationkey",), "nation", ("n_nationkey",)),),
    ),
    SilverSpec(
        name="part",
        bronze="files__part",
        primary_key=("p_partkey",),
        columns=(
            _key("p_partkey"),
            Column("p_name", "string"),
            Column("p_mfgr", "string"),
            Column("p_brand", "string"),
            _code("p_type"),
            Column("p_size", "int", non_negative=True),
            _code("p_container"),
            _money("p_retailprice", non_negative=True),
            _text("p_comment"),
        ),
    ),
    SilverSpec(
        name="partsupp",
        bronze="files__partsupp",
        primary_key=("ps_partkey", "ps_suppkey"),
        columns=(
            _key("ps_partkey"),
            _key("ps_suppkey"),
            Column("ps_availqty", "int", non_negative=True),
            _money("ps_supplycost", non_negative=True),
            _text("ps_comment"),
        ),
        foreign_keys=(
            ForeignKey(("ps_partkey",), "part", ("p_partkey",)),
            ForeignKey(("ps_suppkey",), "supplier", ("s_suppkey",)),
        ),
    ),
    SilverSpec(
        name="customer",
        bronze="api__customers",
        primary_key=("c_custkey",),
        columns=(
            _key("c_custkey"),
            Column("c_name", "string"),
            _text("c_address"),
            _key("c_nationkey"),
            Column("c_phone", "string"),
            _money("c_acctbal"),
            _code("c_mktsegment"),
            _text("c_comment"),
        ),
        foreign_keys=(ForeignKey(("c_nationkey",), "nation", ("n_nationkey",)),),
    ),
    SilverSpec(
        name="orders",
        bronze="db__orders",
        primary_key=("o_orderkey",),
        columns=(
            _key("o_orderkey"),
            _key("o_custkey"),
            _code("o_orderstatus"),
            _money("o_totalprice", non_negative=True),
            Column("o_orderdate", "date"),
            _code("o_orderpriority"),
            Column("o_clerk", "string"),
            Column("o_shippriority", "int"),
            _text("o_comment"),
        ),
        foreign_keys=(ForeignKey(("o_custkey",), "customer", ("c_custkey",)),),
        accepted_values={"o_orderstatus": ("F", "O", "P")},
    ),
    SilverSpec(
        name="lineitem",
        bronze="db__lineitem",
        primary_key=("l_orderkey", "l_linenumber"),
        columns=(
            _key("l_orderkey"),
            _key("l_partkey"),
            _key("l_suppkey"),
            Column("l_linenumber", "int"),
            _money("l_quantity", non_negative=True),
            _money("l_extendedprice", non_negative=True),
            _money("l_discount", non_negative=True),
            _money("l_tax", non_negative=True),
            _code("l_returnflag"),
            _code("l_linestatus"),
            Column("l_shipdate", "date"),
            Column("l_commitdate", "date"),
            Column("l_receiptdate", "date"),
            _code("l_shipinstruct"),
            _code("l_shipmode"),
            _text("l_comment"),
        ),
        foreign_keys=(
            ForeignKey(("l_orderkey",), "orders", ("o_orderkey",)),
            ForeignKey(("l_partkey", "l_suppkey"), "partsupp", ("ps_partkey", "ps_suppkey")),
        ),
        accepted_values={"l_returnflag": ("A", "N", "R"), "l_linestatus": ("F", "O")},
    ),
)

WEB_EVENTS = EventSpec("web_events", "logs__web_access", (
    ("ts", "timestamp"), ("client", "string"), ("method", "string"), ("path", "string"), ("status", "int"),
    ("bytes", "bigint"), ("referrer", "string"), ("user_agent", "string"), ("customer_key", "bigint"),
    ("part_key", "bigint"), ("is_bot", "boolean"),
))

# Every silver table: the keyed TPC-H tables (merged across days), then the events.
SILVER_TABLES: tuple[SilverTable, ...] = (*SILVER_SPECS, WEB_EVENTS)
SILVER_TABLES_BY_NAME: dict[str, SilverTable] = {t.name: t for t in SILVER_TABLES}
SILVER_BY_NAME: dict[str, SilverSpec] = {s.name: s for s in SILVER_SPECS}
SILVER_BY_BRONZE: dict[str, SilverSpec] = {s.bronze: s for s in SILVER_SPECS}


def _bronze_columns(spec: SilverSpec) -> tuple[str, ...]:
    return (*spec.column_names, spec.version_column)


LOG_COLUMNS: tuple[str, ...] = (
    "raw_line",
    "client",
    "ts",
    "method",
    "path",
    "status",
    "bytes",
    "referrer",
    "user_agent",
    "_parse_error",
)

BRONZE_SPECS: tuple[BronzeSpec, ...] = (
    BronzeSpec("db", "orders", "bronze_ingest_db", "jdbc", _bronze_columns(SILVER_BY_NAME["orders"])),
    BronzeSpec("db", "lineitem", "bronze_ingest_db", "jdbc", _bronze_columns(SILVER_BY_NAME["lineitem"])),
    BronzeSpec(
        "api",
        "customers",
        "bronze_ingest_api",
        "api",
        (*_bronze_columns(SILVER_BY_NAME["customer"]), "system_modstamp"),
    ),
    BronzeSpec("files", "part", "bronze_ingest_files", "csv", _bronze_columns(SILVER_BY_NAME["part"])),
    BronzeSpec("files", "supplier", "bronze_ingest_files", "jsonl", _bronze_columns(SILVER_BY_NAME["supplier"])),
    BronzeSpec("files", "partsupp", "bronze_ingest_files", "csv", _bronze_columns(SILVER_BY_NAME["partsupp"])),
    BronzeSpec("files", "nation", "bronze_ingest_files", "csv", _bronze_columns(SILVER_BY_NAME["nation"])),
    BronzeSpec("files", "region", "bronze_ingest_files", "csv", _bronze_columns(SILVER_BY_NAME["region"])),
    BronzeSpec("logs", "web_access", "bronze_ingest_logs", "log", LOG_COLUMNS),
)

BRONZE_BY_NAME: dict[str, BronzeSpec] = {s.name: s for s in BRONZE_SPECS}
