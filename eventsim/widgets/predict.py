"""``Predict``: predict-then-reveal. Commit to an answer first; only then see the explanation.

Asking for a prediction before running an experiment (will this record be lost? who becomes leader?) is
what makes the experiment teach something. The explanation stays hidden until the learner commits.
The static HTML (for GitHub / nbviewer) keeps the answer inside a closed ``<details>`` element.
"""
from __future__ import annotations

import ipywidgets as widgets

from .args import check_text
from .html import esc, page


class Predict(widgets.VBox):
    """Radio buttons with ``options``, a "Commit to my answer" button, then right/wrong and ``explanation``.

    ``answer`` is the right option, given as its text or its index in ``options``. After a commit,
    ``committed`` is True and ``correct`` tells whether the choice was right.
    """

    def __init__(self, question, options, answer, explanation):
        check_text(question, "question")
        if not isinstance(explanation, str):
            raise TypeError(f"explanation must be a str, got {explanation!r}")
        if not isinstance(options, (list, tuple)):
            raise TypeError(f"options must be a list of strings such as [\"yes\", \"no\"], got {options!r}")
        options = list(options)
        if len(options) < 2 or not all(isinstance(o, str) and o for o in options):
            raise ValueError(f"options must be at least two non-empty strings, got {options!r}")
        if len(set(options)) != len(options):
            raise ValueError(f"options must be distinct, got {options!r}")
        if isinstance(answer, int) and not isinstance(answer, bool):
            if not 0 <= answer < len(options):
                raise ValueError(f"answer index {answer} is not an index of options (0..{len(options) - 1})")
            answer = options[answer]
        if answer not in options:
            raise ValueError(f"answer {answer!r} is not one of the options {options!r}")
        self.question, self.options, self.answer, self.explanation = question, options, answer, explanation
        self.committed = False
        self.correct = None
        self.prompt = widgets.HTML(f'<div class="es"><b>Predict:</b> {esc(question)}</div>')
        self.choice = widgets.RadioButtons(options=options, value=None, layout=widgets.Layout(width="auto"))
        self.commit_button = widgets.Button(description="Commit to my answer", button_style="primary",
                                            layout=widgets.Layout(width="auto"))
        self.commit_button.on_click(lambda _b: self.commit())
        self.feedback = widgets.HTML("")
        super().__init__(children=[self.prompt, self.choice, self.commit_button, self.feedback])

    def commit(self):
        """Lock the chosen option and reveal whether it was right, with the explanation."""
        if self.committed:
            return
        if self.choice.value is None:
            self.feedback.value = '<div class="es">Pick an answer first, then commit to it.</div>'
            return
        self.committed = True
        self.correct = self.choice.value == self.answer
        self.choice.disabled = True
        self.commit_button.disabled = True
        verdict = ("Right." if self.correct else
                   f"Not quite: the answer is \u201c{esc(self.answer)}\u201d.")
        self.feedback.value = (f'<div class="es"><b>{verdict}</b> You chose \u201c{esc(self.choice.value)}\u201d.'
                               f'<br>{esc(self.explanation)}</div>')

    def _repr_html_(self):
        items = "".join(f"<li>{esc(o)}</li>" for o in self.options)
        return page(f'<div><b>Predict:</b> {esc(self.question)}</div><ol type="a">{items}</ol>'
                    f'<details><summary>Reveal the answer (commit to yours first)</summary>'
                    f'<b>{esc(self.answer)}</b>. {esc(self.explanation)}</details>', "predict")

    def __repr__(self):
        return f"Predict({self.question!r})"
