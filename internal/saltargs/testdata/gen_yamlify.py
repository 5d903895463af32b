#!/usr/bin/env python3
"""Writes vectors.json: salt CLI argument words and the arg list Salt 3006
publishes for them.

Run as `python3 gen_yamlify.py > vectors.json`. The expectations come from
PyYAML's pure-Python SafeLoader (the base of Salt 3006's
SaltYamlSafeLoader), configured the way salt/utils/yamlloader.py configures
it, and from the rules of salt/utils/args.py (parse_kwarg, yamlify_arg,
parse_input, condition_input) and salt/payload.py (what msgpack is given),
restated here; Salt itself is not needed. Each case is a list of words and
the tagged value of the publication's arg, or {"t": "error"} where Salt
could not publish it (a value that refers to itself) or Brine will not (a
value nested more than 97 containers deep: transport/wire's limit is 100,
for the load that carries it too).

The randomness is seeded; this file was made with Python 3.11 and
PyYAML 6.0.3.
"""

import ast
import base64
import json
import random
import re
import sys

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode


class SaltLikeLoader(yaml.SafeLoader):
    """SafeLoader with the changes SaltYamlSafeLoader makes in 3006."""

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "not a mapping", node.start_mark)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            hash(key)  # TypeError for a list or dict key
            value = self.construct_object(value_node, deep=deep)
            if key in mapping:  # Salt refuses repeated keys
                raise ConstructorError(None, None, "conflicting ID", key_node.start_mark)
            mapping[key] = value
        return mapping

    def construct_scalar(self, node):
        if node.tag == "tag:yaml.org,2002:int":
            # Leading zeros do not make an octal int.
            if node.value != "0" and node.value.startswith("0") \
                    and not node.value.startswith(("0b", "0x")):
                node.value = node.value.lstrip("0") or "0"
        elif node.tag == "tag:yaml.org,2002:str":
            # A quoted unicode literal is evaluated. Salt uses eval();
            # only string literals are evaluated here, as Brine does.
            if re.match(r'^u([\'"]).+\1$', node.value, flags=re.IGNORECASE):
                value = ast.literal_eval(node.value)
                if not isinstance(value, str):
                    raise TypeError("not a str")
                node.value = value
        return super().construct_scalar(node)

    def construct_yaml_str(self, node):
        return self.construct_scalar(node)

    def construct_unicode(self, node):
        return node.value

    def flatten_mapping(self, node):
        merge = []
        index = 0
        while index < len(node.value):
            key_node, value_node = node.value[index]
            if key_node.tag == "tag:yaml.org,2002:merge":
                del node.value[index]
                if isinstance(value_node, MappingNode):
                    self.flatten_mapping(value_node)
                    merge.extend(value_node.value)
                elif isinstance(value_node, SequenceNode):
                    submerge = []
                    for subnode in value_node.value:
                        if not isinstance(subnode, MappingNode):
                            raise ConstructorError(None, None, "bad merge", subnode.start_mark)
                        self.flatten_mapping(subnode)
                        submerge.append(subnode.value)
                    for value in reversed(submerge):
                        merge.extend(value)
                else:
                    raise ConstructorError(None, None, "bad merge", value_node.start_mark)
            elif key_node.tag == "tag:yaml.org,2002:value":
                key_node.tag = "tag:yaml.org,2002:str"
                index += 1
            else:
                index += 1
        if merge:
            existing = [k.value for k, v in node.value]
            node.value = [x for x in merge if x[0].value not in existing] + node.value


SaltLikeLoader.add_constructor("tag:yaml.org,2002:str", SaltLikeLoader.construct_yaml_str)
SaltLikeLoader.add_constructor("tag:yaml.org,2002:python/unicode", SaltLikeLoader.construct_unicode)
SaltLikeLoader.add_constructor("tag:yaml.org,2002:timestamp", SaltLikeLoader.construct_scalar)

KWARG = re.compile(r"^([^\d\W][\w.-]*)=(?!=)(.*)$", re.UNICODE)


def yamlify(arg):
    if arg.strip() in ("", "---", "..."):
        return arg
    if "_" in arg and all(x in "0123456789_" for x in arg.strip()):
        return arg
    if any(c in arg for c in "\t\r\n"):
        return arg
    original = arg
    try:
        if "#" in arg:
            parsed = yaml.load(arg, Loader=SaltLikeLoader)
            if isinstance(parsed, str) or parsed is None:
                return arg
            return parsed
        arg = None if arg == "None" else yaml.load(arg, Loader=SaltLikeLoader)
        if isinstance(arg, dict):
            return arg if original.startswith("{") else original
        if isinstance(arg, list):
            return arg if original.startswith("[") else original
        if arg is None or isinstance(arg, (float, int, str)):
            if arg == "" and original in ("|", "!"):
                return original
            if arg is None and (original.strip().startswith("#") or original == "!"):
                return original
            return arg
        return original
    except Exception:
        return original


def parse(words):
    args, kwargs = [], {}
    for w in words:
        m = KWARG.match(w)
        if m:
            kwargs[m.group(1)] = yamlify(m.group(2))
        else:
            args.append(yamlify(w))
    out = [str(a) if isinstance(a, int) and not isinstance(a, bool) and len(str(a)) == 20 else a
           for a in args]
    if kwargs:
        kw = {"__kwarg__": True}
        kw.update(kwargs)
        out.append(kw)
    return out


class Unpublishable(Exception):
    pass


def nesting(v, seen=()):
    """How many containers deep v goes; Unpublishable if it holds itself."""
    if isinstance(v, (list, tuple, set, dict)):
        if id(v) in seen:
            raise Unpublishable()
        seen = seen + (id(v),)
        items = list(v.items()) if isinstance(v, dict) else [(None, x) for x in v]
        return 1 + max([0] + [max(nesting(k, seen), nesting(x, seen)) for k, x in items])
    return 0


def check(published):
    """Brine refuses an argument nested more than 97 containers deep, so
    that the load carrying it (load, arg list, kwarg map) stays within
    transport/wire's 100."""
    for a in published:
        if isinstance(a, dict) and "__kwarg__" in a:
            for x in a.values():
                if nesting(x) > 97:
                    raise Unpublishable()
        elif nesting(a) > 97:
            raise Unpublishable()


def tag(v):
    """The value as msgpack would carry it, tagged for the Go side."""
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        if -(2**63) <= v < 2**64:
            return {"t": "int", "v": str(v)}
        return {"t": "str", "v": str(v)}  # salt.payload sends big ints as str
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, bytes):
        return {"t": "bytes", "v": base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple, set)):
        return {"t": "list", "v": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"t": "map", "v": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def case(words):
    try:
        published = parse(words)
        check(published)
        want = tag(published)
    except Unpublishable:
        want = {"t": "error"}
    return {"args": words, "want": want}


FIXED = [
    ["1", "two", "three=3"], ["echo hi", "cwd=/"], ["a=b c"], ["key = value"],
    ["key=value=more"], ["a==b"], ["=a"], ["1a=b"], ["a-b.c=d"], ["_a=1"], ["é=1"],
    ["a=b", "a=c"], ["__kwarg__=false", "x=1"], ["a=b\n"], ["a=b\nc"], [""], [" "],
    ["---"], ["..."], ["1_000"], ["-1_000"], ["0_7"], ["a\tb"], ["1", "None", "null",
    "~", "Null", "NULL"], ["true", "True", "yes", "no", "on", "off", "Off", "y", "n"],
    ["1.0.0", "1.0", "1.", ".5", "1e3", "1.0e3", "1.0e+3", "-.inf", ".nan", "1:30",
     "1:30.5", "190:20:30"], ["0x1F", "0b101", "010", "00", "08", "0o17", "+7", "-0"],
    ["12345678901234567890", "-1234567890123456789", "123456789012345678901",
     "99999999999999999999", "18446744073709551616", "-9223372036854775809"],
    ["2024-01-02", "2024-01-02 03:04:05", "2024-1-2T3:04:05Z"],
    ["{a: 1}", "{'a': 1}", '{"a": 1}', "{a: [1, 2], b: {c: d}}", " {a: 1}", "a: 1",
     "{a:1}", "{a:}", "{a: 1, a: 2}", "{1: a, 1.0: b}", "{1: a, true: b}", "{1: a}",
     "{true: a, null: b, 1.5: c}", "{[1]: a}", "{? a}", "{a, b}"],
    ["[1,2]", "[1, 2]", "[a, [b, c]]", "[]", "{}", "- a", "[1, 2,]", "[a:]", "[a:b]",
     "[? a: b]"],
    ["#", "# c", "a #b", "a#b", "[1] #c", "{a: 1} # c", "a: 1 # c", "- a # c",
     "1 # c", "yes # c", "'quoted' # c", "!!binary aGk= #c", "!!set {a} #c"],
    ["|", "!", ">", "|-", "! 12", "!!str 1", "!!int '7'", "!!float 1", "!!bool maybe",
     "!!null x", "!!binary aGk=", "!foo bar", "!!python/unicode x", "!!timestamp 2001-01-01",
     "!!omap [a: 1, b: 2]", "[!!omap [a: 1]]", "!!set {a, b}"],
    ["'it''s'", '"a\\tb"', '"\\u00e9"', '"\\z"', "'x", "x'", "u'x'", 'u"x"', "U'x'",
     "u'a\\nb'", "u'a' 'b'", "u'a' + 'b'", "u''", "u'''a'''", "'u\\'x\\''"],
    ["&a [1, *a]", "[&a [1], *a]", "[&a [1, *a]]", "&a {b: *a}", "*a", "&a", "&a x"],
    ["{<<: {a: 1}, b: 2}", "{<<: [{a: 1}, {a: 2, c: 3}], b: 2}", "{<<: {b: 1}, b: 2}",
     "{=: 1}", "<<", "="],
    ["%foo", "--- a", "... a", "@a", "`a", "a: b: c", "? a", ":", "-", "[-]",
     "http://example.com/x?y=1", "[http://x?y=1]", "C:\\path", "1 2", "a, b"],
    ["[" * 97 + "]" * 97, "[" * 97 + "1" + "]" * 97], ["[" * 98 + "]" * 98],
    ["k=" + "[" * 98 + "]" * 98], ["[" * 150 + "]" * 150],
]

TOKENS = ["a", "b", "x1", "1", "0", "-", ":", " ", ", ", ",", "[", "]", "{", "}", "'",
          '"', "#", "!", "!!str ", "!!int ", "&a ", "*a", "?", "|", ">", "%", "@", "=",
          "_", ".", "yes", "null", "~", "0x", "1.5", "e+3", "u'", "\\", "é", "<<", "---",
          "...", ": ", "- ", "2024-01-02", "12", "9"]

rng = random.Random(1127)
cases = [case(w) for w in FIXED]
for _ in range(700):
    words = []
    for _ in range(rng.randint(1, 3)):
        w = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 7)))
        if rng.random() < 0.25:
            w = rng.choice(["k", "name", "a.b", "x-y"]) + "=" + w
        words.append(w)
    cases.append(case(words))

sys.stdout.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n")
