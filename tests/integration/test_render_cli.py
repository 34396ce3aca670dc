"""`rapport render FILE --data DATA.json [--snippets DIR] [--strict] [--html] [--repeat N]` as a user runs it."""
import json
import re
import subprocess

from conftest import rapport_bin


def render(tmp_path, template, data=None, *args):
    tpl = tmp_path / "t.liquid"
    tpl.write_text(template)
    cmd = [rapport_bin(), "render", str(tpl)]
    if data is not None:
        (tmp_path / "data.json").write_text(json.dumps(data))
        cmd += ["--data", str(tmp_path / "data.json")]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)


def test_renders_standard_liquid_to_stdout(tmp_path):
    r = render(tmp_path,
               "Hi {{ contact.first_name | default: 'friend' }}!\n"
               "{% for p in products limit: 2 %}{{ forloop.index }}. {{ p.name | upcase }} "
               "{{ p.price | times: 2 }}{% unless forloop.last %}, {% endunless %}{% endfor %}\n"
               "{{ 'a b&c' | url_encode }} {{ 7 | divided_by: 2 }} {{ 7.0 | divided_by: 2 }}",
               {"contact": {}, "products": [{"name": "tea", "price": 3}, {"name": "cup", "price": 1.5},
                                            {"name": "pot", "price": 20}]})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hi friend!\n1. TEA 6, 2. CUP 3.0\na+b%26c 3 3.5"


def test_snippets_html_escaping_and_raw(tmp_path):
    snippets = tmp_path / "snippets"
    snippets.mkdir()
    (snippets / "footer.liquid").write_text("-- {{ shop }}")
    data = {"shop": "Tea & Co", "note": "<b>hi</b>"}
    r = render(tmp_path, "{{ note }} {{ note | raw }} {% render 'footer', shop: shop %}", data,
               "--snippets", str(snippets), "--html")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "&lt;b&gt;hi&lt;/b&gt; <b>hi</b> -- Tea &amp; Co"
    plain = render(tmp_path, "{{ note }}", data)
    assert plain.stdout == "<b>hi</b>", "plain Liquid does not escape"


def test_errors_exit_1_with_line_and_column(tmp_path):
    r = render(tmp_path, "line one\n{% if x %}\nno end", {"x": 1})
    assert r.returncode == 1
    assert r.stdout == ""
    assert re.search(r"\b2:\d+", r.stderr), r.stderr
    unknown = render(tmp_path, "{{ x | no_such_filter }}", {"x": 1}, "--strict")
    assert unknown.returncode == 1 and "no_such_filter" in unknown.stderr
    undefined = render(tmp_path, "a\n  {{ missing }}", {}, "--strict")
    assert undefined.returncode == 1 and re.search(r"2:\d+", undefined.stderr), undefined.stderr
    lax = render(tmp_path, "a{{ missing }}b", {})
    assert lax.returncode == 0 and lax.stdout == "ab"
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    r = subprocess.run([rapport_bin(), "render", str(tmp_path / "t.liquid"), "--data", str(bad_json)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.strip(), r


def test_limits_stop_a_runaway_template(tmp_path):
    r = render(tmp_path, "{% for i in (1..1000000) %}{% for j in (1..1000000) %}x{% endfor %}{% endfor %}", {})
    assert r.returncode == 1
    assert "limit" in r.stderr.lower(), r.stderr


def test_repeat_reports_renders_per_second(tmp_path):
    r = render(tmp_path, "Hi {{ name }}", {"name": "Ada"}, "--repeat", "1000")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Hi Ada")
    assert re.search(r"[\d,.]+ renders/s", r.stderr), r.stderr
