"""Build glue for `pip install --no-build-isolation .`: CMake builds the `_cscore` extension.

Only the Python target is built (tests and benchmarks off). Environment knobs:
  CSCORE_CMAKE_BUILD_DIR  reuse an already configured CMake build tree instead of a fresh one
  CSCORE_PIP_BUILD_BASE   where setuptools and the fresh CMake tree build (default build-pip/)
  CSCORE_JOBS             parallel build jobs (default: the number of CPUs)
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
BUILD_BASE = Path(os.environ.get("CSCORE_PIP_BUILD_BASE", ROOT / "build-pip")).resolve()


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        jobs = os.environ.get("CSCORE_JOBS", str(os.cpu_count() or 2))
        build_dir = os.environ.get("CSCORE_CMAKE_BUILD_DIR")
        if not build_dir:
            build_dir = str(BUILD_BASE / "cmake")
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.check_call([
                "cmake", "-S", str(ROOT), "-B", build_dir, *generator,
                "-DCMAKE_BUILD_TYPE=Release", "-DCSCORE_BUILD_PYTHON=ON",
                "-DCSCORE_BUILD_TESTS=OFF", "-DCSCORE_BUILD_BENCHMARKS=OFF",
                f"-DPython_EXECUTABLE={sys.executable}",
            ])
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "cscore_python",
                               "-j", jobs])
        built = sorted((Path(build_dir) / "python" / "cscore").glob("_cscore*.so"))
        if not built:
            raise RuntimeError(f"CMake produced no _cscore extension in {build_dir}")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], dest)


BUILD_BASE.mkdir(parents=True, exist_ok=True)
setup(
    ext_modules=[CMakeExtension("cscore._cscore")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(BUILD_BASE)},
             "egg_info": {"egg_base": str(BUILD_BASE)}},
    zip_safe=False,
)
