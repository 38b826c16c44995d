"""Run flake8 with the plugins of some installed distributions left out, or with one plugin timed.

    python benchmarks/flake8_without.py DIST[,DIST...] [flake8 arguments]
    python benchmarks/flake8_without.py "" [flake8 arguments]      # every plugin, same launcher
    python benchmarks/flake8_without.py +DIST [flake8 arguments]   # every plugin, DIST's timed

The benchmark runs flake8 with and without flake8-peft-names through this launcher in the same
interpreter, so the two runs differ only by the plugin: same flake8, same pyflakes and pycodestyle,
same installed distributions. The plugin's entry point is dropped from flake8's plugin discovery
(`flake8.plugins.finder._find_importlib_plugins`, flake8 5 to 7), so it is never imported.

With `+DIST`, the CPU time of importing DIST's plugins and of their `run()` is summed in-process
and printed on stderr at exit as `plugin_cpu=S process_cpu=S` (run it with -j1): an estimate of the
plugin's share that the machine's noise cannot blur, since both numbers come from the same process.
"""
from __future__ import annotations

import atexit
import functools
import sys
import time


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from flake8.main.cli import main as flake8_main
    from flake8.plugins import finder
    from flake8.utils import normalize_pypi_name

    if argv[0].startswith("+"):
        _time_plugins(finder, normalize_pypi_name(argv[0][1:]), normalize_pypi_name)
        return flake8_main(argv[1:])

    inert = {normalize_pypi_name(name) for name in argv[0].split(",") if name.strip()}
    discover = finder._find_importlib_plugins

    def kept():
        for plugin in discover():
            if normalize_pypi_name(plugin.package) not in inert:
                yield plugin

    finder._find_importlib_plugins = kept
    return flake8_main(argv[1:])


def _time_plugins(finder, timed: str, normalize) -> None:
    spent = [0.0]
    load = finder._load_plugin

    def timed_run(run):
        @functools.wraps(run)
        def wrapper(self):
            results = run(self)
            while True:
                start = time.process_time()
                try:
                    item = next(results)
                except StopIteration:
                    return
                finally:
                    spent[0] += time.process_time() - start
                yield item

        return wrapper

    def loading(plugin):
        if normalize(plugin.package) != timed:
            return load(plugin)
        start = time.process_time()
        loaded = load(plugin)
        spent[0] += time.process_time() - start
        if isinstance(loaded.obj, type) and hasattr(loaded.obj, "run"):
            loaded.obj.run = timed_run(loaded.obj.run)
        return loaded

    finder._load_plugin = loading
    atexit.register(lambda: print(f"plugin_cpu={spent[0]:.4f} process_cpu={time.process_time():.4f}", file=sys.stderr))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
