#!/usr/bin/env python3
"""Writes vectors.json: values and what CPython's repr() and str() print.

Run as `python3 gen_vectors.py > vectors.json` with a CPython whose
unicodedata.unidata_version is the Unicode version of Go's unicode tables
(unicode.Version): this file was made with CPython 3.12.1, whose Unicode
15.0.0 is that of Go 1.21 to 1.26. The randomness is seeded, so the file is
reproducible for one Python version.

The file holds:

  unidata_version: unicodedata.unidata_version of the Python that ran.
  printable: the code points for which str.isprintable() holds, as
      inclusive [first, last] ranges.
  cases: values encoded with type tags (so that Go can rebuild bytes,
      datetimes, big integers and exact floats; dicts as [key, value] pairs
      in insertion order) with their repr() and str().
"""

import base64
import datetime
import json
import math
import random
import struct
import sys
import unicodedata

rng = random.Random(20261128)


def printable_ranges():
    ranges, start = [], None
    for c in range(0x110000):
        if chr(c).isprintable():
            if start is None:
                start = c
        elif start is not None:
            ranges.append([start, c - 1])
            start = None
    if start is not None:
        ranges.append([start, 0x10FFFF])
    return ranges


PRINTABLE = printable_ranges()

# Code points on each side of every edge between printable and not, so
# that the escapes of each kind (\xhh, \uhhhh, \Uhhhhhhhh) and the
# characters written as they are all occur. Surrogates have no UTF-8 form
# and cannot be in a Go string.
EDGES = sorted({c for first, last in PRINTABLE
                for c in (first - 1, first, last, last + 1)
                if 0 <= c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF})

ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz") * 3
    + list("ABCXYZ0123456789") * 2
    + [" "] * 8
    + ["'"] * 6 + ['"'] * 6 + ["\\"] * 4
    + list("\t\n\r\x00\x01\x07\x0b\x0c\x1b\x1f\x7f")
    + ["\x80", "\x85", "\x9f", "\xa0", "\xad", "\xff", "é", "ß", "Ω", "Ж",
       "中文", "\u0301", "\u200b", "\u2028", "\u3000", "\ue000", "\ufeff",
       "\ufffd", "\uffff", "\U0001f600", "\U00010348", "\U000e0001",
       "\U000f0000", "\U0010ffff"]
)

SPECIAL_STRINGS = [
    "", " ", "'", '"', "''", '""', "'\"", "\"'", "a'b", 'a"b', "a'b\"c",
    "\\", "\\'", "\\\"", "it's", 'say "hi"', "it's \"x\"", "\\n", "\n",
    "line1\nline2", "tab\there", "esc\x1b[31mred", "nul\x00", "del\x7f",
    "None", "True", "x" * 100,
]


def rand_str():
    r = rng.random()
    if r < 0.2:
        return rng.choice(SPECIAL_STRINGS)
    n = rng.choice([1, 2, 3, 5, 8, 13, 30])
    if r < 0.5:
        return "".join(chr(rng.choice(EDGES)) for _ in range(n))
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def rand_float():
    r = rng.random()
    if r < 0.3:
        # Any bit pattern: every exponent, subnormals, nan and inf.
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if r < 0.6:
        # Around the powers of ten where repr changes notation.
        x = 10.0 ** rng.randint(-7, 18)
        return rng.choice([x, math.nextafter(x, 0), math.nextafter(x, math.inf),
                           -x, x * rng.choice([1.5, 2, 9.999, 0.123])])
    if r < 0.8:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
    return rng.choice([
        0.0, -0.0, 1.0, -1.5, 0.1, 0.2 + 0.1, 1 / 3, 2 / 3, 1e16, 1e15,
        9999999999999998.0, 123456789.125, 1e-4, 1e-5, 1.5e-5, 1.5e300,
        -2.5e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
        float("inf"), float("-inf"), float("nan"), 2.0 ** 53, 2.0 ** 63,
        2.0 ** 64, 1e22, 1e23,
    ])


def rand_int():
    return rng.choice([
        0, 1, -1, 42, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63),
        2**63, 2**64 - 1, rng.randint(-10**6, 10**6),
    ])


def rand_bytes():
    n = rng.choice([0, 1, 2, 3, 10, 40])
    pool = rng.choice([range(256), b"'\"\\\t\n\rab"])
    return bytes(rng.choice(pool) for _ in range(n))


def rand_datetime():
    return datetime.datetime(
        rng.choice([1, 999, 1970, 2026, 9999]), rng.randint(1, 12),
        rng.randint(1, 28), rng.choice([0, rng.randint(0, 23)]),
        rng.choice([0, rng.randint(0, 59)]), rng.choice([0, 0, 7, 59]),
        rng.choice([0, 0, 1, 10, 123456, 999999]))


def rand_key():
    if rng.random() < 0.3:
        return rand_str()
    return "".join(rng.choice("abcdefgh_-.0123") for _ in range(rng.randint(1, 8)))


def rand_value(depth):
    r = rng.random()
    if depth < 4 and r < 0.2:
        return {rand_key(): rand_value(depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 4 and r < 0.4:
        return [rand_value(depth + 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([
        lambda: None, lambda: True, lambda: False, rand_int, rand_float,
        rand_float, rand_str, rand_str, rand_str, rand_bytes, rand_datetime,
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
        # The bits, so that the NaN and -0.0 come back as they are.
        return {"t": "float", "v": struct.pack("<d", v).hex()}
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


def case(name, v):
    return {"name": name, "value": tag(v), "repr": repr(v), "str": str(v)}


cases = []
for i, s in enumerate(SPECIAL_STRINGS):
    cases.append(case("string %d" % i, s))
# Every edge code point, a few to a string.
for i in range(0, len(EDGES), 8):
    cases.append(case("edges %d" % i, "".join(chr(c) for c in EDGES[i:i + 8])))
cases.append(case("all bytes", bytes(range(256))))
for i in range(300):
    cases.append(case("float %d" % i, rand_float()))
for i in range(150):
    cases.append(case("str %d" % i, rand_str()))
for i in range(50):
    cases.append(case("bytes %d" % i, rand_bytes()))
for i in range(50):
    cases.append(case("datetime %d" % i, rand_datetime()))
for i in range(300):
    cases.append(case("value %d" % i, rand_value(0)))

out = {
    "unidata_version": unicodedata.unidata_version,
    "printable": PRINTABLE,
    "cases": cases,
}
# One case a line, so that a change shows as a change of the cases it touches.
sys.stdout.write("{\n")
sys.stdout.write('"unidata_version": %s,\n' % json.dumps(out["unidata_version"]))
sys.stdout.write('"printable": %s,\n' % json.dumps(out["printable"]))
sys.stdout.write('"cases": [\n' + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n}\n")
