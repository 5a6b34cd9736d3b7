"""Numba set-up done by ``import sisso_lite``, before any kernel module imports numba.

Two things (see "First run" in ``docs/architecture.md``):

* **Cache directory.** Every kernel is ``@njit(cache=True)``. Unless the user has set
  ``NUMBA_CACHE_DIR``, it is set to a per-user directory,
  ``$XDG_CACHE_HOME/sisso-lite/numba`` (``~/.cache/sisso-lite/numba`` when
  ``XDG_CACHE_HOME`` is unset or relative; ``%LOCALAPPDATA%\\sisso-lite\\numba`` on
  Windows), always, not only when the package folder is read-only: one known place for
  every kind of install, nothing written into site-packages, and the place the compile
  notice names. numba creates it when it first caches; if it cannot, numba falls back to
  its own locations as without this module.
* **Compile notice.** The first time in a process that numba has to compile one of the
  package's kernels (a cache miss: numba broadcasts a ``"numba:compile"`` event only
  then), one line goes to stderr, so that the silent half minute of a first fit is
  explained. ``SISSO_LITE_QUIET=1`` silences it.

``import sisso_lite`` does not import numba (that costs half a second): the listener is
registered when numba is imported, by a one-shot finder on ``sys.meta_path``, or at once
when numba is already imported.
"""

from __future__ import annotations

import os
import sys
import threading

QUIET_ENV = "SISSO_LITE_QUIET"
_PACKAGE = __name__.rpartition(".")[0]

_lock = threading.Lock()
_registered = False
_noticed = False


def user_cache_dir() -> str:
    """The per-user numba cache directory of sisso-lite (XDG base-directory rule)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"),
                                                               "AppData", "Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # the XDG spec: ignore unset, empty or relative values
            base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sisso-lite", "numba")


def _quiet() -> bool:
    return os.environ.get(QUIET_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _notice(dispatcher) -> None:
    global _noticed
    func = getattr(dispatcher, "py_func", None)
    module = getattr(func, "__module__", None) or ""
    if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
        return
    with _lock:
        if _noticed:
            return
        _noticed = True
    if _quiet() or sys.stderr is None:
        return
    from numba.core import config

    where = config.CACHE_DIR
    cache_path = getattr(getattr(dispatcher, "_cache", None), "_cache_path", None)
    if cache_path and not (where and cache_path.startswith(where)):
        where = cache_path
    where = f"; cached in {where}" if where else ""
    sys.stderr.write("sisso-lite: compiling the numerical kernels on first use "
                     f"(once per install, ~30-60 s{where})\n")
    sys.stderr.flush()


def _register_listener() -> None:
    global _registered
    with _lock:
        if _registered:
            return
        _registered = True
    from numba.core import event

    class _CompileNotice(event.Listener):
        def on_start(self, evt):
            if _noticed:
                return
            try:
                _notice((evt.data or {}).get("dispatcher"))
            except Exception:  # a notice must never break a compilation
                pass

        def on_end(self, evt):
            pass

    event.register("numba:compile", _CompileNotice())


class _NumbaImportHook:
    """One-shot ``sys.meta_path`` finder: registers the listener right after numba loads."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "numba":
            return None
        _remove_hook()
        import importlib.util

        spec = importlib.util.find_spec(fullname)  # the remaining finders
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_register(module):
            try:
                exec_module(module)
            finally:
                loader.__dict__.pop("exec_module", None)
            _register_listener()

        try:
            loader.exec_module = exec_then_register
        except (AttributeError, TypeError):
            pass
        return spec


_hook = _NumbaImportHook()


def _remove_hook() -> None:
    try:
        sys.meta_path.remove(_hook)
    except ValueError:
        pass


def install() -> None:
    """Set ``NUMBA_CACHE_DIR`` (unless set) and arrange for the compile notice."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        path = user_cache_dir()
        os.environ["NUMBA_CACHE_DIR"] = path
        config = getattr(getattr(sys.modules.get("numba"), "core", None), "config", None)
        if config is not None:  # numba was imported first: it has read its config already
            config.CACHE_DIR = path
    if "numba" in sys.modules:
        _register_listener()
    elif _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)
