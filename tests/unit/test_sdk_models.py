"""bot.rds.sdk_models: the RDS SDK's model classes imported one API at a time, not all 1,277 modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.rds.sdk_models import declared_names

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_sdk_declares_every_class_on_an_import_line() -> None:
    import importlib.util

    spec = importlib.util.find_spec("alibabacloud_rds20140815.models")
    assert spec is not None and spec.origin is not None
    where = declared_names(Path(spec.origin).read_text(encoding="utf-8"))
    assert where is not None and len(where) > 1000
    assert where["DescribeDBInstancesRequest"] == "._describe_dbinstances_request"


def test_a_package_laid_out_otherwise_is_left_to_import_whole() -> None:
    assert declared_names('"""doc"""\nfrom ._a import A\n__all__ = [A]\n') == {"A": "._a"}
    assert declared_names("from ._a import A\nA.extra = 1\n") is None
    assert declared_names("from ._a import A\ndef helper():\n    pass\n") is None


def test_the_client_works_with_only_the_classes_it_uses_imported() -> None:
    code = """
import sys
from bot.rds import sdk_models
assert sdk_models.install() and sdk_models.install()
from alibabacloud_rds20140815.client import Client
from alibabacloud_rds20140815 import models
import alibabacloud_rds20140815.models as same
assert models is same
request = models.DescribeDBInstancesRequest().from_map({"RegionId": "cn-hangzhou", "DBInstanceId": "rm-1"})
assert request.dbinstance_id == "rm-1"
body = models.DescribeDBInstancesResponse().from_map(
    {"body": {"Items": {"DBInstance": [{"DBInstanceId": "rm-1"}]}}}).body
assert body.items.dbinstance[0].dbinstance_id == "rm-1"
assert getattr(models, "NoSuchApiRequest", None) is None
print(len([m for m in sys.modules if m.startswith("alibabacloud_rds20140815.models.")]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) < 20  # the whole package is 1,277 modules
