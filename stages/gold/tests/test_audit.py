"""`makerates audit` and POST /v2/audit: statements built from the ECB's real rates with known
markups recover every markup exactly, on weekdays, a weekend and TARGET holidays, either side
of 16:00 Europe/Berlin, across currencies of 0, 2 and 3 minor digits. The reads, the summary,
malformed rows, the CLI's exit codes and the HTTP route (both stores); the HTML report in a
headless Chromium."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import socket
import threading
import time
from decimal import Decimal, localcontext

import httpx
import pytest
import uvicorn
from makerates_gold import audit, audit_api, reader_cli
from makerates_gold.audit_cli import basis_points
from makerates_gold.sync import sync

FIRST, LAST = "2024-03-01", "2024-04-10"  # Good Friday 2024-03-29, Easter Monday 2024-04-01
AMOUNTS = {"USD": "1250.00", "GBP": "980.55", "EUR": "2000", "JPY": "250000", "KWD": "812.125"}
# (moment, from, to, markup, reference day, rate date): CET is +01:00 until 2024-03-31, then
# CEST +02:00; New York is -04:00 from 2024-03-10.
CASES = [
    ("2024-03-14T10:00:00+01:00", "USD", "JPY", "0.0035", "2024-03-13", "2024-03-13"),
    ("2024-03-14T16:00:00+01:00", "USD", "JPY", "0.017", "2024-03-14", "2024-03-14"),
    ("2024-03-14T14:59:59Z", "GBP", "USD", "0.03", "2024-03-13", "2024-03-13"),
    ("2024-03-14T15:00:00Z", "GBP", "USD", "0.03", "2024-03-14", "2024-03-14"),
    ("2024-03-14T10:30:00-04:00", "EUR", "USD", "0.017", "2024-03-13", "2024-03-13"),
    ("2024-03-14T11:30:00-04:00", "EUR", "USD", "0.017", "2024-03-14", "2024-03-14"),
    ("2024-03-16T12:00:00+01:00", "EUR", "USD", "0.0035", "2024-03-15", "2024-03-15"),
    ("2024-03-17T20:00:00+01:00", "USD", "KWD", "0.0035", "2024-03-17", "2024-03-15"),
    ("2024-03-29T17:00:00+01:00", "JPY", "USD", "0.03", "2024-03-29", "2024-03-28"),
    ("2024-04-01T18:00:00+02:00", "EUR", "JPY", "0.0035", "2024-04-01", "2024-03-28"),
    ("2024-04-02T09:00:00+02:00", "KWD", "EUR", "0.017", "2024-04-01", "2024-03-28"),
    ("2024-04-02T16:05:00+02:00", "USD", "JPY", "0.03", "2024-04-02", "2024-04-02"),
    ("2024-03-15", "USD", "JPY", "0.017", "2024-03-15", "2024-03-15"),
]


def publish(deployment, ecb) -> dict[str, dict[str, str]]:
    """The ECB's real rates of FIRST..LAST, KWD (3 minor digits) from cnb on the same days,
    and nbp's own USD (a provider series); synced."""
    days = ecb(FIRST, LAST)
    served = {d: {**rates, "KWD": f"0.33{n % 9 + 1}2"} for n, (d, rates) in enumerate(days.items())}
    nbp = {d: {"USD": str(Decimal(r["USD"]) + Decimal("0.0003"))} for d, r in days.items()}
    kwd = {(d, "KWD"): "cnb" for d in days}
    deployment.publish("silver-audit", served, sources=kwd, observations={"nbp": nbp})
    sync(deployment.settings, deployment.store())
    return served


@pytest.fixture
def hot(make_deployment, ecb):
    """One SQLite deployment (where the store does not matter) and its published days."""
    deployment = make_deployment("sqlite")
    return deployment, publish(deployment, ecb)


def per_eur(days: dict, day: str, code: str) -> Decimal:
    return Decimal(1) if code == "EUR" else Decimal(days[day][code])


def reference(days: dict, day: str, base: str, quote: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return per_eur(days, day, quote) / per_eur(days, day, base)


def exact(operation):
    with localcontext() as ctx:
        ctx.prec = 200
        return operation()


def statement(days: dict, *, column: str = "received", cases=CASES) -> str:
    """The CSV of CASES: what a provider keeping `markup` of each conversion pays out."""
    lines = [f"date,amount,from,to,{column}"]
    for moment, base, quote, markup, _, rate_date in cases:
        applied = exact(lambda: reference(days, rate_date, base, quote) * (1 - Decimal(markup)))  # noqa: B023
        paid = exact(lambda: Decimal(AMOUNTS[base]) * applied)  # noqa: B023
        value = paid if column == "received" else applied
        lines.append(f"{moment},{AMOUNTS[base]},{base},{quote},{format(value, 'f')}")
    return "\n".join(lines) + "\n"


def run_audit(deployment, text: str, **options) -> audit.Audit:
    chosen = audit.Options(**options)
    return audit.audit(deployment.store(), deployment.table, audit.read_csv(text), chosen)


def outcome(audited: audit.Audit) -> tuple[list[audit.Priced], list[audit.Rejected], dict]:
    """The priced rows, the rejected ones and the summary of one pass."""
    tally = audit.Tally(audited)
    priced = [r for r in tally.feed(audited.results()) if isinstance(r, audit.Priced)]
    return priced, tally.rejected, tally.summary()


# --- pricing ------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["received", "rate"])
def test_every_markup_is_recovered_exactly(hot, column):
    deployment, days = hot
    body = audit.as_json(run_audit(deployment, statement(days, column=column)))
    assert body["summary"]["unpriced_rows"] == []
    rows = body["rows"]
    assert len(rows) == len(CASES)
    for row, (moment, base, quote, markup, day, rate_date) in zip(rows, CASES, strict=True):
        assert (row["reference_day"], row["rate_date"]) == (day, rate_date), moment
        assert Decimal(row["reference_rate"]) == reference(days, rate_date, base, quote)
        assert Decimal(row["markup"]) == Decimal(markup)
        assert Decimal(row["markup_bps"]) == Decimal(markup) * 10000
        assert Decimal(row["markup_percent"]) == Decimal(markup) * 100
        assert Decimal(row["cost"]) == exact(lambda: Decimal(AMOUNTS[base]) * Decimal(markup))  # noqa: B023
        assert row["cost_currency"] == base and row["report_currency"] == "EUR"
    assert {r["reference_provider"] for r in rows if "KWD" not in (r["from"], r["to"])} == {"ecb"}
    assert [r["reference_provider"] for r in rows if "KWD" in (r["from"], r["to"])] == ["ecb+cnb", "cnb"]  # fmt: skip


def test_costs_in_the_report_currency_use_the_same_day(hot):
    deployment, days = hot
    result = run_audit(deployment, statement(days), report_currency="USD")
    for row, case in zip(audit.as_json(result)["rows"], CASES, strict=True):
        day, base = case[5], case[1]
        with localcontext() as ctx:
            ctx.prec = 50
            expected = exact(lambda: Decimal(row["cost"]) * per_eur(days, day, "USD")) / per_eur(days, day, base)  # noqa: B023  # fmt: skip
        assert Decimal(row["cost_report"]) == (Decimal(row["cost"]) if base == "USD" else expected)


def test_a_rounded_payout_shows_its_markup_to_the_basis_point(hot):
    deployment, days = hot
    day = "2024-03-15"
    rows = ["date,amount,from,to,received"]
    for markup, (base, quote) in zip(("0.0035", "0.017", "0.03"), [("USD", "JPY"), ("EUR", "USD"), ("GBP", "KWD")], strict=True):  # fmt: skip
        paid = exact(lambda: Decimal(1_000_000) * reference(days, day, base, quote) * (1 - Decimal(markup)))  # noqa: B023  # fmt: skip
        minor = {"JPY": "1", "USD": "0.01", "KWD": "0.001"}[quote]
        rows.append(f"{day},1000000,{base},{quote},{paid.quantize(Decimal(minor))}")
    result = run_audit(deployment, "\n".join(rows))
    shown = [basis_points(audit.bps(p.markup)) for p in outcome(result)[0]]
    assert shown == ["35.00", "170.00", "300.00"]


def test_another_reference_series(hot):
    deployment, days = hot
    text = "date,amount,from,to,rate\n2024-03-15,100,USD,EUR,0.9\n2024-03-15,100,USD,JPY,140\n"
    (priced,), (rejected,), _ = outcome(run_audit(deployment, text, reference="nbp"))
    nbp_usd = Decimal(days["2024-03-15"]["USD"]) + Decimal("0.0003")
    with localcontext() as ctx:
        ctx.prec = 50
        assert priced.reference == 1 / nbp_usd
    assert priced.provider == "nbp"
    assert rejected.reason == (
        "out of coverage: no nbp rate for JPY in force on 2024-03-15 (nbp never published JPY)"
    )
    ecb = run_audit(deployment, "date,amount,from,to,rate\n2024-03-15,1,USD,KWD,0.3\n", reference="ecb")  # fmt: skip
    assert [r.reason for r in outcome(ecb)[1]] == [
        "out of coverage: no ecb rate for KWD in force on 2024-03-15 (ecb never published KWD)"
    ]
    assert audit.parse_reference("Consensus") == audit.parse_reference("blend") == "blend"
    with pytest.raises(audit.AuditError, match="use blend"):
        audit.parse_reference("nobody")


def test_malformed_and_unpriceable_rows_are_listed_and_the_rest_audited(hot):
    deployment, days = hot
    good = statement(days, cases=CASES[:1]).splitlines()[1]
    bad = [
        "15/03/2024,100,USD,JPY,14000",
        '2024-03-15,"1,000",USD,JPY,14000',
        "2024-03-15,-5,USD,JPY,14000",
        "2024-03-15,100,US,JPY,14000",
        "2024-03-15,100,USD,USD,100",
        "2024-03-15,100,XYZ,JPY,14000",
        "2023-06-01,100,USD,JPY,14000",
        "1998-12-31,100,USD,JPY,14000",
        "2999-01-01,100,USD,JPY,14000",
        "2024-03-15,100,USD,JPY",
        "2024-03-15,100,USD,JPY,",
        "2024-03-15,1e-999999999,USD,JPY,1",
        f"2024-03-15,100,USD,JPY,1{'0' * 81}",
    ]
    text = "\n".join(["date,amount,from,to,received", bad[0], good, *bad[1:], ""])
    body = outcome(run_audit(deployment, text))[2]
    assert (body["rows"], body["priced"], body["unpriced"]) == (14, 1, 13)
    reasons = {r["line"]: r["reason"] for r in body["unpriced_rows"]}
    assert reasons[2].startswith("malformed date: '15/03/2024' is not a date or ISO 8601")
    assert reasons[4].startswith("malformed amount: '1,000' is not a positive number")
    assert reasons[5].startswith("malformed amount: '-5'")
    assert reasons[6].startswith("malformed from: 'US' is not a three-letter currency code")
    assert reasons[7] == "malformed row: from and to are both USD"
    assert reasons[8].startswith("unknown currency 'XYZ'")
    assert reasons[9] == (
        "out of coverage: no blend rate for USD in force on 2023-06-01 (blend has USD from "
        f"{FIRST} to {LAST})"
    )
    assert "before 1999-01-04" in reasons[10] and "in the future" in reasons[11]
    assert reasons[12] == "malformed row: 4 fields, the header has 5"
    assert reasons[13].startswith("malformed received: empty is not")
    assert reasons[14].startswith("malformed amount: '1e-999999999' is not a positive number")
    assert reasons[15].startswith("malformed received: '10000") and "80 digits" in reasons[15]
    assert all("\n" not in r for r in reasons.values())


def test_reads_are_batch_gets_of_at_most_100_keys(hot, counting):
    deployment, days = hot
    store = counting(deployment.store())
    text = statement(days)  # two months, 13 rows
    result = audit.audit(store, deployment.table, audit.read_csv(text), audit.Options())
    assert store.operations == ["batch_get", "batch_get"]  # DAY# months + META; RATES days
    assert result.requests == 2
    book = audit.Book(("ecb", "blend"), set())
    months = [f"{y}-{m:02}" for y in range(2000, 2013) for m in range(1, 13)]
    batches = audit._month_keys(book, months, [("META", "CURRENCIES")])
    assert [len(b) for b in batches] == [99, 100, 100, 14]  # 1 + 2 * 156 keys
    assert batches[0][1:3] == [("DAY#ecb", "2000-01"), ("DAY#blend", "2000-01")]


def test_the_summary(hot):
    deployment, days = hot
    result = audit.as_json(run_audit(deployment, statement(days)))
    body = result["summary"]
    costs = [Decimal(r["cost_report"]) for r in result["rows"]]
    assert Decimal(body["total_cost"]) == exact(lambda: sum(costs))
    markups = sorted(Decimal(c[3]) * 10000 for c in CASES)
    assert body["markup_bps"]["median"] == "170" == audit.decimal_text(markups[6])
    assert (body["markup_bps"]["worst"], body["markup_bps"]["best"]) == ("300", "35")
    with localcontext() as ctx:
        ctx.prec = 50
        assert Decimal(body["markup_bps"]["mean"]) == exact(lambda: sum(markups)) / 13
    assert [e["pair"] for e in body["per_pair"]] == [
        "EUR/JPY", "EUR/USD", "GBP/USD", "JPY/USD", "KWD/EUR", "USD/JPY", "USD/KWD",
    ]  # fmt: skip
    usd_jpy = next(e for e in body["per_pair"] if e["pair"] == "USD/JPY")
    assert (usd_jpy["rows"], usd_jpy["amount"]) == (4, "5000")
    assert [(m["month"], m["rows"]) for m in body["per_month"]] == [("2024-03", 10), ("2024-04", 3)]
    assert [w["markup_bps"] for w in body["worst"][:4]] == ["300", "300", "300", "300"]
    assert body["columns"] == {"date": "date", "amount": "amount", "from": "from", "to": "to", "received": "received"}  # fmt: skip


# --- columns ------------------------------------------------------------------------------


def test_columns_are_detected_or_named():
    header = ["Created At", "Amount Sent", "Source Currency", "Target Currency", "Target Amount"]
    columns = audit.detect_columns(header)
    assert (columns.date, columns.amount, columns.base, columns.quote) == (0, 1, 2, 3)
    assert (columns.received, columns.rate) == (4, None)
    both = audit.detect_columns(["date", "amount", "from", "to", "received", "rate"])
    assert (both.received, both.rate) == (4, None)
    named = audit.detect_columns(
        ["Tag", "Betrag", "Von", "Nach", "Kurs", "received"],
        {"date": "Tag", "amount": "betrag", "from": "Von", "to": "Nach", "rate": "Kurs"},
    )
    assert (named.date, named.amount, named.rate, named.received) == (0, 1, 4, None)
    with pytest.raises(audit.AuditError, match=r"^no amount column: name it with --amount-column"):
        audit.detect_columns(["date", "from", "to", "received"])
    with pytest.raises(audit.AuditError, match="neither an amount received nor a rate"):
        audit.detect_columns(["date", "amount", "from", "to"])
    with pytest.raises(audit.AuditError, match="--amount-column 'Sum': no such column"):
        audit.detect_columns(["date", "amount", "from", "to", "rate"], {"amount": "Sum"})


def test_statement_formats_and_bounds(monkeypatch):
    table = audit.read_csv("\ufeffdate;amount;from;to;rate\n\n2024-03-15;1;USD;JPY;150\n")
    assert table.header == ["date", "amount", "from", "to", "rate"]
    assert list(table.records) == [(3, ["2024-03-15", "1", "USD", "JPY", "150"])]
    posted = audit.read_json('{"rows": [{"date": "2024-03-15", "amount": 1.10, "from": "USD", "to": "JPY", "rate": 150}]}')  # fmt: skip
    assert list(posted.records) == [(1, ["2024-03-15", "1.10", "USD", "JPY", "150"])]
    with pytest.raises(audit.AuditError, match="empty"):
        audit.read_csv("")
    with pytest.raises(audit.AuditError, match="not JSON"):
        audit.read_json("{")
    monkeypatch.setattr(audit, "MAX_ROWS", 2)
    with pytest.raises(audit.TooLarge, match="more than 2 rows"):
        list(
            audit.read_csv("date,amount,from,to,rate\n" + "2024-03-15,1,USD,JPY,150\n" * 3).records
        )
    monkeypatch.setattr(audit, "MAX_BYTES", 10)
    with pytest.raises(audit.TooLarge, match="over"):
        audit.read_csv("date,amount,from,to,rate\n")
    naive = audit.parse_moment("2024-03-14 15:30", audit.parse_zone("Europe/Berlin"))
    assert audit.cutoff_of("blend").day_of(naive).isoformat() == "2024-03-13"
    utc = audit.parse_moment("2024-03-14 15:30", audit.parse_zone("UTC"))
    assert audit.cutoff_of("blend").day_of(utc).isoformat() == "2024-03-14"
    assert audit.cutoff_of("nbp").text == "12:00 Europe/Warsaw"


# --- the command --------------------------------------------------------------------------


def test_the_command_table_json_and_csv(hot, tmp_path):
    deployment, days = hot
    path = tmp_path / "statement.csv"
    path.write_text(statement(days))
    shown = deployment.run("makerates", "audit", str(path))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split()[:4] == ["line", "ref.", "day", "pair"]
    assert "250,000 JPY" in shown.stdout and "812.125 KWD" in shown.stdout
    assert "1,250.00 USD" in shown.stdout and "0.3500%" in shown.stdout
    assert any(line.startswith("13 conversions, 13 priced against blend") for line in lines)
    assert lines[-1].startswith("money rounded half-even to each currency's minor unit")
    as_json = deployment.run("makerates", "audit", str(path), "--json")
    body = json.loads(as_json.stdout)
    assert body == audit.as_json(run_audit(deployment, statement(days)))
    as_csv = deployment.run("makerates", "audit", str(path), "--csv", "--reference", "ecb")
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(table) == len(CASES) and table[0]["markup"] == "0.0035"
    kwd = [r for r in table if "KWD" in (r["from"], r["to"])]
    assert [r["unpriced_reason"].split(" (")[0] for r in kwd] == [
        "out of coverage: no ecb rate for KWD in force on 2024-03-17",
        "out of coverage: no ecb rate for KWD in force on 2024-04-01",
    ]
    assert table[0]["date"] == CASES[0][0] and table[0]["reference_provider"] == "ecb"


def test_the_command_refuses_bad_input_in_one_line(hot, tmp_path, monkeypatch, capsys):
    deployment, days = hot
    good = tmp_path / "good.csv"
    good.write_text(statement(days, cases=CASES[:2]))
    no_amount = tmp_path / "no_amount.csv"
    no_amount.write_text("date,from,to,received\n2024-03-15,USD,JPY,1\n")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,amount,from,to,received\n2024-03-15,1,USD,JPY,1 \xe9\n".encode("latin-1"))  # fmt: skip
    huge = tmp_path / "huge.csv"
    huge.write_text("date,amount,from,to,rate\n" + "2024-03-15,1,USD,JPY,150\n" * (audit.MAX_ROWS + 1))  # fmt: skip
    cases = {
        "cannot read": [str(tmp_path / "missing.csv")],
        "no amount column": [str(no_amount)],
        "not UTF-8": [str(latin)],
        f"more than {audit.MAX_ROWS:,} rows": [str(huge)],
        "--reference 'nobody'": [str(good), "--reference", "nobody"],
        "--timezone 'Mars/Olympus'": [str(good), "--timezone", "Mars/Olympus"],
        "--report-currency 'XYZ': unknown currency": [str(good), "--report-currency", "XYZ"],
        "--report-currency 'EURO'": [str(good), "--report-currency", "EURO"],
        "give a file ending in .html": [str(good), "--report", str(tmp_path / "r.png")],
        "cannot write": [str(good), "--report", str(tmp_path / "no" / "r.html")],
    }
    for name in ("HOT_STORE", "LAKE_URL"):
        monkeypatch.setenv(name, deployment.env[name])
    for expected, args in cases.items():
        assert reader_cli.main(["audit", *args]) == 2, args
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
        assert out == ""
    done = deployment.run("makerates", "audit", str(tmp_path / "missing.csv"))
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr == f"error: cannot read {tmp_path / 'missing.csv'}: No such file or directory\n"
    )


# --- POST /v2/audit -----------------------------------------------------------------------


@contextlib.contextmanager
def serving(deployment):
    """The whole API (`create_app`) over real HTTP: a client."""
    from makerates_gold.api import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(deployment.settings), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def served(deployment, ecb):
    """The API on each store, over the published days."""
    days = publish(deployment, ecb)
    with serving(deployment) as client:
        yield deployment, days, client


def test_post_audit_answers_csv_and_json(served):
    deployment, days, client = served
    text = statement(days)
    posted = client.post("/v2/audit", content=text, headers={"content-type": "text/csv"})
    assert posted.status_code == 200, posted.text
    assert posted.json() == audit.as_json(run_audit(deployment, text))
    rows = list(csv.DictReader(io.StringIO(text)))
    as_json = client.post("/v2/audit", json={"rows": rows}, params={"report_currency": "usd"})
    body = as_json.json()
    assert as_json.status_code == 200 and body["summary"]["report_currency"] == "USD"
    assert [r["markup"] for r in body["rows"]] == [c[3] for c in CASES]
    renamed = text.replace("date,amount,from,to,received", "when,sent,ccy,into,got", 1)
    named = {"date_column": "when", "amount_column": "sent", "from_column": "ccy", "to_column": "into", "received_column": "got"}  # fmt: skip
    again = client.post("/v2/audit", content=renamed, params=named)
    assert [r["markup"] for r in again.json()["rows"]] == [c[3] for c in CASES]


def test_post_audit_refuses_with_a_reason(served, monkeypatch):
    _, days, client = served
    for body, params, reason in [
        ("", {}, "empty"),
        ("date,from,to,received\n", {}, "no amount column"),
        (statement(days), {"reference": "nobody"}, "use blend"),
        (statement(days), {"timezone": "Nowhere/Land"}, "not a time zone"),
        ("{", {}, "not JSON"),
    ]:
        kind = "application/json" if body.startswith("{") else "text/csv"
        answer = client.post("/v2/audit", content=body, params=params, headers={"content-type": kind})  # fmt: skip
        assert answer.status_code == 422, answer.text
        assert reason in answer.json()["message"]
    monkeypatch.setattr(audit_api, "MAX_BODY_BYTES", 1000)
    big = statement(days) * 3
    assert client.post("/v2/audit", content=big).status_code == 413
    streamed = client.post("/v2/audit", content=iter([big[:800].encode(), big[800:].encode()]))
    assert streamed.status_code == 413 and "over 1,000 bytes" in streamed.json()["message"]


# --- the report in a real browser ----------------------------------------------------------


# Debian's chromium (.ci/run installs it); else Playwright's own (`playwright install
# chromium`, as the GitHub workflow does). Neither: the test fails, it is never skipped.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_report_renders_in_headless_chromium(hot, tmp_path):
    from makerates_gold.audit_report import COLOURS, write
    from PIL import Image
    from playwright.sync_api import sync_playwright

    deployment, days = hot
    bad = "2024-03-15,100,XYZ,JPY,1\n"
    result = run_audit(deployment, statement(days) + bad)
    tally = audit.Tally(result)
    pairs = sorted({p.pair for p in tally.feed(result.results()) if isinstance(p, audit.Priced)})
    page_path = write(result, tally, str(tmp_path / "audit.html"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.resolve().as_uri())
        drawn = page.eval_on_selector_all("svg#markup-chart g.series", "gs => gs.map(g => g.dataset.pair)")  # fmt: skip
        assert drawn == pairs
        assert page.locator("#unpriced li").all_inner_texts() == [
            "line 15: unknown currency 'XYZ'; `makerates currencies` lists the known ones"
        ]
        shot = page.locator("svg#markup-chart").screenshot(path=str(tmp_path / "chart.png"))
        whole = page.screenshot(full_page=True)
        browser.close()
    assert errors == []
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and whole.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}
    assert len(colours) > 20  # not blank
    first = tuple(int(COLOURS[0][i : i + 2], 16) for i in (1, 3, 5))
    assert first in colours  # the first pair's line is on screen


def test_schemathesis_finds_no_server_error_in_post_audit(hot):
    """Property-based bodies and parameters from /openapi.json: never a 5xx, every status
    documented."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error, status_code_conformance

    deployment, _ = hot
    with serving(deployment) as client:
        spec = client.get("/openapi.json").json()
        schema = schemathesis.openapi.from_dict(spec).include(method="POST", path="/v2/audit")
        (operation,) = [result.ok() for result in schema.get_all_operations()]

        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(
                base_url=str(client.base_url), checks=[not_a_server_error, status_code_conformance]
            )

        check()
