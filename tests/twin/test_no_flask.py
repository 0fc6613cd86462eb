"""twin/ is the core: importing every module of it must not import Flask."""

import subprocess
import sys


def test_twin_never_imports_flask():
    code = (
        "import pkgutil, importlib, sys, twin, layers\n"
        "for m in pkgutil.walk_packages(twin.__path__, 'twin.'):\n"
        "    importlib.import_module(m.name)\n"
        "for m in pkgutil.walk_packages(layers.__path__, 'layers.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'flask' or n.startswith(('flask.', 'werkzeug', 'web')))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
