"""Stand-in for orjson (no Debian package), backed by json: KServe's gRPC client imports it but
calls it only for REST bodies."""
import json
import sys

JSONDecodeError = json.JSONDecodeError


def loads(data):
    return json.loads(data)


def dumps(value, default=None, option=None):
    return json.dumps(value, default=default).encode("utf-8")


# KServe writes `from orjson import orjson`.
orjson = sys.modules[__name__]
