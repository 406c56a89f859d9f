"""A local PySpark session for running the analysis on Spark.

PySpark is optional (``pip install 'pyspark>=4.0,<4.1'``, Java 17); it is imported only here.

Examples
--------
>>> from manyi.insight.spark import local_spark_session
>>> spark = local_spark_session(cores=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

from manyi.insight.errors import SourceError


def local_spark_session(cores: int = 2, memory: str = "2g") -> Any:
    """Start (or reuse) a local Spark session bound to 127.0.0.1 with UTC session time.

    Parameters
    ----------
    cores
        Worker threads (``local[cores]``).
    memory
        Driver memory, e.g. ``"2g"``.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    # Without this Spark binds its block manager to the first non-loopback address it finds.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SourceError(
            "engine 'spark' needs PySpark: pip install 'pyspark>=4.0,<4.1' (and Java 17)"
        ) from exc
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("manyi")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
