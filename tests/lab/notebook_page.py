"""A notebook open in JupyterLab, driven the way a learner drives it: menus, clicks, keys.

Waits are on what the page shows (a cell's prompt turning from ``[*]`` to ``[7]``, the kernel
indicator saying idle), each bounded, never a fixed sleep.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ERROR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
"""Where JupyterLab 4 shows a traceback: the output of an ``error`` message (the pink box)."""
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
"""Text a cell wrote to stderr (warnings, a traceback printed by hand): pink too."""
FEEDBACK = ".jp-OutputArea-output .course-feedback"

_SETTLED = """(panel) => {
    const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    if (!indicator || indicator.dataset.status !== 'idle') return false;
    const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
    return !prompts.some((prompt) => prompt.textContent.includes('*'));
}"""
"""Nothing left to run: no cell is queued or running (``[*]``) and the kernel is idle. A cell
that raises ends Run All there (the cells below keep ``[ ]``), so this is not "all ran"."""


class NotebookPage:
    """One notebook in one browser tab; ``cells`` in the order of the file's cells."""

    def __init__(self, page: Any, path: Path) -> None:
        self.page = page
        self.path = path
        self.source = json.loads(path.read_text(encoding="utf-8"))["cells"]
        self.panel = page.locator(".jp-NotebookPanel").first

    @contextmanager
    def step(self, doing: str) -> Iterator[None]:
        """Turn a failure while ``doing`` into one that says what the page showed, with a
        screenshot of it (a timeout alone does not say whether a dialog was in the way)."""
        try:
            yield
        except Exception as error:
            shot = Path(tempfile.mkdtemp(prefix="course-lab-")) / f"{self.path.stem}.png"
            try:
                self.page.screenshot(path=str(shot))
                state = self.state()
            except Exception as unseen:
                state = f"the page could not be read ({unseen})"
            raise AssertionError(f"{self.path.name}: {doing} failed ({type(error).__name__}): "
                                 f"{state}; the page: {shot}") from error

    def open(self, address: str, timeout: float = 60) -> NotebookPage:
        with self.step("opening"):
            # ?reset: a fresh workspace, so no tab restored from an earlier test comes along
            self.page.goto(address.replace("?", "?reset&", 1))
            last = self.cells.nth(len(self.source) - 1)
            last.wait_for(state="attached", timeout=timeout * 1000)
            assert self.cells.count() == len(self.source), "JupyterLab shows another notebook"
            self.panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
                state="attached", timeout=timeout * 1000
            )
        return self

    @property
    def cells(self) -> Any:
        return self.panel.locator(".jp-Cell")

    def cell(self, index: int) -> Any:
        return self.cells.nth(index)

    def tagged(self, tag: str) -> list[int]:
        """The indexes of the cells carrying ``tag`` in the notebook file."""
        return [
            index for index, cell in enumerate(self.source)
            if tag in cell.get("metadata", {}).get("tags", [])
        ]

    def text(self, index: int) -> str:
        source = self.source[index]["source"]
        return "".join(source) if isinstance(source, list) else str(source)

    def find(self, text: str) -> int:
        """The index of the first cell whose source holds ``text``."""
        return next(index for index in range(len(self.source)) if text in self.text(index))

    def run_all(self, timeout: float = 150) -> None:
        """Run > Run All Cells, as a learner does; return once every cell has run.

        The notebook is clicked first: JupyterLab's menu acts on the widget that has focus. And
        in the first seconds after a kernel starts, its indicator already says idle but the
        command is dropped (seen 1 time in 2 on a fresh kernel): a command that took turns the
        prompts to ``[*]`` at once, so after 3 s without that the learner's click is repeated.
        """
        for _ in range(10):
            with self.step("Run > Run All Cells"):
                self.cell(0).locator(".jp-InputPrompt").click()
                self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                self.page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
            try:
                self.page.wait_for_function(
                    """(panel) => Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                        .some((prompt) => /\\[[*\\d]/.test(prompt.textContent))""",
                    arg=self.panel.element_handle(), timeout=3000, polling=100,
                )
                break
            except Exception:
                continue
        self.settle(timeout)
        prompts = self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        stopped = [number for number, prompt in enumerate(prompts) if "[ ]" in prompt]
        assert not stopped, (f"Run All stopped at code cell {stopped[0]} (from 1) of "
                             f"{self.path.name}: {self.state()}; shown: {self.errors()}")

    def settle(self, timeout: float = 60) -> None:
        try:
            self.page.wait_for_function(
                _SETTLED, arg=self.panel.element_handle(), timeout=timeout * 1000, polling=200
            )
        except Exception as error:
            raise AssertionError(f"{self.path.name} did not finish running in {timeout} s: "
                                 f"{self.state()}") from error

    def state(self) -> str:
        """The kernel's status and every code cell's prompt, for a failure message."""
        status, prompts = self.panel.evaluate("""(panel) => [
            panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status,
            Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'),
                       (prompt) => prompt.textContent.trim()),
        ]""")
        dialogs = self.page.locator(".jp-Dialog").all_inner_texts()
        return f"kernel {status}, prompts {' '.join(prompts)}" + (
            f", a dialog is open: {dialogs}" if dialogs else "")

    def edit(self, index: int, text: str) -> None:
        """Replace the source of cell ``index`` with ``text``, typed into its editor."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)  # no auto-indent or auto-closed brackets
        self.page.keyboard.press("Escape")

    def run(self, index: int, timeout: float = 60) -> None:
        """Select cell ``index``, press Ctrl+Enter, and wait until it has run again."""
        prompt = self.cell(index).locator(".jp-InputPrompt")
        before = prompt.text_content()
        prompt.click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            """([prompt, before]) => prompt.textContent !== before
                && /\\[\\d+\\]/.test(prompt.textContent)""",
            arg=[prompt.element_handle(), before],
            timeout=timeout * 1000,
        )
        self.settle(timeout)

    def outputs(self, index: int) -> Any:
        return self.cell(index).locator(".jp-OutputArea-output")

    def errors(self) -> list[str]:
        """The text of every traceback (and stderr text) shown in the notebook."""
        shown = self.panel.locator(f"{ERROR}, {STDERR}")
        return [shown.nth(i).inner_text() for i in range(shown.count())]
