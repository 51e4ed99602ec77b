#!/usr/bin/env python3
"""Writes cscore/_cscore.pyi, the type stub of the compiled extension, from the signatures
pybind11 records in each function's docstring.

    PYTHONPATH=build-py/python /usr/bin/python3 bindings/python/stubgen.py

Rerun it after changing a binding; tests/python/test_stubs.py fails while the stub misses a
public name of the extension. The pure-Python modules carry inline annotations (py.typed).
"""
import inspect
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "cscore" / "_cscore.pyi"

_TYPING = ("Any", "Callable", "Dict", "Iterable", "Iterator", "List", "Optional", "Sequence",
           "Tuple", "Union", "ClassVar", "overload")


def _clean_type(t: str) -> str:
    t = t.strip()
    t = t.replace("cscore._cscore.", "")
    # numpy.ndarray[numpy.float64[m, 1]] and the like: drop the (nested) brackets.
    while "numpy.ndarray[" in t:
        start = t.index("numpy.ndarray[") + len("numpy.ndarray")
        depth, end = 0, start
        for end in range(start, len(t)):
            depth += {"[": 1, "]": -1}.get(t[end], 0)
            if depth == 0:
                break
        t = t[:start] + t[end + 1:]
    if t in ("buffer", "handle", "capsule"):
        return "Any"
    if "::" in t or t.startswith("std") or "<" in t:
        return "Any"
    return t


def _split_args(args: str) -> list:
    out, depth, cur, quote = [], 0, "", None
    for ch in args:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def _signature(line: str, name: str, is_method: bool) -> str:
    """`name(a: int, b: str = 'x') -> int` as a stub `def` line."""
    m = re.match(rf"^{re.escape(name)}\((.*)\)\s*->\s*(.+)$", line.strip())
    if not m:
        return f"def {name}(*args: Any, **kwargs: Any) -> Any: ..."
    params = []
    for i, p in enumerate(_split_args(m.group(1))):
        p = p.strip()
        if p in ("*", "/") or p.startswith("*"):
            params.append(p)
            continue
        default = ""
        if "=" in p:
            p, _ = p.split("=", 1)
            default = " = ..."
        pname, _, ptype = p.partition(":")
        pname = pname.strip()
        if is_method and i == 0 and pname == "self":
            params.append("self")
            continue
        ptype = _clean_type(ptype) if ptype else "Any"
        params.append(f"{pname}: {ptype}{default}")
    return f"def {name}({', '.join(params)}) -> {_clean_type(m.group(2))}: ..."


def _doc_lines(obj) -> list:
    return (getattr(obj, "__doc__", None) or "").strip().splitlines()


def _summary(lines: list) -> str:
    text = " ".join(l.strip() for l in lines[1:] if l.strip() and not re.match(r"^\d+\.", l))
    return text.replace('"""', "'''")


def _function(obj, name: str, indent: str, is_method: bool, static: bool = False) -> list:
    lines = _doc_lines(obj)
    out = []
    if lines and lines[0].startswith("Overloaded function"):
        sigs = [l.split(". ", 1)[1] for l in lines if re.match(r"^\d+\. ", l)]
        for s in sigs:
            if static:
                out.append(f"{indent}@staticmethod")
            out.append(f"{indent}@overload")
            out.append(indent + _signature(s, name, is_method and not static))
        return out
    if static:
        out.append(f"{indent}@staticmethod")
    sig = _signature(lines[0] if lines else "", name, is_method and not static)
    doc = _summary(lines)
    if doc:
        sig = sig[:-4] + f'\n{indent}    """{doc}"""'
    out.append(indent + sig)
    return out


def _property(prop, name: str, indent: str) -> list:
    lines = _doc_lines(prop.fget) if prop.fget is not None else []
    ret = "Any"
    if lines:
        m = re.search(r"->\s*(.+)$", lines[0])
        if m:
            ret = _clean_type(m.group(1))
    doc = _summary(lines) or (prop.__doc__ or "").strip()
    out = [f"{indent}@property", f"{indent}def {name}(self) -> {ret}:"]
    out.append(f'{indent}    """{doc}"""' if doc else f"{indent}    ...")
    return out


def _class(cls, name: str) -> list:
    bases = [b.__name__ for b in cls.__bases__ if b.__name__ not in ("object", "pybind11_object")]
    header = f"class {name}({', '.join(bases)}):" if bases else f"class {name}:"
    out = [header]
    doc = (cls.__doc__ or "").strip().replace('"""', "'''")
    if doc:
        out.append(f'    """{doc}"""')
    members = getattr(cls, "__members__", None)
    if isinstance(members, dict):  # a pybind11 enum
        for m in members:
            out.append(f"    {m}: ClassVar[{name}]")
        out.append("    def __init__(self, value: int) -> None: ...")
        out.append("    @property\n    def name(self) -> str: ...")
        out.append("    @property\n    def value(self) -> int: ...")
        return out
    if issubclass(cls, BaseException):
        out.append("    code: str")
        return out
    for attr, obj in cls.__dict__.items():
        if attr.startswith("_") and attr not in ("__init__", "__len__"):
            continue
        if isinstance(obj, property):
            out += _property(obj, attr, "    ")
        elif isinstance(obj, staticmethod):
            out += _function(obj.__func__, attr, "    ", True, static=True)
        elif callable(obj):
            out += _function(obj, attr, "    ", True)
    return out


def generate(module) -> str:
    out = ['"""Type stubs of cscore._cscore (generated by bindings/python/stubgen.py)."""',
           "from typing import " + ", ".join(_TYPING), "", "import numpy", ""]
    names = sorted(n for n in dir(module) if not n.startswith("_"))
    classes = [n for n in names if inspect.isclass(getattr(module, n))]
    # Base classes first, so every base is defined before it is used.
    ordered, seen = [], set()

    def visit(n):
        if n in seen or n not in classes:
            return
        for b in getattr(module, n).__bases__:
            visit(b.__name__)
        seen.add(n)
        ordered.append(n)

    for n in classes:
        visit(n)
    for n in ordered:
        out += _class(getattr(module, n), n) + [""]
    for n in names:
        obj = getattr(module, n)
        if n in classes:
            continue
        if callable(obj):
            out += _function(obj, n, "", False) + [""]
        else:
            out += [f"{n}: {type(obj).__name__}", ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    # The source tree's cscore/ sits beside this script; import the built one from PYTHONPATH.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    from cscore import _cscore
    text = generate(_cscore)
    compile(text, str(OUT), "exec")  # the stub must be valid Python
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
