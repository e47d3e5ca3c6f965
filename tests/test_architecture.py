"""The house rules of DESIGN.md §2–3, read from the code itself (no Django needed):

* imports run one way, by layer: basics → accounts → ledger → transactions → payments /
  disbursements → disputes / refunds → the top (pages, documents, treasury, privacy, escrow), and above
  it the partner API (partners);
  an app may import apps of lower layers, and apps of its own layer only without a cycle;
* no ``.status = …`` assignment of a money object outside its transition methods (the status
  fields are protected django-fsm fields; the transitions are declared once on the models);
* no ``select_for_update`` outside ``intrasa/locks.py``;
* no signal receiver moves money: the project's own signals are listeners only;
* the steps that move escrow money onward are called only by the flows that take the next step;
* ``faspay/`` (the one Faspay adapter) imports no project app, not even the other basics, and no
  Django model machinery; no other module speaks Faspay's wire formats itself.
"""
import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    {"intrasa", "audit", "notifications", "workdays", "faspay", "sandbox"},
    {"accounts"},
    {"ledger"},
    {"transactions"},
    {"payments", "disbursements", "paylinks"},
    {"disputes", "refunds"},
    {"pages", "documents", "treasury", "privacy", "escrow"},
    {"milestones"},
    # The partner API: calls transactions' and escrow's services and selectors; nothing imports it.
    {"partners"},
]
LAYER_OF = {app: level for level, apps in enumerate(LAYERS) for app in apps}
# The composition root: the URL conf and the Celery app see every app by nature.
ROOT_MODULES = {"intrasa/urls.py", "intrasa/celery.py", "intrasa/wsgi.py", "intrasa/asgi.py"}
# Money objects whose status only a transition may change.
STATE_MACHINES = {"EscrowTransaction", "Bill", "Payout", "Disbursement", "RefundRequest", "Dispute",
                  "PaymentLink", "MilestonePlan"}
# Steps that move escrow money onward, and the only modules that may call them.
ONWARD_STEPS = {"transaction_confirm", "transaction_auto_confirm", "transaction_resolve_release",
                "transaction_resolve_split", "transaction_refund", "transaction_open_dispute",
                "transaction_release_refused_refund", "return_inspection_uphold"}
FLOWS = {"escrow/services.py", "disputes/services.py", "transactions/services.py"}


def source_files():
    for app in LAYER_OF:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            yield relative, ast.parse(path.read_text(encoding="utf-8"))


def imported_apps(tree) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(LAYER_OF)


def app_graph():
    edges = defaultdict(lambda: defaultdict(set))
    for relative, tree in source_files():
        if relative in ROOT_MODULES:
            continue
        app = relative.split("/")[0]
        for other in imported_apps(tree) - {app}:
            edges[app][other].add(relative)
    return edges


def _imported_modules(tree) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_faspay_adapter_knows_no_project_app_and_no_models():
    offenders = []
    for path in sorted((ROOT / "faspay").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            top = module.split(".")[0]
            if (top in LAYER_OF and top != "faspay") or module.startswith(("django.db", "django.apps")):
                offenders.append(f"{relative} imports {module}")
    assert not offenders, "\n".join(offenders)


# What only ``faspay/`` may contain: Faspay's endpoint paths, and hand-rolled amount or signature
# code (each of which once existed in several apps, rounding differently).
FASPAY_ONLY = [re.compile(pattern) for pattern in (
    r"/account/v1\.0/", r"/cvr/[0-9]", r"\}\.00[\"']", r"hashlib\.md5", r"def _rupiah\b", r"def _amount\(value")]


def test_faspay_wire_details_live_only_in_the_adapter():
    offenders = []
    for relative, _tree in source_files():
        if relative.startswith(("faspay/", "sandbox/")):
            continue  # the adapter itself, and the provider's stand-in on the other end of the wire
        text = (ROOT / relative).read_text(encoding="utf-8")
        offenders += [f"{relative}: {needle.pattern}" for needle in FASPAY_ONLY if needle.search(text)]
    assert not offenders, "Faspay wire details outside faspay/:\n" + "\n".join(offenders)


def test_imports_run_one_way_by_layer():
    upward = [f"{app} → {other} ({', '.join(sorted(files)[:3])})"
              for app, targets in app_graph().items() for other, files in targets.items()
              if LAYER_OF[other] > LAYER_OF[app]]
    assert not upward, "imports that run upward:\n" + "\n".join(sorted(upward))


def test_the_app_graph_has_no_cycle():
    edges = {app: set(targets) for app, targets in app_graph().items()}
    visiting, done, cycles = set(), set(), []

    def visit(app, path):
        if app in visiting:
            cycles.append(" → ".join(path[path.index(app):] + [app]))
            return
        if app in done:
            return
        visiting.add(app)
        for other in sorted(edges.get(app, ())):
            visit(other, path + [app])
        visiting.discard(app)
        done.add(app)

    for app in sorted(edges):
        visit(app, [])
    assert not cycles, "import cycles between apps:\n" + "\n".join(cycles)


def _status_assignments(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    yield node.lineno


def test_no_status_is_assigned_outside_a_transition():
    offenders = []
    for relative, tree in source_files():
        if relative.startswith("sandbox/"):
            continue  # the provider's stand-in: its own rows, not INTRASA's money objects
        for line in _status_assignments(tree):
            offenders.append(f"{relative}:{line}")
    assert not offenders, "`.status =` outside a transition method:\n" + "\n".join(offenders)


def test_every_money_object_is_a_protected_state_machine():
    from django.apps import apps
    from django_fsm import FSMField

    for model in apps.get_models():
        if model.__name__ in STATE_MACHINES and model._meta.app_label != "sandbox":
            field = model._meta.get_field("status")
            assert isinstance(field, FSMField) and field.protected, model._meta.label


def test_rows_are_locked_only_by_the_lock_module():
    offenders = [f"{relative}:{node.lineno}" for relative, tree in source_files()
                 if relative != "intrasa/locks.py" and not relative.startswith("sandbox/")
                 for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and node.attr == "select_for_update"]
    assert not offenders, "select_for_update outside intrasa/locks.py:\n" + "\n".join(offenders)


def test_no_signal_receiver_of_the_project_moves_money():
    """Only django's own model signals (cache invalidation, login records) and two optional
    listeners remain: a new payout account checked at once, and payout promises counted again at
    once after a calendar change (both have a periodic job behind them; neither moves money). No
    project module defines a money signal any more."""
    defined = [relative for relative, tree in source_files()
               for node in ast.walk(tree)
               if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Signal"]
    assert sorted(defined) == ["accounts/signals.py", "workdays/signals.py"], defined


def test_onward_money_steps_are_called_only_by_their_flows():
    offenders = []
    for relative, tree in source_files():
        if relative in FLOWS:
            continue
        for node in ast.walk(tree):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if isinstance(node, (ast.Attribute, ast.Name)) and name in ONWARD_STEPS:
                offenders.append(f"{relative}:{node.lineno} {name}")
    assert not offenders, "onward money steps called outside their flows:\n" + "\n".join(offenders)


@pytest.mark.parametrize("label", ["transactions.EscrowTransaction", "payments.Bill", "refunds.RefundRequest",
                                   "disputes.Dispute", "paylinks.PaymentLink", "milestones.MilestonePlan"])
def test_graph_transitions_draws_each_state_machine(label):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("graph_transitions", label, stdout=out)
    assert "digraph" in out.getvalue() and "->" in out.getvalue()
