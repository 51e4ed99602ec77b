"""Every public name is documented and typed: docstrings on everything in `cscore.__all__`
(and on their public members), inline annotations in the pure-Python modules (py.typed),
and a `_cscore.pyi` stub, installed with the package, that names every public symbol of the
compiled extension."""
import ast
import importlib
import inspect
from pathlib import Path

import pytest

import cscore
from cscore import _cscore

PACKAGE = Path(cscore.__file__).resolve().parent
MODULES = ["cscore." + n for n in
           ["frame", "history", "model", "scorecard", "risk", "engine", "display", "plots",
            "dask", "cel", "cta", "rules", "escalation"]]


def _modules():
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(name))
        except ImportError as e:  # a module whose C++ capability is not built
            if "_cscore" not in str(e) and "cannot import" not in str(e):
                raise
    return out


def _own_members(cls):
    for name, obj in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        if isinstance(obj, property) or inspect.isfunction(obj):
            yield name, obj


def test_every_public_name_has_a_docstring():
    missing = []
    names = [(cscore, n) for n in cscore.__all__ if n != "__version__"]
    for mod in _modules():
        names += [(mod, n) for n in getattr(mod, "__all__", [])]
    for mod, name in names:
        obj = getattr(mod, name)
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(f"{mod.__name__}.{name}")
        if inspect.isclass(obj) and obj.__module__.startswith("cscore"):
            for member, m in _own_members(obj):
                if not (m.__doc__ or "").strip():
                    missing.append(f"{mod.__name__}.{name}.{member}")
    assert not missing, f"no docstring: {missing}"
    for mod in _modules():
        assert (mod.__doc__ or "").strip(), f"{mod.__name__} has no module docstring"


def test_pure_python_api_is_annotated():
    assert (PACKAGE / "py.typed").exists()
    missing = []
    for mod in _modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                if "return" not in obj.__annotations__:
                    missing.append(f"{mod.__name__}.{name}")
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for member, m in _own_members(obj):
                    fn = m.fget if isinstance(m, property) else m
                    if fn is not None and "return" not in fn.__annotations__:
                        missing.append(f"{mod.__name__}.{name}.{member}")
    assert not missing, f"no return annotation: {missing}"


def _stub_names(tree):
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members[node.name].add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members[node.name].add(item.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
    return top, members


def test_extension_stub_names_every_public_symbol():
    stub = PACKAGE / "_cscore.pyi"
    assert stub.exists(), "run bindings/python/stubgen.py"
    tree = ast.parse(stub.read_text())
    top, members = _stub_names(tree)
    missing = []
    for name in dir(_cscore):
        if name.startswith("_"):
            continue
        if name not in top:
            missing.append(name)
            continue
        obj = getattr(_cscore, name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException) and \
                not hasattr(obj, "__members__"):
            for member in vars(obj):
                if not member.startswith("_") and member not in members.get(name, set()):
                    missing.append(f"{name}.{member}")
    assert not missing, f"_cscore.pyi misses {missing}: rerun bindings/python/stubgen.py"

