// Runs a Python script in pyodide (CPython compiled to WebAssembly) under node, with host folders mounted.
//
//   node tests/pyodide_run.mjs [--mount DIR]... [--path DIR]... PYODIDE_DIR SCRIPT [ARG]...
//
// PYODIDE_DIR is an installed npm `pyodide` package. Each --mount DIR (and each --path DIR, which is also
// appended to sys.path) is the host folder, read and written in place, at the same path inside. SCRIPT runs
// as __main__ with sys.argv = [SCRIPT, ARG...] and node's stdout and stderr. Exit code: the script's
// SystemExit code, 1 if it raised anything else, else 0. No network: nothing is loaded from a CDN.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mount: { type: "string", multiple: true, default: [] },
    path: { type: "string", multiple: true, default: [] },
  },
});
if (positionals.length < 2) {
  console.error("usage: node pyodide_run.mjs [--mount DIR]... [--path DIR]... PYODIDE_DIR SCRIPT [ARG]...");
  process.exit(2);
}
const [pyodideDir, script, ...args] = positionals.map((arg, i) => (i < 2 ? path.resolve(arg) : arg));
const paths = values.path.map((dir) => path.resolve(dir));
const folders = [...values.mount.map((dir) => path.resolve(dir)), ...paths, path.dirname(script)];

const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({
  indexURL: pyodideDir + path.sep,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

// Mount each folder once: one inside a folder already mounted is reached through it.
const { FS } = pyodide;
const roots = [...new Set(folders)].sort();
for (const [i, dir] of roots.entries()) {
  if (roots.slice(0, i).some((root) => dir.startsWith(root + path.sep))) continue;
  FS.mkdirTree(dir);
  FS.mount(FS.filesystems.NODEFS, { root: dir }, dir);
}

// JSON strings and lists are Python literals.
const status = pyodide.runPython(`
import runpy, sys, traceback

def _run() -> int:
    sys.dont_write_bytecode = True  # no pyc files of this interpreter in the mounted host folders
    sys.path.extend(${JSON.stringify(paths)})
    sys.argv = ${JSON.stringify([script, ...args])}
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0

_run()
`);
process.exitCode = status;
