"""A *safe* mark on figures drawn by the suite's disclosure-safe plotting functions.

Every public plotting function of :mod:`o4o_causal.plotting` draws aggregates (result
objects, binned counts above the threshold) and is decorated with :func:`safe_figure`.
The decorator marks the data artists the function drew (lines, collections, patches,
images, tables) and labels the figure with the function's qualified name.

The mark survives into an executed notebook: in an IPython kernel the display
formatters of :class:`matplotlib.figure.Figure` (``image/png``, ``image/jpeg``,
``image/svg+xml``, ``application/pdf``) are wrapped so that a safe figure is displayed
with output metadata ``{"o4o_sdc": {"safe": "<function>"}}`` under its MIME type.
:func:`o4o_causal.sdc.notebooks.scan_notebook` reports every other image.

A figure counts as safe only while every data artist in it was drawn by a safe
function: a scatter of microdata added afterwards to a marked Axes, or drawn on a
sibling Axes of the same figure, removes the mark. Reference lines (two points, no
markers) and text are allowed on top of a safe figure.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text

#: Key of the output metadata that carries the mark in an executed notebook.
METADATA_KEY = "o4o_sdc"
#: Image MIME types whose Figure formatter is wrapped.
IMAGE_MIMES: tuple[str, ...] = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")

#: Attribute set on functions decorated with :func:`safe_figure` (their qualified name).
SAFE_FUNCTION_ATTR = "o4o_sdc_safe_figure"
_ARTIST_ATTR = "_o4o_sdc_safe"
_FIGURE_ATTR = "_o4o_sdc_safe_how"
_WRAPPER_ATTR = "_o4o_sdc_wrapper"


def _figures(obj: object) -> Iterator[Figure]:
    """Yield the (root) figures of a Figure, SubFigure, Axes, or a container of them."""
    if isinstance(obj, Figure):
        yield obj
    elif isinstance(obj, SubFigure | Axes):
        root = obj.get_figure(root=True)
        if isinstance(root, Figure):
            yield root
    else:
        for item in _items(obj):
            yield from _figures(item)


def _items(obj: object) -> Iterable[object]:
    """Items of a container that may hold Axes (never iterates numeric arrays or frames)."""
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, list | tuple | set | frozenset):
        return obj
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return list(obj.ravel())
    return ()


def _axes_of(obj: object) -> list[Axes]:
    """Return the Axes in ``obj`` (an Axes, or a container of them)."""
    if isinstance(obj, Axes):
        return [obj]
    return [ax for item in _items(obj) for ax in _axes_of(item)]


def _generic(artists: Iterable[Artist]) -> list[Artist]:
    """Artists added with ``add_artist`` (e.g. an ``AnnotationBbox`` image), except text and legends."""
    return [a for a in artists if not isinstance(a, Text | Legend)]


def _data_artists(ax: Axes) -> list[Artist]:
    """Return the artists of ``ax`` that can carry data (not text, spines or legends)."""
    return [*ax.lines, *ax.collections, *ax.patches, *ax.images, *ax.tables, *_generic(ax.artists)]


def _all_data_artists(fig: Figure) -> list[Artist]:
    axes = fig.findobj(match=Axes, include_self=False)
    parts = [fig, *fig.findobj(match=SubFigure, include_self=False)]
    figure_level = [a for f in parts for a in (*f.images, *f.lines, *f.patches, *_generic(f.artists))]
    return [a for ax in axes if isinstance(ax, Axes) for a in _data_artists(ax)] + figure_level


def _is_reference(artist: Artist) -> bool:
    """Whether an unmarked artist is harmless: a straight reference line of two points without markers.

    A line with markers (``ax.plot(x, y, "o")``) draws points, possibly single persons.
    """
    if not isinstance(artist, Line2D) or np.size(artist.get_xdata()) > 2:
        return False
    return str(artist.get_marker()).strip().lower() in ("", "none")


def _mark_artists(artists: Iterable[Artist]) -> None:
    for artist in artists:
        setattr(artist, _ARTIST_ATTR, True)


def mark_safe(fig_or_ax: Any, how: str) -> Figure:
    """Mark a figure (or the data drawn on some Axes) as disclosure-safe.

    Parameters
    ----------
    fig_or_ax
        A Figure (every data artist in it is marked), or an Axes or array/sequence of
        Axes (the data artists on those Axes are marked).
    how
        What produced the figure, e.g. ``"o4o_causal.plotting.estimates.forest"``; shown
        in the output metadata and in scan reports. Mark only figures of aggregates.

    Returns
    -------
    Figure
        The (first) figure marked.

    Raises
    ------
    TypeError
        If ``fig_or_ax`` holds no matplotlib Figure or Axes.
    """
    figures = list(dict.fromkeys(_figures(fig_or_ax)))
    if not figures or not how:
        raise TypeError(
            f"mark_safe: expected a matplotlib Figure, Axes or array of Axes and a non-empty `how`, "
            f"found {type(fig_or_ax).__name__} and how={how!r}. Fix: pass what the plotting function returned"
        )
    axes = _axes_of(fig_or_ax)
    for fig in figures:
        if axes:
            _mark_artists(a for ax in axes if ax.get_figure(root=True) is fig for a in _data_artists(ax))
        else:
            _mark_artists(_all_data_artists(fig))
        setattr(fig, _FIGURE_ATTR, how)
    install_formatters()
    return figures[0]


def safe_label(fig_or_ax: Any) -> str | None:
    """Return what marked the figure safe, or ``None`` when it is not (or no longer) safe."""
    figures = list(_figures(fig_or_ax))
    if not figures:
        return None
    fig = figures[0]
    how = getattr(fig, _FIGURE_ATTR, None)
    if not isinstance(how, str):
        return None
    for artist in _all_data_artists(fig):
        if not getattr(artist, _ARTIST_ATTR, False) and not _is_reference(artist):
            return None
    return how


def is_safe_figure(fig: Any) -> bool:
    """Whether every data artist of the figure (of an Axes) was drawn by a safe plotting function."""
    return safe_label(fig) is not None


def _artist_ids(args: Iterable[object]) -> set[int]:
    """Ids of the data artists already present in the figures passed to a plotting function."""
    return {id(a) for arg in args for fig in _figures(arg) for a in _all_data_artists(fig)}


def safe_figure[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a plotting function whose figures show aggregates only.

    The decorated function marks what it drew -- every data artist added during the call
    to the figures it returns (Axes, Figure, or arrays of Axes) -- with its qualified
    name (see :func:`mark_safe`). Artists that were on a passed ``ax`` before the call
    stay unmarked.

    Raises
    ------
    TypeError
        If the decorated function returns no Figure or Axes.
    """
    how = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        before = _artist_ids([*args, *kwargs.values()])
        result = func(*args, **kwargs)
        figures = list(dict.fromkeys(_figures(result)))
        if not figures:
            raise TypeError(
                f"{how}: a @safe_figure function must return a Figure, Axes or array of Axes, "
                f"found {type(result).__name__}. Fix: return the Axes drawn on"
            )
        for fig in figures:
            _mark_artists(a for a in _all_data_artists(fig) if id(a) not in before)
            setattr(fig, _FIGURE_ATTR, how)
        install_formatters()
        return result

    setattr(wrapper, SAFE_FUNCTION_ATTR, how)
    return wrapper


def _wrap(inner: Callable[[Figure], Any]) -> Callable[[Figure], Any]:
    """Wrap a Figure display formatter so that safe figures carry the mark in their metadata."""

    def formatter(fig: Figure) -> Any:
        data = inner(fig)
        how = safe_label(fig)
        if data is None or how is None:
            return data
        metadata: dict[str, Any] = {}
        if isinstance(data, tuple) and len(data) == 2:  # e.g. retina PNG: (data, {width, height})
            data, extra = data
            metadata.update(extra or {})
        metadata[METADATA_KEY] = {"safe": how}
        return data, metadata

    setattr(formatter, _WRAPPER_ATTR, True)
    return formatter


def install_formatters() -> int:
    """Wrap the IPython display formatters of Figure so that safe figures are marked.

    Called by :func:`mark_safe` and :func:`safe_figure` each time they mark a figure:
    the inline backend (re)registers its formatters when pyplot is imported or the
    figure formats change, so the wrapper is installed after it, lazily. Outside IPython
    this does nothing.

    Returns
    -------
    int
        How many formatters were wrapped now (0 when already wrapped or not in IPython).
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return 0
    shell = ipython.get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return 0
    wrapped = 0
    for mime in IMAGE_MIMES:
        fmt = shell.display_formatter.formatters.get(mime)
        if fmt is None:
            continue
        try:
            current = fmt.lookup_by_type(Figure)
        except KeyError:
            continue
        if not getattr(current, _WRAPPER_ATTR, False):
            fmt.for_type(Figure, _wrap(current))
            wrapped += 1
    return wrapped


__all__ = [
    "IMAGE_MIMES",
    "METADATA_KEY",
    "SAFE_FUNCTION_ATTR",
    "install_formatters",
    "is_safe_figure",
    "mark_safe",
    "safe_figure",
    "safe_label",
]
