"""Feedback without hidden tests: a preprocessor for `nbgrader generate_feedback`.

nbgrader 0.9.6 renders feedback from the autograded notebook, whose test cells autograde
restored from the instructor's source, hidden tests included; its feedback preprocessors are
only GetGrades and CSSHTMLHeaderPreprocessor (jupyter/nbgrader#917: hidden tests are shown in
feedback by design). The course's nbgrader_config.py puts this preprocessor after GetGrades: in
every cell with a hidden-test region it removes the region, as generate_assignment does, and
keeps of an error only its message, which for graders.learner.notebook is the learner-facing
feedback,
never a traceback that could quote the hidden code.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

from graders.learner.notebook import NotebookCheckFailed


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests, plus error outputs of hidden-test cells cut down to their message."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = message_only(output)
        return cell, resources


def message_only(error: NotebookNode) -> list[str]:
    """An error output's lines without any source: our feedback as is, else `Name: message`."""
    name, message = error.get("ename", "Error"), error.get("evalue", "")
    if name == NotebookCheckFailed.__name__:
        return message.splitlines()
    return [f"{name}: {message}"]
