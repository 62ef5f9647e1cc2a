from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import notebooks


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def executed_notebook():
    """A notebook as Jupyter leaves it: counts from a messy session, metadata everywhere."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell(
                "x = 1\nx",
                execution_count=7,
                outputs=[
                    new_output(
                        "execute_result",
                        data={"text/plain": "1"},
                        execution_count=7,
                        metadata={"scrolled": True},
                    )
                ],
            ),
            new_code_cell(
                "print(x)",
                execution_count=12,
                outputs=[new_output("stream", name="stdout", text="1\n")],
            ),
        ],
        metadata={
            "kernelspec": {"name": "my-env", "display_name": "My env", "language": "python"},
            "language_info": {"name": "python", "version": "3.11.9"},
            "widgets": {"state": {}},
        },
    )
    nb.cells[1].metadata.update({"tags": ["keep-me"], "collapsed": True, "execution": {"t": 1}})
    return nb


def test_normalize_keeps_tags_outputs_and_a_fixed_kernel():
    nb = notebooks.normalize(executed_notebook())
    assert nb.metadata == {"kernelspec": notebooks.KERNELSPEC, "language_info": {"name": "python"}}
    assert nb.cells[1].metadata == {"tags": ["keep-me"]}
    assert nb.cells[2].metadata == {}
    assert nb.cells[1].outputs[0].data == {"text/plain": "1"}
    assert nb.cells[1].outputs[0].metadata == {}


def test_normalize_renumbers_execution_counts_top_to_bottom():
    nb = notebooks.normalize(executed_notebook())
    assert [cell.execution_count for cell in nb.cells[1:]] == [1, 2]
    assert nb.cells[1].outputs[0].execution_count == 1


def test_normalize_leaves_unexecuted_cells_unnumbered():
    nb = notebooks.normalize(new_notebook(cells=[new_code_cell("x = 1")]))
    assert nb.cells[0].execution_count is None


def test_normalize_is_idempotent_and_keeps_cell_ids():
    original = executed_notebook()
    once = notebooks.normalize(original)
    twice = notebooks.normalize(once)
    assert notebooks.dumps(once) == notebooks.dumps(twice)
    assert [cell.id for cell in once.cells] == [cell.id for cell in original.cells]


def test_normalize_repairs_duplicate_ids_the_same_way_each_time():
    nb = executed_notebook()
    nb.cells[2].id = nb.cells[1].id
    first, second = notebooks.normalize(nb), notebooks.normalize(nb)
    assert len({cell.id for cell in first.cells}) == 3
    assert [c.id for c in first.cells] == [c.id for c in second.cells]


def test_normalize_does_not_touch_its_input():
    nb = executed_notebook()
    notebooks.normalize(nb)
    assert nb.cells[1].execution_count == 7


def test_is_normalized_compares_the_file_with_its_canonical_form(tmp_path):
    path = tmp_path / "n.ipynb"
    nbformat.write(executed_notebook(), path)
    assert not notebooks.is_normalized(path)
    notebooks.write(notebooks.normalize(notebooks.read(path)), path)
    assert notebooks.is_normalized(path)


def problems_of(*cells):
    return notebooks.problems(new_notebook(cells=list(cells)))


def ran(source, *outputs, tags=()):
    cell = new_code_cell(source, execution_count=1, outputs=list(outputs))
    return tagged(cell, *tags) if tags else cell


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        (new_code_cell("x = 1"), "has not been executed"),
        (
            ran("import warnings", new_output("stream", name="stderr", text="UserWarning: x\n")),
            "writes to stderr ('UserWarning: x')",
        ),
        (
            ran(
                "plt.plot([1])",
                new_output("execute_result", data={"text/plain": "[<matplotlib.lines.Line2D>]"}),
            ),
            "end the cell with plt.show()",
        ),
        (
            ran(
                "fig",
                new_output(
                    "display_data", data={"text/plain": "<Figure size 640x480 with 1 Axes>"}
                ),
            ),
            "end the cell with plt.show()",
        ),
        (
            ran("1 / 0", new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])),
            "failed with ZeroDivisionError",
        ),
        (ran("time.time()", tags=["nbval-ignore-output"]), "without a reason"),
        (ran("model.fit(X, y);"), "ends with ';'"),
        (ran("import tensorflow as tf"), "imports TensorFlow/Keras before"),
    ],
)
def test_problems_name_the_cell_and_the_fix(cell, says):
    found = problems_of(new_markdown_cell("# Title"), cell)
    assert len(found) == 1, found
    assert found[0].startswith("cell 2 ")
    assert says in found[0]


def test_what_the_rules_allow():
    image = new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure size 640x480>"}
    )
    described = new_output("stream", name="stdout", text="Figure: the forest ties the tree.\n")
    assert not problems_of(
        ran('plots.plot_cv_scores(scores, title="CV")\nplots.show("the forest ties the tree.")',
            image, described),
        ran(
            "1 / 0",
            new_output("error", ename="ZeroDivisionError", evalue="", traceback=[]),
            tags=["raises-exception"],
        ),
        ran(
            "# nbval-ignore-output: the time of day changes\nprint(time.time())",
            tags=["nbval-ignore-output"],
        ),
        ran(
            'import os\nos.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"\n'
            'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"\nimport keras'
        ),
        tagged(new_code_cell("# nbval-skip: needs a GPU\ntrain()"), "nbval-skip"),
    )


def test_a_figure_needs_its_description():
    image = new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    (found,) = problems_of(ran("plt.plot([1])\nplt.show()", image))
    assert found.startswith("cell 1 shows a figure without a description")
    assert "plots.show(" in found


def evaluation(text="## Step 6 · Evaluate, once"):
    return tagged(new_markdown_cell(text), "evaluation")


SPLIT = "X_train, y_train, test_set = recipes.penguin_split()"
OPEN = "X_test, y_test = test_set.open()"


def test_the_test_set_opened_once_after_the_evaluation_cell_is_the_rule():
    assert not notebooks.test_set_problems(new_notebook(cells=[
        ran(SPLIT),
        ran("print(len(test_set), test_set.label_shares)"),
        ran("cross_val_score(model, X_train, y_train, cv=5)"),
        evaluation(),
        ran(OPEN),
        ran("print(report(model, X_test, y_test))"),
    ]))


@pytest.mark.parametrize(
    ("cells", "says"),
    [
        ([ran(SPLIT), ran(OPEN), evaluation()], "cell 2 opens the test set before the evaluation"),
        ([ran(SPLIT), ran(OPEN)], "cell 2 opens the test set before the evaluation"),
        (
            [ran("X_train, X_test, y_train, y_test = train_test_split(X, y)"), evaluation()],
            "cell 1 uses test rows (X_test) before the evaluation step",
        ),
        (
            [ran(SPLIT), ran("model.score(test_set._X, test_set._y)"), evaluation()],
            "cell 2 reaches inside a sealed test set",
        ),
        (
            [ran(SPLIT), evaluation(), ran(OPEN), ran("again = test_set.open()")],
            "cells 3, 4 open the test set 2 times",
        ),
        (
            [ran(SPLIT), evaluation(), ran(OPEN),
             ran("checks.measurements_model(model, X_test, y_test)", tags=["check"])],
            "cell 4 is a check given test rows (X_test)",
        ),
    ],
)
def test_the_test_set_rule_names_the_cell_and_the_breach(cells, says):
    found = notebooks.test_set_problems(new_notebook(cells=cells))
    assert any(says in problem for problem in found), found


def test_a_name_used_many_times_in_one_cell_is_reported_once():
    found = notebooks.test_set_problems(
        new_notebook(cells=[ran("a = X_test\nb = X_test\nc = X_test")])
    )
    assert found == [
        "cell 1 uses test rows (X_test) before the evaluation step: keep them sealed "
        "(course.holdout.split_and_seal) until then."
    ]


def test_problems_include_the_exercise_markup():
    found = problems_of(ran("x = 1", tags=["solution"]))
    assert any("'# solution'" in problem for problem in found)


def test_run_executes_in_a_fresh_kernel_and_normalizes(tmp_path):
    path = tmp_path / "demo.ipynb"
    (tmp_path / "data.txt").write_text("read from the notebook folder")
    source = new_notebook(
        cells=[
            new_code_cell("import os\nprint(os.environ['TF_ENABLE_ONEDNN_OPTS'])"),
            new_code_cell("open('data.txt').read()"),
        ]
    )
    nbformat.write(source, path)
    notebooks.run(path)
    nb = notebooks.read(path)
    assert nb.cells[0].outputs[0].text == "0\n"  # kernels get TensorFlow's quiet settings
    assert nb.cells[1].outputs[0].data["text/plain"] == "'read from the notebook folder'"
    assert [cell.execution_count for cell in nb.cells] == [1, 2]
    assert notebooks.is_normalized(path)
    assert notebooks.problems(nb) == []


def test_run_reports_the_failing_cell(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("raise ValueError('boom')")]), path)
    with pytest.raises(Exception, match="boom"):
        notebooks.run(path)
    assert not Path(path).read_text().count('"output_type"')  # the file is left as it was


def test_normalize_joins_the_pieces_of_one_printed_stream():
    cell = new_code_cell(
        "for i in range(3): print(i)",
        execution_count=1,
        outputs=[
            new_output("stream", name="stdout", text="0\n"),
            new_output("stream", name="stdout", text="1\n2\n"),
            new_output("stream", name="stderr", text="careful\n"),
            new_output("execute_result", data={"text/plain": "3"}, execution_count=1),
            new_output("stream", name="stdout", text="after\n"),
        ],
    )
    nb = notebooks.normalize(new_notebook(cells=[cell]))
    outputs = nb.cells[0].outputs
    assert [(o.output_type, o.get("name"), o.get("text")) for o in outputs] == [
        ("stream", "stdout", "0\n1\n2\n"),
        ("stream", "stderr", "careful\n"),
        ("execute_result", None, None),
        ("stream", "stdout", "after\n"),
    ]
