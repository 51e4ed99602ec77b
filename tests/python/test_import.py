import cscore


def test_package_imports_compiled_core():
    assert cscore.__version__ == "0.1.0"
    assert cscore._cscore.__doc__.startswith("cscore")
