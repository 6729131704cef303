"""Package definition: the `lakehouse` code location, the Glue scripts it ships, and the `lakehouse` command."""

from setuptools import find_packages, setup

DAGSTER = "1.13.27"
INTEGRATIONS = "0.29.27"

setup(
    name="lakehouse",
    version="0.1.0",
    description="A Dagster lakehouse on AWS Glue, S3, Athena and Snowflake, with an embedded local profile.",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["lakehouse", "lakehouse.*", "glue_scripts", "glue_scripts.*"]),
    package_data={"lakehouse": ["queries/*.sql"]},
    install_requires=[
        f"dagster=={DAGSTER}",
        f"dagster-webserver=={DAGSTER}",
        f"dagster-pipes=={DAGSTER}",
        f"dagster-graphql=={DAGSTER}",
        f"dagster-shared=={DAGSTER}",
        f"dagster-aws=={INTEGRATIONS}",
        f"dagster-snowflake=={INTEGRATIONS}",
        f"dagster-pyspark=={INTEGRATIONS}",
        "pyspark>=3.5.2,<3.6",
        "pandas>=2.2,<3",
        "pyarrow>=18",
        "boto3>=1.35",
        "duckdb>=1.1",
        "sqlglot>=25",
        "fakesnow>=0.9",
        "fsspec>=2024.1",
        "tpchgen-cli>=1.0",
        "psycopg2-binary>=2.9",
        "requests>=2.31",
        "tenacity>=8.2",
        "rich>=13",
        "click>=8.1",
    ],
    extras_require={
        "dev": ["pytest>=8", "moto[server]>=5.0", "playwright>=1.45", "cfn-lint>=1.0", "psutil>=5.9"],
        "bench": ["psutil>=5.9"],
    },
    entry_points={"console_scripts": ["lakehouse=lakehouse.cli:main"]},
)
