"""Plots, checked on what they draw."""

from __future__ import annotations

import numpy as np
import pytest

import lrsched as ls

matplotlib = pytest.importorskip("matplotlib", reason="installed by the README test command")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lrsched.plotting import envelope  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def curves(ax):
    return [line for line in ax.lines if line.get_gid() == "schedule"]


def marks(ax):
    return sorted(line.get_xdata()[0] for line in ax.lines if line.get_gid() == "boundary")


def test_one_schedule_draws_its_values_and_marks_its_boundaries():
    s = ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)
    ax = ls.plot(s, 1000)
    (line,) = curves(ax)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 1001))
    np.testing.assert_array_equal(line.get_ydata(), s.values(1000))
    assert marks(ax) == [100.0, 1000.0]
    assert ax.get_xlabel() == "iteration t" and ax.get_ylabel() == "learning rate"
    assert ax.get_yscale() == "linear"


def test_several_schedules_with_labels_log_scale_and_epochs():
    a, b = ls.constant(0.1), ls.exponential(0.1, 0.99)
    ax = ls.plot([a, b], 500, labels=["flat", "decay"], log=True, steps_per_epoch=50)
    assert [line.get_label() for line in curves(ax)] == ["flat", "decay"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["flat", "decay"]
    assert ax.get_yscale() == "log"
    tops = [c for c in ax.child_axes if c.get_xlabel() == "epoch"]
    assert len(tops) == 1
    np.testing.assert_array_equal(curves(ax)[1].get_ydata(), b.values(500))


def test_default_labels_are_the_reprs():
    s = ls.linear(1.0, 0.0, 10)
    ax = ls.plot([s, 2 * s], 10)
    assert [line.get_label() for line in curves(ax)] == [repr(s), repr(2 * s)]


def test_long_ranges_keep_spikes_and_drops():
    n = 2_000_000
    spike = ls.join(
        [ls.constant(0.1), ls.constant(5.0), ls.constant(0.1), ls.constant(0.0), ls.constant(0.1)],
        boundaries=[700_000, 700_001, 1_300_000, 1_300_001],
    )
    ax = ls.plot(spike, n)
    (line,) = curves(ax)
    assert len(line.get_xdata()) <= 4000
    y = line.get_ydata()
    assert y.max() == 5.0 and y.min() == 0.0
    assert line.get_xdata()[np.argmax(y)] == 700_001.0


def test_envelope_orders_min_and_max_as_they_occur():
    values = np.r_[np.linspace(0, 1, 10_000), np.linspace(1, 0, 10_000)]
    t, y = envelope(values, max_points=200)
    assert np.all(np.diff(t) >= 0)
    assert y.max() == 1.0 and y.min() == 0.0


def test_plot_into_given_axes_and_many_boundaries_unmarked():
    _, ax = plt.subplots()
    out = ls.plot(ls.sgdr(0.1, 10), 2000, ax=ax)
    assert out is ax
    assert marks(ax) == []  # 200 restarts: too many to mark


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ls.plot("cosine", 10), TypeError, "schedules must be a schedule"),
        (lambda: ls.plot(ls.constant(1), 0), ValueError, "n must be >= 1"),
        (lambda: ls.plot(ls.constant(1), 10, labels="one"), ValueError, "labels must be a list of 1"),
        (lambda: ls.plot(ls.constant(1), 10, steps_per_epoch=0), ValueError, "steps_per_epoch must be >= 1"),
    ],
)
def test_bad_plot_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("epochs", [None, 500])
def test_a_saved_plot_keeps_its_axis_labels_inside_the_figure(tmp_path, epochs):
    ax = ls.plot(ls.warmup(ls.cosine(0.1, 0.0, steps=900), steps=100), 1000, steps_per_epoch=epochs)
    ax.figure.savefig(tmp_path / "s.png")  # the draw that lays the figure out, as a user saves it
    figure = ax.figure.bbox
    renderer = ax.figure.canvas.get_renderer()
    for label in (ax.xaxis.label, ax.yaxis.label):
        box = label.get_window_extent(renderer)
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1 and figure.y0 <= box.y0 and box.y1 <= figure.y1, label
    plt.close(ax.figure)
