"""Bundle the datasets and the solution notebooks into the wheel, as package data.

They stay at the top of the repository, where learners and authors find them (``datasets/``,
``notebooks/``); an installed wheel has no repository, so ``build_py`` copies them into the
build tree as ``course/_bundled/datasets`` and ``course/_bundled/notebooks``, and
``course.files`` finds them there. Why a build step and not configuration alone:

- mapping extra packages onto those folders in ``package-dir`` makes setuptools give up the
  plain ``.pth`` editable install for its import-finder mode, with its warning box (see the
  comment in pyproject.toml), and makes ``datasets/build.py`` an installed module;
- ``data-files`` land outside the package (``<prefix>/share``), where code must guess the prefix;
- symbolic links in the repository break on Windows checkouts.

An editable install skips the copy: ``course.files`` reads the repository's folders there.
MANIFEST.in puts the two folders in the sdist, so a wheel built from the sdist has them too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = {  # folder in the repository -> the files of it a wheel carries
    "datasets": ("*.csv", "*.toml", "README.md"),
    "notebooks": ("*.ipynb",),  # the solution notebooks only: not notebooks/learner/
}


class BuildPyWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for folder, patterns in BUNDLED.items():
            target = Path(self.build_lib, "course", "_bundled", folder)
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            files = sorted({path for pattern in patterns for path in (HERE / folder).glob(pattern)})
            if not files:
                raise SystemExit(f"setup.py: no {patterns} in {HERE / folder}: nothing to bundle")
            for path in files:
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildPyWithBundle})
