"""scripts/check-module-deps: a wrong include fails, a declared one passes."""
import os
import subprocess
import sys

CHECKER = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "check-module-deps")


def tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path)


def run(src):
    return subprocess.run([sys.executable, CHECKER, src], capture_output=True, text=True)


BASE = {
    "core/CMakeLists.txt": "rapport_module(core DEPS fmt::fmt)\n",
    "core/model.h": "#pragma once\n",
    "store/CMakeLists.txt": "rapport_module(store DEPS rapport_core SQLite::SQLite3\n  TEST_DEPS rapport_mail)\n",
    "store/store.cpp": '#include "core/model.h"\n#include <vector>\n',
    "mail/CMakeLists.txt": "rapport_module(mail DEPS rapport_core)\n",
    "mail/mime.h": "#pragma once\n",
}


def test_declared_includes_pass(tmp_path):
    r = run(tree(tmp_path, BASE))
    assert r.returncode == 0, r.stdout


def test_core_including_store_fails_and_names_the_line(tmp_path):
    files = dict(BASE)
    files["core/clock.cpp"] = '#include "core/model.h"\n\n#include "store/store.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert "core/clock.cpp:3: module 'core' includes 'store/'" in r.stdout


def test_test_deps_are_allowed_only_in_tests(tmp_path):
    files = dict(BASE)
    files["store/store_test.cpp"] = '#include "mail/mime.h"\n'
    files["store/testing/fake.h"] = '#include "mail/mime.h"\n'
    assert run(tree(tmp_path, files)).returncode == 0
    files["store/store_impl.cpp"] = '#include "mail/mime.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert "store_impl.cpp:1" in r.stdout


def test_the_real_tree_keeps_the_module_map():
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    r = run(src)
    assert r.returncode == 0, r.stdout
