"""`pip install --no-build-isolation .` into a --system-site-packages venv yields a working cscore.

Under CTest (CSCORE_BUILD_DIR set) the install reuses that CMake tree, so only the packaging
runs; standalone, setup.py configures and builds a fresh tree in a temporary directory.
"""
import os
import subprocess
import sys
import venv

import pytest


def test_pip_install_into_venv(tmp_path, repo_root):
    if sys.executable != "/usr/bin/python3" and not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs Debian's interpreter")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PIP_NO_INDEX"] = "1"  # offline: every dependency must come from Debian
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["CSCORE_PIP_BUILD_BASE"] = str(tmp_path / "build")
    if os.environ.get("CSCORE_BUILD_DIR"):
        env["CSCORE_CMAKE_BUILD_DIR"] = os.environ["CSCORE_BUILD_DIR"]
    # Debian's pip serves the venv (its own copy is not needed: system site packages).
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-build-isolation", str(repo_root)],
                   env=env, check=True, cwd=tmp_path, timeout=1500)
    out = subprocess.run(
        [str(py), "-c", "import cscore, numpy, pathlib; f = cscore.Frame({'v': numpy.ones(3)}); "
         "print(cscore.__file__); print(len(f)); d = pathlib.Path(cscore.__file__).parent; "
         "print((d / '_cscore.pyi').exists() and (d / 'py.typed').exists())"],
        env=env, check=True, cwd=tmp_path, capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(env_dir))
    assert out[1] == "3"
    assert out[2] == "True"  # the type stubs install with the package
