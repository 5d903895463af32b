#!/usr/bin/env python3
"""Writes pyvectors.json: return sets and what Python prints for them.

Run as `python3 gen_pyvectors.py > pyvectors.json` with PyYAML built with
libyaml (yaml.__with_libyaml__), as Salt's packages ship it. Each case holds
a value encoded with type tags (so that Go can rebuild bytes, datetimes,
big integers and exact floats) and the text Salt's outputters produce for
it, after display_output's rstrip() and newline:

  json: json.dumps(data, default=repr, indent=4, ensure_ascii=False)
        (salt/output/json_out.py through salt.utils.json.dumps)
  yaml: yaml.dump(data, Dumper=CSafeDumper, default_flow_style=False,
        allow_unicode=True) (salt/output/yaml_out.py through
        salt.utils.yaml.safe_dump)
  raw:  str(data) (salt/output/raw.py)
  txt:  "id: line" per line of a string, "id: str(value)" otherwise
        (salt/output/txt.py)

The randomness is seeded, so the file is reproducible for one Python and
PyYAML version (this one was made with Python 3.11 and PyYAML 6.0.3 on
libyaml 0.2.5).
"""

import base64
import datetime
import json
import random
import sys

import yaml

assert yaml.__with_libyaml__, "PyYAML without libyaml writes different YAML"

rng = random.Random(20261127)

# Characters that exercise quoting, escaping, folding and line splitting.
ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz") * 4
    + list("ABCXYZ0123456789") * 2
    + [" "] * 12
    + list(":-#,[]{}&*!|>'\"%@`?=~.<_/\\+")
    + ["\n", "\n", "\r", "\r\n", "\t", "\x0b", "\x0c", "\x1c", "\x1e", "\x1f",
       "\x00", "\x07", "\x1b", "\x7f", "\x85", "\xa0", "\xad", "\u2028", "\u2029",
       "\ufeff", "\ufffd", "é", "ß", "Ω", "Ж", "中文", "日本", "\u0301",
       "\U0001f600", "\U00010348", "\ue000", "\u200b", "\u3000"]
)

SPECIAL_STRINGS = [
    "", " ", "  ", "a", "yes", "No", "ON", "off", "true", "False", "null", "Null",
    "~", "1", "-1", "+1", "0", "00", "07", "08", "0x1F", "0b101", "0o17", "1_000",
    "1.0", "1.", ".5", "1e3", "1.0e+3", "1:30", "190:20:30", ".inf", "-.Inf",
    ".NaN", "2024-01-02", "2024-01-02 03:04:05", "2024-1-2T3:04:05Z", "<<", "=",
    "---", "...", "--- x", "- a", "-a", "? a", "?a", ":a", ": a", "a: b", "a:b",
    "a #b", "a#b", "#a", "@a", "`a", "%a", "!a", "&a", "*a", "|", ">", "'a'",
    '"a"', "a'b", 'a"b', "a'b\"c", "a\\b", "{a: 1}", "[1, 2]", "a,b", "a b ",
    " a", "a\n", "\na", "a\n\nb", "a \nb", "a\n b", "line1\nline2\nline3",
    "tab\there", "esc\x1b[31mred", "None", "True", "x" * 130, "y" * 128,
    " ".join(["word"] * 40), "a" * 90 + " b c", "é" * 70 + " ü" * 20,
    "\U0001f600 smile", "bom\ufeff", "nel\x85x", "ls\u2028x",
]


def rand_str():
    r = rng.random()
    if r < 0.35:
        return rng.choice(SPECIAL_STRINGS)
    n = rng.choice([1, 2, 3, 5, 8, 13, 30, 60, 100, 170])
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def rand_key():
    if rng.random() < 0.2:
        return rand_str()
    return "".join(rng.choice("abcdefgh_-.0123") for _ in range(rng.randint(1, 8)))


def rand_float():
    return rng.choice([
        0.0, -0.0, 1.0, -1.5, 0.1, 1e16, 1e15, 123456789.125, 1e-4, 1e-5,
        1.5e300, -2.5e-300, 5e-324, 1.7976931348623157e308, float("inf"),
        float("-inf"), float("nan"), rng.uniform(-1e6, 1e6),
        rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30),
    ])


def rand_int():
    return rng.choice([
        0, 1, -1, 42, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63),
        2**63, 2**64 - 1, rng.randint(-10**6, 10**6),
    ])


def rand_bytes():
    n = rng.choice([0, 1, 3, 10, 57, 58, 120])
    return bytes(rng.randrange(256) for _ in range(n))


def rand_datetime():
    return datetime.datetime(
        rng.choice([1, 999, 1970, 2026]), rng.randint(1, 12), rng.randint(1, 28),
        rng.randint(0, 23), rng.randint(0, 59), rng.choice([0, 0, 7, 59]),
        rng.choice([0, 0, 1, 123456, 999999]))


def rand_value(depth):
    r = rng.random()
    if depth < 4 and r < 0.25:
        return {rand_key(): rand_value(depth + 1) for _ in range(rng.randint(0, 5))}
    if depth < 4 and r < 0.45:
        return [rand_value(depth + 1) for _ in range(rng.randint(0, 5))]
    return rng.choice([
        lambda: None, lambda: True, lambda: False, rand_int, rand_float,
        rand_str, rand_str, rand_str, rand_bytes, rand_datetime,
    ])()


def tag(v):
    """The value as tagged JSON, for the Go side to rebuild."""
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, bytes):
        return {"t": "bytes", "v": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime):
        return {"t": "datetime", "v": "%04d-%02d-%02dT%02d:%02d:%02d.%06d" % (
            v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)}
    if isinstance(v, list):
        return {"t": "list", "v": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"t": "map", "v": [[k, tag(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def display(text):
    """salt.output.display_output: rstrip, then a newline unless empty."""
    text = text.rstrip()
    return text + "\n" if text else ""


def txt(data):
    out = ""
    for key, value in data.items():
        try:
            for line in value.splitlines():
                out += "{}: {}\n".format(key, line)
        except AttributeError:
            out += "{}: {}\n".format(key, value)
    return out


def case(name, data):
    # The Go side holds the return set in a map[string]any, which the
    # outputters walk in sorted order: make the Python dict sorted too.
    data = dict(sorted(data.items()))
    return {
        "name": name,
        "data": tag(data),
        "json": display(json.dumps(data, default=repr, indent=4, ensure_ascii=False)),
        "yaml": display(yaml.dump(data, Dumper=yaml.CSafeDumper,
                                  default_flow_style=False, allow_unicode=True)),
        "raw": display(str(data)),
        "txt": display(txt(data)),
    }


cases = []
for i, s in enumerate(SPECIAL_STRINGS):
    cases.append(case("string %d" % i, {"minion": s, "m2": {s: [s]}}))
for i in range(160):
    n = rng.randint(1, 3)
    cases.append(case("random %d" % i,
                      {"minion-%d" % j: rand_value(0) for j in range(n)}))

# One case a line, so that a change shows as a change of the cases it touches.
sys.stdout.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n")
