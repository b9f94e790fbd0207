"""Fixtures shared by the rules-engine tests: one evaluator and one Spark session per
session (PySpark needs a Java runtime; CI sets MINZHENG_REQUIRE_SPARK=1 and installs one,
so that there a missing runtime fails instead of skipping)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from minzheng.rules.evaluate import Evaluator

HAS_JAVA = bool(shutil.which("java") or os.environ.get("JAVA_HOME"))
REQUIRE_SPARK = os.environ.get("MINZHENG_REQUIRE_SPARK") == "1"


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    return Evaluator()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("minzheng-rules-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "localhost")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # py4j logs its socket shutdown at exit, after pytest has closed the captured streams
    logging.getLogger("py4j").setLevel(logging.ERROR)
    yield session
    session.stop()
