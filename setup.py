"""Builds and installs the `cephtrace` Python package (README: "Use CephTrace from Python").

    pip install --no-build-isolation .      # offline, with Debian's setuptools and pybind11

The extension is the CMake target cephtrace_python (python/CMakeLists.txt), built in the
project's build folder (build/, or $CEPHTRACE_BUILD_DIR): after scripts/setup.sh only the
module is left to link. The package carries a copy of models/, so that an installed
Predictor() finds the shipped models wherever it runs.
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def project_version():
    """The version of CMakeLists.txt's project() (one place for it)."""
    match = re.search(r"project\(cephtrace VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    return match.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("CEPHTRACE_BUILD_DIR", ROOT / "build")).resolve()
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCEPHTRACE_PYTHON_MODULE=ON",
                     # the interpreter itself, not a venv's link to it, which may go away
                     f"-DPython3_EXECUTABLE={os.path.realpath(sys.executable)}"]
        try:  # a pip-installed pybind11 keeps its CMake files in the package (Debian's: no)
            import pybind11
            if (Path(pybind11.get_cmake_dir()) / "pybind11Config.cmake").is_file():
                configure.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
        except ImportError:
            pass
        subprocess.check_call(configure)
        jobs = os.environ.get("JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "cephtrace_python", "-j", jobs])
        built = build_dir / "python" / "cephtrace" / ("_cephtrace" + sysconfig.get_config_var("EXT_SUFFIX"))
        if not built.is_file():
            sys.exit(f"setup.py: the build made no {built} (is python3-dev for {sys.executable} installed?)")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)


class BuildPyWithModels(build_py):
    def run(self):
        super().run()
        models = Path(self.build_lib) / "cephtrace" / "models"
        shutil.rmtree(models, ignore_errors=True)
        shutil.copytree(ROOT / "models", models)


setup(
    version=project_version(),
    package_dir={"": "python"},
    packages=["cephtrace"],
    ext_modules=[Extension("cephtrace._cephtrace", sources=[])],
    cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithModels},
    # setuptools' own build folders go beside CMake's, inside build/
    options={"build": {"build_base": str(Path("build") / "setuptools")}},
    zip_safe=False,
)
